// Route scoring: every candidate of every originator scored in one core call, against a plain
// reference of the documented formula; rankings, next-hop picks on distinct interfaces, input
// validation, and both builds agreeing bit for bit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Core, type RouteCandidate, RouteScoringError } from '../../src/core/index.ts';
import { bothCores } from './cores.ts';
import { Rng } from './random.ts';

const { wasm, js } = await bothCores();
const builds: Core[] = [wasm, js];

// The formula of src/core/route-scoring.ts with its defaults, written out plainly.
function refScore(c: RouteCandidate, halfLife = 5000, ref = 50, wStab = 0.5): number {
  const q = c.tq !== undefined ? c.tq / 255 : c.throughputMbps! / (c.throughputMbps! + ref);
  const fresh = 2 ** (-c.lastSeenMs / halfLife);
  return q * fresh * (1 - wStab * (1 - c.stability)) * (1 - c.hopPenalty) * (1 - c.failureProb);
}

function randomCandidates(rng: Rng, originators: number, perOrig: number, interfaces: number): RouteCandidate[] {
  const out: RouteCandidate[] = [];
  for (let o = 0; o < originators; o++) {
    const k = rng.int(1, perOrig);
    for (let i = 0; i < k; i++) {
      const v4 = rng.next() < 0.5;
      out.push({
        originatorIndex: o * 3 + 1, // sparse indices are fine
        nextHopIndex: rng.int(0, 40),
        ifIndex: rng.int(1, interfaces),
        ...(v4 ? { tq: rng.int(0, 255) } : { throughputMbps: rng.next() * 300 }),
        lastSeenMs: rng.next() < 0.1 ? 0 : rng.next() * 30000,
        stability: rng.next(),
        hopPenalty: rng.next() * 0.3,
        failureProb: rng.next() < 0.1 ? 1 : rng.next() * 0.5,
      });
    }
  }
  // arrival order is arbitrary
  return rng.permutation(out.length).map((i) => out[i]!);
}

test('scores follow the documented formula; rankings and next hops are right for every originator', () => {
  const rng = new Rng(41);
  const cands = randomCandidates(rng, 60, 9, 3);
  for (const core of builds) {
    const r = core.scoreRoutes(cands);
    cands.forEach((c, i) => {
      const want = refScore(c);
      assert.ok(Math.abs(r.scores[i]! - want) <= 1e-12 * Math.max(1e-300, want), `${core.kind} candidate ${i}: ${r.scores[i]} vs ${want}`);
    });
    const origs = [...new Set(cands.map((c) => c.originatorIndex))].sort((a, b) => a - b);
    assert.equal(r.originators.map((o) => o.originatorIndex), origs, 'one entry per originator, ascending');
    for (const o of r.originators) {
      const mine = cands.map((c, i) => ({ c, i })).filter((x) => x.c.originatorIndex === o.originatorIndex);
      assert.is(o.ranking.length, mine.length);
      const expected = [...mine].sort((a, b) => r.scores[b.i]! - r.scores[a.i]! || a.c.nextHopIndex - b.c.nextHopIndex || a.i - b.i);
      assert.equal(o.ranking.map((s) => s.candidate), expected.map((x) => x.i), 'ranking: score desc, next hop, input order');
      // next hops: greedy over the ranking, score > 0, distinct interfaces, at most three
      const picks: number[] = [];
      const used = new Set<number>();
      for (const s of o.ranking) {
        if (picks.length < 3 && s.score > 0 && !used.has(s.ifIndex)) {
          picks.push(s.candidate);
          used.add(s.ifIndex);
        }
      }
      assert.equal(o.nextHops.map((s) => s.candidate), picks);
      assert.ok(o.nextHops.length <= 3);
      assert.is(new Set(o.nextHops.map((s) => s.ifIndex)).size, o.nextHops.length);
    }
  }
});

