// The radio watch's judgement (src/mapek/radio-fade.ts) and its path to a finding
// (radio-watch.ts, predict-link-death.ts): station counters as mac80211 keeps them, produced here
// by a seeded model of a Wi-Fi link (frames tried up to 11 times, as minstrel's rate table on
// mac80211_hwsim did, each attempt lost with the
// link's loss there and back; the signal with ±2 dB of noise). The real radios' figures are
// test/guest/wifi-stations.guest.ts (mac80211_hwsim) and bench:heal's wifi substrate.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Analyzer } from '../../src/mapek/analyze.ts';
import { Knowledge, linkKey } from '../../src/mapek/knowledge.ts';
import { judgeRadio, type RadioSample } from '../../src/mapek/radio-fade.ts';
import { RadioWatch } from '../../src/mapek/radio-watch.ts';
import type { Neighbour, Originator } from '../../src/mesh/driver.ts';
import type { StationStats } from '../../src/mesh/radio-stations.ts';

/** mulberry32: the same link every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A link's per-direction loss and mean signal at time t (ms). */
type Weather = (t: number) => { loss: number; signal: number };

/** Cumulative station counters every 250 ms, 5 unicast frames per step (20/s), as mac80211 counts them. */
class LinkModel {
  private readonly rnd: () => number;
  private c = { txPackets: 0, txRetries: 0, txFailed: 0 };
  constructor(seed: number, private readonly weather: Weather) {
    this.rnd = prng(seed);
  }
  sample(t: number): RadioSample {
    const { loss, signal } = this.weather(t);
    const attemptFails = 1 - (1 - loss) * (1 - loss);
    for (let f = 0; f < 5; f++) {
      this.c.txPackets++;
      let tries = 1;
      while (this.rnd() < attemptFails && tries < 11) tries++;
      this.c.txRetries += tries - 1;
      if (tries === 11 && this.rnd() < attemptFails) this.c.txFailed++;
    }
    return { at: t, ...this.c, signalDbm: Math.round(signal + (this.rnd() * 4 - 2)) };
  }
}

/** Judges the link every 250 ms from 0 to untilMs; the times it was found fading. */
function fadingTimes(model: LinkModel, untilMs: number): number[] {
  const samples: RadioSample[] = [];
  const out: number[] = [];
  for (let t = 0; t <= untilMs; t += 250) {
    samples.push(model.sample(t));
    while (samples[0]!.at < t - 40_000) samples.shift();
    if (judgeRadio(samples, t)?.fading) out.push(t);
  }
  return out;
}

const FADE_AT = 60_000;
/** The bench's fade: loss 0 → 100 % each way over 20 s, the signal −55 → −95 dBm with it. */
const fade: Weather = (t) => {
  const x = Math.min(1, Math.max(0, (t - FADE_AT) / 20_000));
  return { loss: x, signal: -55 - 40 * x };
};

test('a lossy but steady link (10 % each way, signal steady): never fading in an hour, over 5 links', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const times = fadingTimes(new LinkModel(seed, () => ({ loss: 0.1, signal: -62 })), 3_600_000);
    assert.equal(times, [], `seed ${seed}: found fading at ${times.slice(0, 5).join(', ')} ms`);
  }
});

test('interference after a lossy spell: 44 % of attempts fail (25 % each way) for a minute, the signal steady: not a fade', () => {
  const times = fadingTimes(new LinkModel(9, (t) => ({ loss: t >= FADE_AT && t < FADE_AT + 60_000 ? 0.25 : 0.1, signal: -62 })), FADE_AT + 90_000);
  assert.equal(times, []);
});

test('a link that is always lossy (25 % each way) at a steady signal is its own normal: not fading', () => {
  const times = fadingTimes(new LinkModel(7, () => ({ loss: 0.25, signal: -70 })), 600_000);
  assert.equal(times, []);
});

test('a fading link (loss and signal ramp over 20 s): fading within 6 s, before any frame failed every retry', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const model = new LinkModel(seed, fade);
    const samples: RadioSample[] = [];
    let found: number | null = null;
    let failedAtFound = -1;
    for (let t = 0; t <= FADE_AT + 20_000 && found === null; t += 250) {
      samples.push(model.sample(t));
      const j = judgeRadio(samples, t);
      if (j?.fading) {
        found = t - FADE_AT;
        failedAtFound = samples.at(-1)!.txFailed!;
      }
    }
    assert.ok(found !== null && found > 0 && found <= 6000, `seed ${seed}: found ${found} ms into the fade`);
    assert.is(failedAtFound, 0, `seed ${seed}: no frame lost yet when found (${failedAtFound})`);
  }
});

