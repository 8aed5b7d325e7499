// A link dead one way only: the end that hears nothing tells the other over the way that still
// works (link-echo.ts tellDeaf), and the other, which still hears its neighbour's OGMs, asks over
// the echo and finds the link dead one way when no answer comes (rx-watch.ts peerDeaf,
// link-findings.ts); when the answer comes, the word alone does nothing. A notice that comes
// while the link is being asked about is asked about when that ends; a measurement that gets
// nothing back tells the neighbour as a lost probe does. The echo is real (LinkEcho sockets on
// the loopback stand for the two ends; a plain UDP socket for a neighbour that hears but never
// answers); the mesh tables are fed by hand. The real-kernel proof is
// test/guest/heal-purge.guest.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { Analyzer } from '../../src/mapek/analyze.ts';
import { Knowledge, linkKey } from '../../src/mapek/knowledge.ts';
import { RxWatch } from '../../src/mapek/rx-watch.ts';
import { LinkEcho } from '../../src/mesh/link-echo.ts';
import type { Originator } from '../../src/mesh/driver.ts';

const N = '02:00:00:00:03:04';
const IF = 'v4-3';
const KEY = linkKey(IF, N);
const NOW = 60_000;
let port = 42_000 + Math.floor(Math.random() * 2000) * 4;

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

/** This end (n4): hears N clean for a minute (TQ 240, no OGM late), its echo answered 20 s ago. */
function knowledge(answeredBefore = true): Knowledge {
  const k = new Knowledge();
  k.ogmIntervalMs = 1000;
  const route = (dest: string): Originator => ({ originator: dest, nextHop: N, hardIfname: IF, hardIfindex: 3, tq: 240, lastSeenMs: 300, best: true });
  k.mesh = {
    interfaces: [{ ifname: IF, ifindex: 3, address: '02:00:00:00:04:03', active: true, hopPenalty: 0 }],
    neighbours: [{ neighbour: N, hardIfname: IF, hardIfindex: 3, lastSeenMs: 300 }],
    originators: [route(N)], gateways: [], settings: null,
  };
  for (let t = 0; t <= NOW; t += 1000) {
    k.recordLinks([{ neighbour: N, hardIfname: IF, kind: 'tq', value: 240 }]);
    k.recordLiveness(t, [{ key: KEY, live: true }]);
    k.recordLateness(t, [{ key: KEY, late: false }]);
  }
  if (answeredBefore) k.recordEcho(KEY, NOW - 20_000, true);
  return k;
}

/**
 * n4's echo and watch, and N: a teller (N's notices leave from there) and, when the way to N
 * works, N's answering echo. With `hears`, a socket on N's port that counts the notices it gets
 * and answers nothing.
 */
async function ends(peerAnswers: boolean, hears = false) {
  const base = (port += 4);
  const k = knowledge();
  const notes: string[] = [];
  let polls = 0;
  let deafCalls = 0;
  let watch: RxWatch | null = null;
  const me = new LinkEcho({ port: base, peerPort: base + 1, addressOf: () => '::1', onDeaf: () => {
    deafCalls++;
    watch!.peerDeaf(IF, N);
  } });
  const teller = new LinkEcho({ port: base + 2, peerPort: base, addressOf: () => '::1' });
  const peer = new LinkEcho({ port: base + 1, peerPort: base, addressOf: () => '::1' });
  const deaf = dgram.createSocket('udp6');
  let noticesHeard = 0;
  deaf.on('message', (m) => m[3] === 3 && noticesHeard++);
  await me.start();
  await teller.start();
  if (peerAnswers) await peer.start();
  else if (hears) await new Promise<void>((r) => deaf.bind(base + 1, '::1', () => r()));
  watch = new RxWatch({ knowledge: k, readPackets: async () => ({ rx: 0, tx: 0 }), echo: me, pollSoon: () => polls++, now: () => NOW, note: (m) => notes.push(m) });
  return {
    k, watch, teller, notes,
    get polls() { return polls; },
    get deafCalls() { return deafCalls; },
    get noticesHeard() { return noticesHeard; },
    deadLink: () => new Analyzer(k, null).run(NOW).findings.find((f) => f.kind === 'link-dead') ?? null,
    close() {
      me.stop();
      teller.stop();
      peer.stop();
      if (hears) deaf.close();
    },
  };
}