test('a small mesh by hand: stale, failing and same-interface candidates lose', () => {
  const base = { originatorIndex: 0, stability: 1, hopPenalty: 0, failureProb: 0, lastSeenMs: 0 };
  const cands: RouteCandidate[] = [
    { ...base, nextHopIndex: 1, ifIndex: 10, tq: 250 }, // best
    { ...base, nextHopIndex: 2, ifIndex: 10, tq: 240 }, // same interface as the best: not a second path
    { ...base, nextHopIndex: 3, ifIndex: 11, tq: 200 }, // second path
    { ...base, nextHopIndex: 4, ifIndex: 12, tq: 255, lastSeenMs: 60000 }, // stale: 2^-12
    { ...base, nextHopIndex: 5, ifIndex: 13, tq: 255, failureProb: 1 }, // predicted to fail: 0
    { ...base, nextHopIndex: 6, ifIndex: 14, tq: 180, stability: 0 }, // flapping: halved
  ];
  for (const core of builds) {
    const [o] = core.scoreRoutes(cands).originators;
    assert.equal(o!.ranking.map((s) => s.nextHopIndex), [1, 2, 3, 6, 4, 5]);
    assert.equal(o!.nextHops.map((s) => s.nextHopIndex), [1, 3, 6]);
    assert.is(o!.ranking.at(-1)!.score, 0);
  }
});

test('options change the formula as documented', () => {
  const c: RouteCandidate = { originatorIndex: 0, nextHopIndex: 0, ifIndex: 1, throughputMbps: 100, lastSeenMs: 2000, stability: 0.2, hopPenalty: 0.1, failureProb: 0.25 };
  for (const core of builds) {
    const r = core.scoreRoutes([c], { halfLifeMs: 1000, refThroughputMbps: 100, stabilityWeight: 1 });
    assert.ok(Math.abs(r.scores[0]! - refScore(c, 1000, 100, 1)) < 1e-15);
    assert.ok(Math.abs(r.scores[0]! - 0.5 * 0.25 * 0.2 * 0.9 * 0.75) < 1e-15);
  }
});

test('bad candidates and options are typed errors naming the candidate and field', () => {
  const ok: RouteCandidate = { originatorIndex: 0, nextHopIndex: 0, ifIndex: 1, tq: 100, lastSeenMs: 0, stability: 1, hopPenalty: 0, failureProb: 0 };
  const bad: [Partial<RouteCandidate> & Record<string, unknown>, string, RegExp][] = [
    [{ tq: 256 }, 'tq', /tq must be a finite number in \[0, 255\]/],
    [{ tq: undefined }, 'tq', /exactly one of tq and throughputMbps/],
    [{ throughputMbps: 5 }, 'tq', /exactly one of tq and throughputMbps/],
    [{ stability: NaN }, 'stability', /stability must be a finite number in \[0, 1\]/],
    [{ failureProb: 1.5 }, 'failureProb', /failureProb/],
    [{ lastSeenMs: -1 }, 'lastSeenMs', /lastSeenMs/],
    [{ originatorIndex: -2 }, 'originatorIndex', /originatorIndex must be an integer/],
    [{ ifIndex: 1.5 }, 'ifIndex', /ifIndex must be an integer/],
  ];
  for (const core of builds) {
    for (const [patch, field, text] of bad) {
      try {
        core.scoreRoutes([ok, ok, { ...ok, ...patch } as RouteCandidate]);
        assert.unreachable(`${field}: no error`);
      } catch (err) {
        assert.instance(err, RouteScoringError);
        const e = err as RouteScoringError;
        assert.is(e.code, 'invalid-candidate');
        assert.is(e.candidate, 2);
        assert.is(e.field, field);
        assert.match(e.message, text);
        assert.match(e.message, /candidate 2/);
      }
    }
    for (const opts of [{ halfLifeMs: 0 }, { refThroughputMbps: -1 }, { stabilityWeight: 2 }]) {
      try {
        core.scoreRoutes([ok], opts);
        assert.unreachable('option accepted');
      } catch (err) {
        assert.instance(err, RouteScoringError);
        assert.is((err as RouteScoringError).code, 'invalid-option');
      }
    }
    try {
      core.scoreRoutes([null as unknown as RouteCandidate]);
      assert.unreachable('null accepted');
    } catch (err) {
      assert.instance(err, RouteScoringError);
    }
    assert.equal(core.scoreRoutes([]).originators, []);
  }
});

test('large batches: both builds agree exactly; scratch grows once, then is reused', () => {
  const rng = new Rng(42);
  const cands = randomCandidates(rng, 700, 8, 4); // a 700-node mesh seen from one router
  const a = wasm.scoreRoutes(cands);
  const b = js.scoreRoutes(cands);
  assert.ok(a.scores.every((v, i) => Object.is(v, b.scores[i])), 'scores bit-identical');
  assert.equal(b.originators, a.originators);
  const grows = wasm.memoryStats().grows;
  for (let i = 0; i < 5; i++) wasm.scoreRoutes(cands.slice(i * 10));
  assert.is(wasm.memoryStats().grows, grows, 'no growth for batches that fit');
});

test.run();
