// A nearly clean link that misses an OGM is measured over the link echo (20 echoes), and a
// delivery of 75 % or less makes it "dying" (steer-neighbour) while batman-adv's TQ still shows
// it good (src/mapek/rx-watch.ts, predict-link-death.ts). The echo runs over real UDP sockets on
// the loopback; between the two ends sits a relay that loses every third request (a stand-in
// for a fading radio link, which cannot exist here); the knowledge is fed by hand on a virtual
// clock. The real-kernel figure is bench:heal's fade.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { Analyzer } from '../../src/mapek/analyze.ts';
import { Knowledge, linkKey } from '../../src/mapek/knowledge.ts';
import { RxWatch } from '../../src/mapek/rx-watch.ts';
import { LinkEcho } from '../../src/mesh/link-echo.ts';
import type { Neighbour, Originator } from '../../src/mesh/driver.ts';

const N = '02:00:00:00:03:01';
const OTHER = '02:00:00:00:02:01';
const DEST = '02:00:00:00:04:02';
const IF = 'v1-3';
const base = 40_000 + Math.floor(Math.random() * 2000) * 3;

/** Relays requests from `me` to the peer and the replies back; after fade(), it loses every `loseEvery`-th request (0: none). */
async function relay(loseEvery: number): Promise<{ close: () => void; fade: () => void }> {
  const s = dgram.createSocket('udp6');
  let n = 0;
  let fading = false;
  let me: { address: string; port: number } | null = null;
  s.on('message', (m, r) => {
    if (r.port === base + 2) {
      if (me) s.send(m, me.port, me.address);
      return;
    }
    me = { address: r.address, port: r.port };
    if (fading && loseEvery > 0 && ++n % loseEvery === 0) return;
    s.send(m, base + 2, '::1');
  });
  await new Promise<void>((r) => s.bind(base + 1, '::1', () => r()));
  return { close: () => s.close(), fade: () => (fading = true) };
}

interface Case {
  loseEvery: number;
  /** This end never sees the link late (the neighbour is in its fast-OGM spell); the neighbour measures it at the fade. */
  peerMeasures?: boolean;
  /** Late OGMs the link had before this one (every 3 s from lateFrom, default 1 s). */
  latesBefore: number;
  /** When the link was first heard (ms; default 0). */
  lateFrom?: number;
  /** Its TQ (default 250, a clean link). */
  tq?: number;
}

async function run(c: Case) {
  const me = new LinkEcho({ port: base, peerPort: base + 1, addressOf: () => '::1' });
  const peer = new LinkEcho({ port: base + 2, addressOf: () => '::1' });
  const medium = await relay(c.loseEvery);
  await me.start();
  await peer.start();
  const k = new Knowledge();
  k.ogmIntervalMs = 1000;
  let now = 0;
  let polls = 0;
  const watch = new RxWatch({ knowledge: k, readPackets: async () => ({ rx: Math.floor(now / 50), tx: Math.floor(now / 300) }), echo: me, pollSoon: () => polls++, now: () => now });
  const key = linkKey(IF, N);
  const interfaces = [{ ifname: IF, ifindex: 3, address: '02:00:00:00:01:03', active: true, hopPenalty: 0 },
    { ifname: 'v1-2', ifindex: 2, address: '02:00:00:00:01:02', active: true, hopPenalty: 0 }];
  const originators: Originator[] = [
    { originator: DEST, nextHop: N, hardIfname: IF, hardIfindex: 3, tq: 220, lastSeenMs: 100, best: true },
    { originator: DEST, nextHop: OTHER, hardIfname: 'v1-2', hardIfindex: 2, tq: 170, lastSeenMs: 100, best: false },
  ];
  const heardFrom = c.lateFrom ?? 0;
  const lateAt = new Set(Array.from({ length: c.latesBefore }, (_, i) => heardFrom + 1000 + i * 3000));
  const fadeAt = 90_000;
  try {
    for (now = heardFrom; now <= fadeAt + 4000; now += 100) {
      if (now === fadeAt) medium.fade();
      if (now % 1000 === 0) {
        // The fading link misses its OGM at fadeAt (1.6 s since the last); before that, at lateAt.
        const lastSeenMs = (now === fadeAt && !c.peerMeasures) || lateAt.has(now) ? 1600 : 200;
        const neighbours: Neighbour[] = [{ neighbour: N, hardIfname: IF, hardIfindex: 3, lastSeenMs }, { neighbour: OTHER, hardIfname: 'v1-2', hardIfindex: 2, lastSeenMs: 300 }];
        k.mesh = { interfaces, neighbours, originators, gateways: [], settings: null };
        k.recordLinks([{ neighbour: N, hardIfname: IF, kind: 'tq', value: c.tq ?? 250 }, { neighbour: OTHER, hardIfname: 'v1-2', kind: 'tq', value: 250 }]);
        k.recordLiveness(now, neighbours.map((n) => ({ key: linkKey(n.hardIfname, n.neighbour), live: true })));
        k.recordLateness(now, neighbours.map((n) => ({ key: linkKey(n.hardIfname, n.neighbour), late: n.lastSeenMs >= 1500 })));
        k.recordCounters(now, IF, { rxPackets: Math.floor(now / 50), txPackets: Math.floor(now / 300) }, true);
      }
      const before = watch.stats.measurements + watch.stats.probes;
      if (now === fadeAt + 100 && c.peerMeasures) watch.peerMeasuring(IF, N);
      await watch.check();
      // Echoes run in real time: the virtual clock waits for them.
      if (watch.stats.measurements + watch.stats.probes > before) {
        const end = Date.now() + 3000;
        while (Date.now() < end && (watch as unknown as { probing: Set<string> }).probing.size > 0) await new Promise((r) => setTimeout(r, 10));
      }
    }
    now -= 100;
    const dying = new Analyzer(k, null).run(now).findings.find((f) => f.kind === 'link-dying') ?? null;
    return { dying, polls, stats: { ...watch.stats }, delivery: k.echoOf(key)?.delivery ?? null };
  } finally {
    me.stop();
    peer.stop();
    medium.close();
  }
}