test('the neighbour hears nothing from us and does not answer: dead one way, a poll asked for', async () => {
  const e = await ends(false);
  try {
    e.teller.tellDeaf(IF, N);
    await until(() => e.watch.stats.lost > 0);
    const found = e.deadLink();
    assert.ok(found, `link-dead expected: ${JSON.stringify(e.watch.stats)}; ${e.notes.join('; ')}`);
    assert.equal(found.subject, { ifname: IF, neighbour: N });
    assert.match(found.message, /dead one way: it hears nothing from us/);
    assert.is(found.evidence.liveOnInterface, 0);
    assert.ok(Number(found.evidence.oneWayMsAgo) >= 0);
    assert.is(e.polls, 1);
    assert.match(e.notes.join('\n'), /no answer: dead one way/);
    assert.equal([e.watch.stats.deafHeard, e.watch.stats.oneWay, e.watch.stats.deafTold], [1, 1, 0], 'counted for /metrics; nothing told back');
  } finally {
    e.close();
  }
});

test('the neighbour says so but answers the echo: nothing found, no poll', async () => {
  const e = await ends(true);
  try {
    e.teller.tellDeaf(IF, N);
    await until(() => e.notes.some((n) => /asked, /.test(n)));
    assert.is(e.deafCalls, 1);
    assert.is(e.watch.stats.probes, 1, 'asked once');
    assert.equal([e.watch.stats.deafHeard, e.watch.stats.oneWay], [1, 0]);
    assert.is(e.deadLink(), null);
    assert.is(e.polls, 0);
  } finally {
    e.close();
  }
});

test('a flood of notices from one address makes one call a second, and one probe', async () => {
  const e = await ends(true);
  try {
    for (let i = 0; i < 50; i++) e.teller.tellDeaf(IF, N);
    await until(() => e.notes.some((n) => /asked, /.test(n)));
    await new Promise((r) => setTimeout(r, 100));
    assert.is(e.deafCalls, 1);
    assert.is(e.watch.stats.probes, 1);
  } finally {
    e.close();
  }
});

test('a notice while the link is being asked (a keepalive): asked when that ends, then dead one way', async () => {
  const e = await ends(false);
  try {
    await e.watch.check(); // the link's first keepalive: unanswered, it holds the link for its 270 ms
    e.teller.tellDeaf(IF, N);
    await until(() => e.watch.stats.lost > 0);
    assert.match(e.notes.join('\n'), /asked when the ask under way ends/);
    assert.is(e.watch.stats.probes, 2, 'the keepalive, then the notice');
    assert.match(e.deadLink()?.message ?? '', /dead one way/);
  } finally {
    e.close();
  }
});

test('a measurement that gets nothing back tells the neighbour, as a lost probe does', async () => {
  const e = await ends(false, true);
  try {
    e.watch.peerMeasuring(IF, N); // the neighbour measuring a clean link: this end measures it too
    await until(() => e.noticesHeard > 0, 3000);
    assert.is(e.watch.stats.measurements, 1);
    assert.is(e.k.echoOf(KEY)?.delivery?.ratio, 0);
    assert.is(e.noticesHeard, 3, 'three copies');
    assert.is(e.watch.stats.deafTold, 1, 'one telling of three copies');
    assert.match(e.notes.join('\n'), /unanswered: told it/);
  } finally {
    e.close();
  }
});

test('a neighbour whose agent misses the first keepalive (it is starting) is asked again 5 s later, not 30 s', async () => {
  const base = (port += 4);
  const k = knowledge(false);
  let now = NOW;
  const me = new LinkEcho({ port: base, peerPort: base + 1, addressOf: () => '::1' });
  const peer = new LinkEcho({ port: base + 1, peerPort: base, addressOf: () => '::1' });
  await me.start();
  const watch = new RxWatch({ knowledge: k, readPackets: async () => ({ rx: 0, tx: 0 }), echo: me, pollSoon: () => {}, now: () => now });
  try {
    await watch.check(); // asked: nobody answers yet
    await until(() => false, 400);
    assert.is(k.echoOf(KEY), null, 'unanswered keepalives are not recorded');
    await peer.start(); // its agent is up now
    now += 4000;
    await watch.check();
    assert.is(watch.stats.probes, 1, 'not again after 4 s');
    now += 1000;
    await watch.check();
    await until(() => k.echoOf(KEY)?.answered === true, 1000);
    assert.is(watch.stats.probes, 2, 'again after 5 s');
    assert.is(k.echoOf(KEY)?.answeredAt, now, 'answered: the link is known');
    now += 10_000;
    await watch.check();
    assert.is(watch.stats.probes, 2, 'known: the next keepalive is 30 s away');
  } finally {
    me.stop();
    peer.stop();
  }
});

test.run();
