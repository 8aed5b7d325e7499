// A link whose traffic stops is asked over the link echo, and found dead in under half a second
// when nobody answers (src/mapek/rx-watch.ts, link-findings.ts). The echo is real (two LinkEcho
// sockets on the loopback stand for the two ends of the link); the counters the rx watch reads
// are fed by hand on a virtual clock, as in traffic-stop.test.ts, so each condition can be taken
// away on its own. The real-kernel figure is bench:heal's (a ping across the VM diamond).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Analyzer } from '../../src/mapek/analyze.ts';
import { Knowledge, linkKey } from '../../src/mapek/knowledge.ts';
import { RxWatch } from '../../src/mapek/rx-watch.ts';
import { LinkEcho } from '../../src/mesh/link-echo.ts';
import type { Neighbour, Originator } from '../../src/mesh/driver.ts';

const N = '02:00:00:00:02:01';
const IF = 'v1-2';
const base = 38_000 + Math.floor(Math.random() * 2000) * 2;

interface Case {
  /** Whether the neighbour's agent answers before the fault (it does not after it: the link is dead). */
  answersBefore: boolean;
  /** Whether it still answers after the fault (traffic that simply ended: the link is fine). */
  answersAfter: boolean;
  /** Packets a second received before the fault. */
  rxPerS: number;
  /** Ms after the fault at which the analyzer runs. */
  judgeAtMs: number;
  /** The neighbour is nobody's next hop. */
  noRoute?: boolean;
  /** Frames arrive while the silence is being asked about (a live link whose neighbour's agent is too slow to answer). */
  rxDuringProbe?: boolean;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

async function run(c: Case) {
  const me = new LinkEcho({ port: base, peerPort: base + 1, addressOf: () => '::1' });
  const peer = new LinkEcho({ port: base + 1, peerPort: base, addressOf: () => '::1' });
  await me.start();
  if (c.answersBefore) await peer.start();
  const k = new Knowledge();
  k.ogmIntervalMs = 1000;
  let now = 0;
  let polls = 0;
  const fault = 25_050; // between two keepalives (every 30 s)
  // Data plus OGMs in; our OGMs out (which keep moving after the fault: the link died, not our radio).
  let arrivedDuringProbes = 0;
  const packets = async () => ({ rx: Math.floor((Math.min(now, fault) * c.rxPerS) / 1000) + arrivedDuringProbes, tx: Math.floor(now * 0.003) });
  const echo = {
    probe: async (ifname: string, mac: string) => {
      const answer = me.probe(ifname, mac);
      if (c.rxDuringProbe && now > fault) arrivedDuringProbes += 2;
      return answer;
    },
    measure: (ifname: string, mac: string) => me.measure(ifname, mac),
    tellDeaf: (ifname: string, mac: string) => me.tellDeaf(ifname, mac),
  };
  const watch = new RxWatch({ knowledge: k, readPackets: packets, echo, pollSoon: () => polls++, now: () => now });
  const route = (dest: string): Originator => ({ originator: dest, nextHop: N, hardIfname: IF, hardIfindex: 3, tq: 250, lastSeenMs: 100, best: true });
  const interfaces = [{ ifname: IF, ifindex: 3, address: '02:00:00:00:01:02', active: true, hopPenalty: 0 }];
  const lastOgm = (t: number) => (t > fault ? fault - 50 : t - (t % 1000));
  const snapshot = (t: number) => {
    const neighbours: Neighbour[] = [{ neighbour: N, hardIfname: IF, hardIfindex: 3, lastSeenMs: t - lastOgm(t) }];
    k.mesh = { interfaces, neighbours, originators: c.noRoute ? [] : [route(N), route('02:00:00:00:04:02')], gateways: [], settings: null };
  };
  try {
    // The monitor's polls once a second (one full counter reading first), the watch's rounds between.
    for (now = 0; now <= fault + c.judgeAtMs; now += 100) {
      if (now % 1000 === 0) {
        snapshot(now);
        k.recordLinks([{ neighbour: N, hardIfname: IF, kind: 'tq', value: 250 }]);
        k.recordLiveness(now, [{ key: linkKey(IF, N), live: true }]);
        k.recordLateness(now, [{ key: linkKey(IF, N), late: false }]);
        const p = await packets();
        k.recordCounters(now, IF, { rxPackets: p.rx, txPackets: p.tx }, true);
        if (now === 0) continue;
      }
      if (now === fault + 50 && !c.answersAfter) peer.stop();
      if (now === fault + 50 && c.answersAfter && !c.answersBefore) await peer.start();
      const probes = watch.stats.probes;
      await watch.check();
      // Probes run in real time (a quarter second): the virtual clock waits for them.
      if (watch.stats.probes > probes) await until(() => k.echoOf(linkKey(IF, N))?.askedAt === now || watch.stats.unknown + watch.stats.lost > 0 || (!c.answersBefore && now < fault), 1000);
    }
    now -= 100;
    snapshot(now);
    const dead = new Analyzer(k, null).run(now).findings.find((f) => f.kind === 'link-dead') ?? null;
    return { dead, polls, stats: { ...watch.stats }, echo: k.echoOf(linkKey(IF, N)) };
  } finally {
    me.stop();
    peer.stop();
  }
}

test('traffic stops and the neighbour does not answer: dead 0.5 s after the fault, before its OGM is even overdue', async () => {
  const r = await run({ answersBefore: true, answersAfter: false, rxPerS: 25, judgeAtMs: 500 });
  assert.ok(r.dead, `link-dead expected; watch ${JSON.stringify(r.stats)}, echo ${JSON.stringify(r.echo)}`);
  assert.is(r.dead.subject.neighbour, N);
  assert.ok(Number(r.dead.evidence.lastSeenMs) < 1000, `OGM silent only ${String(r.dead.evidence.lastSeenMs)} ms`);
  assert.ok(r.dead.evidence.echoLostMsAgo !== undefined, 'the echo is the evidence');
  assert.match(r.dead.message, /did not answer the link echo/);
  assert.is(r.polls, 1, 'one poll asked for, at once');
  assert.is(r.stats.lost, 1);
});

test('traffic stops but the neighbour answers (the flow ended): no finding, no poll', async () => {
  const r = await run({ answersBefore: true, answersAfter: true, rxPerS: 25, judgeAtMs: 500 });
  assert.is(r.dead, null);
  assert.is(r.polls, 0);
  assert.is(r.echo?.answered, true);
  assert.ok(r.stats.probes >= 2, 'the keepalive and the silence were asked');
});

test('no answer, but frames came in meanwhile: the link lives (a slow agent there), no finding', async () => {
  const r = await run({ answersBefore: true, answersAfter: false, rxPerS: 25, judgeAtMs: 500, rxDuringProbe: true });
  assert.is(r.dead, null);
  assert.is(r.polls, 0);
  assert.is(r.stats.lost, 0);
  assert.is(r.echo?.answered, true);
});

test('a neighbour that never answered (no agent, no IPv6): its silence is left to the OGMs', async () => {
  const r = await run({ answersBefore: false, answersAfter: false, rxPerS: 25, judgeAtMs: 500 });
  assert.is(r.dead, null);
  assert.is(r.polls, 0);
  assert.is(r.stats.probes, 1, 'only the keepalive: nobody to ask about the silence');
});

test('a stream too thin to tell (OGMs alone): not asked before four packets are overdue', async () => {
  const r = await run({ answersBefore: true, answersAfter: false, rxPerS: 3, judgeAtMs: 500 });
  assert.is(r.dead, null);
  assert.is(r.stats.probes, 1);
});

test('a neighbour that is nobody\'s next hop is not watched', async () => {
  const r = await run({ answersBefore: true, answersAfter: false, rxPerS: 25, judgeAtMs: 500, noRoute: true });
  assert.is(r.dead, null);
  assert.is(r.stats.probes, 0);
});

test.run();