test('no judgement without a baseline, without retry counters, or across a counter reset', () => {
  const m = new LinkModel(3, fade);
  const young = [0, 250, 500, 750, 1000, 2000, 3000].map((t) => m.sample(t));
  assert.is(judgeRadio(young, 3000), null, 'a link met 3 s ago has no normal yet');
  const model = new LinkModel(4, fade);
  const full: RadioSample[] = [];
  for (let t = 0; t <= FADE_AT + 8000; t += 250) full.push(model.sample(t));
  assert.ok(judgeRadio(full, FADE_AT + 8000)?.fading, 'the same link with its history: fading');
  assert.is(judgeRadio(full.map((s) => ({ ...s, txRetries: null })), FADE_AT + 8000), null, 'a driver that reports no retries');
  const reset = full.map((s) => (s.at >= FADE_AT + 7000 ? { ...s, txPackets: s.txPackets - 1_000_000 } : s));
  assert.is(judgeRadio(reset, FADE_AT + 8000), null, 'counters that went back (the station was re-created)');
});

// From the station dumps to a finding: a shared Wi-Fi interface with two neighbours, both next
// hops, one fading. Only that one is found dying; the other stays.
const IF = 'wlan0';
const FADING = '02:00:00:00:03:00';
const STEADY = '02:00:00:00:02:00';
const DEST = '02:00:00:00:04:00';

test('radio watch: the fading neighbour on a shared interface is found dying and a poll asked for; its neighbour is not', async () => {
  const k = new Knowledge();
  k.ogmIntervalMs = 1000;
  let now = 0;
  let polls = 0;
  const links = { [FADING]: new LinkModel(11, fade), [STEADY]: new LinkModel(12, () => ({ loss: 0.1, signal: -60 })) };
  const reads: string[] = [];
  const stations = async (ifname: string): Promise<StationStats[] | null> => {
    reads.push(ifname);
    if (ifname !== IF) return null; // a wired interface
    return Object.entries(links).map(([mac, m]) => {
      const s = m.sample(now);
      return { mac, ifindex: 3, inactiveMs: 20, signalDbm: s.signalDbm, signalAvgDbm: s.signalDbm, rxPackets: 0, txPackets: s.txPackets, txRetries: s.txRetries, txFailed: s.txFailed, expectedThroughputKbps: null, beaconLoss: null };
    });
  };
  const watch = new RadioWatch({ knowledge: k, stations, pollSoon: () => polls++, now: () => now });
  const interfaces = [{ ifname: IF, ifindex: 3, address: '02:00:00:00:01:00', active: true, hopPenalty: 0 }, { ifname: 'eth1', ifindex: 4, address: '02:00:00:00:01:04', active: true, hopPenalty: 0 }];
  const neighbours: Neighbour[] = [
    { neighbour: FADING, hardIfname: IF, hardIfindex: 3, lastSeenMs: 300 },
    { neighbour: STEADY, hardIfname: IF, hardIfindex: 3, lastSeenMs: 300 },
    { neighbour: '02:00:00:00:05:00', hardIfname: 'eth1', hardIfindex: 4, lastSeenMs: 300 },
  ];
  const originators: Originator[] = [
    { originator: DEST, nextHop: FADING, hardIfname: IF, hardIfindex: 3, tq: 220, lastSeenMs: 100, best: true },
    { originator: DEST, nextHop: STEADY, hardIfname: IF, hardIfindex: 3, tq: 170, lastSeenMs: 100, best: false },
    { originator: STEADY, nextHop: STEADY, hardIfname: IF, hardIfindex: 3, tq: 240, lastSeenMs: 100, best: true },
    { originator: '02:00:00:00:06:00', nextHop: '02:00:00:00:05:00', hardIfname: 'eth1', hardIfindex: 4, tq: 240, lastSeenMs: 100, best: true },
  ];
  k.mesh = { interfaces, neighbours, originators, gateways: [], settings: null };
  let firstPoll: number | null = null;
  for (now = 0; now <= FADE_AT + 8000; now += 250) {
    if (now % 1000 === 0) k.recordLinks(neighbours.map((n) => ({ neighbour: n.neighbour, hardIfname: n.hardIfname, kind: 'tq' as const, value: 245 })));
    const before = polls;
    await watch.check();
    if (polls > before && firstPoll === null) firstPoll = now - FADE_AT;
  }
  now -= 250;
  assert.ok(reads.includes('eth1') && reads.includes(IF), 'both interfaces with next hops are asked; the wired one answers null');
  assert.ok(firstPoll !== null && firstPoll > 0 && firstPoll <= 6000, `a poll asked for ${firstPoll} ms into the fade`);
  const findings = new Analyzer(k, null).run(now).findings;
  const dying = findings.filter((f) => f.kind === 'link-dying');
  assert.is(dying.length, 1, JSON.stringify(dying));
  assert.is(dying[0]!.subject.neighbour, FADING);
  assert.is(dying[0]!.subject.ifname, IF);
  assert.match(dying[0]!.message, /its radio retried \d+ % of \d+ attempts/);
  assert.ok((dying[0]!.evidence.signalDropDb as number) >= 6, JSON.stringify(dying[0]!.evidence));
  assert.is(k.radioOf(linkKey('eth1', '02:00:00:00:05:00')).length, 0, 'nothing recorded for a wired link');
});

test.run();
