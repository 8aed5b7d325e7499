// A link dead one way only: the end that hears nothing tells the other over the way that still
// works (link-echo.ts tellDeaf), and the other, which still hears its neighbour's OGMs, asks over
// the echo and finds the link dead one way when no answer comes (rx-watch.ts peerDeaf,
// link-findings.ts); when the answer comes, the word alone does nothing. The echo is real (two
// LinkEcho sockets on the loopback stand for the two ends); the mesh tables are fed by hand.
// The real-kernel proof is test/guest/heal-purge.guest.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Analyzer } from '../../src/mapek/analyze.ts';
import { Knowledge, linkKey } from '../../src/mapek/knowledge.ts';
import { RxWatch } from '../../src/mapek/rx-watch.ts';
import { LinkEcho } from '../../src/mesh/link-echo.ts';
import type { Originator } from '../../src/mesh/driver.ts';

const N = '02:00:00:00:03:04';
const IF = 'v4-3';
const base = 42_000 + Math.floor(Math.random() * 2000) * 2;

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

/** This end (n4) hears N fine; N tells it that it hears nothing, then answers the echo or not. */
async function run(peerAnswers: boolean, copies = 1) {
  const k = new Knowledge();
  k.ogmIntervalMs = 1000;
  const now = 60_000;
  const route = (dest: string): Originator => ({ originator: dest, nextHop: N, hardIfname: IF, hardIfindex: 3, tq: 240, lastSeenMs: 300, best: true });
  k.mesh = {
    interfaces: [{ ifname: IF, ifindex: 3, address: '02:00:00:00:04:03', active: true, hopPenalty: 0 }],
    neighbours: [{ neighbour: N, hardIfname: IF, hardIfindex: 3, lastSeenMs: 300 }],
    originators: [route(N)], gateways: [], settings: null,
  };
  for (let t = 0; t <= now; t += 1000) {
    k.recordLinks([{ neighbour: N, hardIfname: IF, kind: 'tq', value: 240 }]);
    k.recordLiveness(t, [{ key: linkKey(IF, N), live: true }]);
  }
  k.recordEcho(linkKey(IF, N), now - 20_000, true); // a keepalive answered earlier
  let polls = 0;
  let deafCalls = 0;
  let watch: RxWatch | null = null;
  const me = new LinkEcho({ port: base, peerPort: base + 1, addressOf: () => '::1', onDeaf: () => {
    deafCalls++;
    watch!.peerDeaf(IF, N);
  } });
  // N's agent: its notice leaves from one socket; the one that would answer our echo runs only
  // when the way to N works (on a dead way the requests never reach it).
  const teller = new LinkEcho({ port: base + 2, peerPort: base, addressOf: () => '::1' });
  const peer = new LinkEcho({ port: base + 1, peerPort: base, addressOf: () => '::1' });
  await me.start();
  await teller.start();
  if (peerAnswers) await peer.start();
  watch = new RxWatch({ knowledge: k, readPackets: async () => ({ rx: 0, tx: 0 }), echo: me, pollSoon: () => polls++, now: () => now });
  try {
    for (let i = 0; i < copies; i++) teller.tellDeaf(IF, N);
    await until(() => deafCalls > 0);
    await until(() => watch!.stats.lost + (k.echoOf(linkKey(IF, N))?.askedAt === now ? 1 : 0) > 0);
    await new Promise((r) => setTimeout(r, 50 * copies));
    const found = new Analyzer(k, null).run(now).findings.find((f) => f.kind === 'link-dead') ?? null;
    return { found, polls, deafCalls, stats: { ...watch.stats } };
  } finally {
    me.stop();
    teller.stop();
    peer.stop();
  }
}

test('the neighbour hears nothing from us and does not answer: dead one way, a poll asked for', async () => {
  const r = await run(false);
  assert.ok(r.found, `link-dead expected: ${JSON.stringify(r.stats)}`);
  assert.equal(r.found.subject, { ifname: IF, neighbour: N });
  assert.match(r.found.message, /dead one way: it hears nothing from us/);
  assert.is(r.found.evidence.liveOnInterface, 0);
  assert.ok(Number(r.found.evidence.oneWayMsAgo) >= 0);
  assert.is(r.polls, 1);
});

test('the neighbour says so but answers the echo: nothing found, no poll', async () => {
  const r = await run(true);
  assert.is(r.deafCalls, 1);
  assert.is(r.stats.probes, 1, 'asked once');
  assert.is(r.found, null);
  assert.is(r.polls, 0);
});

test('a flood of notices from one address makes one call a second, and one probe', async () => {
  const r = await run(true, 50);
  assert.is(r.deafCalls, 1);
  assert.is(r.stats.probes, 1);
});

test.run();