test('a clean link that misses an OGM and delivers two echoes in three: dying, steered, before its TQ moved', async () => {
  const r = await run({ loseEvery: 3, latesBefore: 0 });
  assert.ok(r.delivery, `measured; watch ${JSON.stringify(r.stats)}`);
  // 20 requests, every third lost on the way: 14 answered.
  assert.is(r.delivery.ratio, 14 / 20);
  assert.ok(r.dying, 'link-dying expected');
  assert.is(r.dying.subject.neighbour, N);
  assert.is(r.dying.evidence.delivery, 0.7);
  assert.match(r.dying.message, /fading: 70 % of its link echoes answered/);
  assert.ok(r.polls >= 1, 'a poll asked for at once');
});

test('a clean link that misses an OGM by chance and answers every echo: measured once, no finding', async () => {
  const r = await run({ loseEvery: 0, latesBefore: 0 });
  assert.is(r.delivery?.ratio, 1);
  assert.is(r.dying, null);
  assert.is(r.stats.measurements, 1, `healthy: the suspicion ends; ${JSON.stringify(r)}`);
  assert.is(r.polls, 0);
});

test('the neighbour measures the link (this end never saw it late): measured from here too, dying', async () => {
  const r = await run({ loseEvery: 3, latesBefore: 0, peerMeasures: true });
  assert.is(r.stats.measurements >= 1, true, JSON.stringify(r.stats));
  assert.ok(r.dying, 'link-dying expected');
  assert.is(r.dying.evidence.delivery, 0.7);
});

test('the neighbour measures a link that answers every echo: no finding', async () => {
  const r = await run({ loseEvery: 0, latesBefore: 0, peerMeasures: true });
  assert.is(r.stats.measurements, 1);
  assert.is(r.dying, null);
});

test('a lossy link met half a minute ago (two misses already): not taken for a clean one starting to fade', async () => {
  const r = await run({ loseEvery: 3, latesBefore: 2, lateFrom: 60_000 });
  assert.is(r.stats.measurements, 0);
  assert.is(r.dying, null);
});

test('a link whose TQ sits at 200 (its loss both ways) is no clean one, even without a late OGM on record', async () => {
  const r = await run({ loseEvery: 3, latesBefore: 0, tq: 200 });
  assert.is(r.stats.measurements, 0);
  assert.is(r.dying, null);
});

test('a lossy link (late OGMs all along) is never measured: its misses are its normal', async () => {
  const r = await run({ loseEvery: 3, latesBefore: 20 });
  assert.is(r.stats.measurements, 0);
  assert.is(r.dying, null);
});

test.run();
