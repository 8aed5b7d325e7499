// Malformed updates are rejected by name and never averaged in; configurations outside a rule's
// guarantee, bad parameters and bad indices fail with a typed AggregationError that says why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AggregationError, type AggregationConfig, type Core } from '../../src/core/index.ts';
import { aggregate, bothCores } from './cores.ts';
import { Rng, maxAbsDiff } from './random.ts';
import * as ref from './reference.ts';

const { wasm, js } = await bothCores();
const builds: Core[] = [wasm, js];

function throwsAggregation(fn: () => unknown, code: string, text: RegExp, what: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, AggregationError, `${what}: error type`);
    assert.is((err as AggregationError).code, code, `${what}: code of "${(err as Error).message}"`);
    assert.match((err as Error).message, text, `${what}: message`);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

test('NaN, +Inf, −Inf and wrong-length updates are rejected by slot and coordinate, never averaged in', () => {
  const rng = new Rng(21);
  const n = 9;
  const d = 1000;
  const xs = rng.vectors(n, d);
  xs[2]![517] = NaN;
  xs[5]![0] = Infinity;
  xs[8]![999] = -Infinity;
  for (const core of builds) {
    const agg = core.aggregator(n, d);
    xs.forEach((x, i) => agg.set(i, x));
    agg.set(6, new Float32Array(d - 1)); // a peer sent the wrong size: slot 6 keeps its zeros but is marked
    for (const rule of ['mean', 'median', 'geometric-median'] as const) {
      const r = agg.run({ rule, f: 4 });
      assert.equal(r.rejected.map((x) => [x.index, x.code]), [[2, 'non-finite'], [5, 'non-finite'], [6, 'wrong-length'], [8, 'non-finite']]);
      assert.match(r.rejected[0]!.reason, /update 2 has NaN at coordinate 517/);
      assert.match(r.rejected[1]!.reason, /update 5 has Infinity at coordinate 0/);
      assert.match(r.rejected[2]!.reason, /update 6 has 999 values, expected 1000/);
      assert.match(r.rejected[3]!.reason, /update 8 has -Infinity at coordinate 999/);
      assert.equal(r.accepted, [0, 1, 3, 4, 7]);
      assert.is(r.fEffective, 0, 'four provably faulty updates leave f − 4 = 0');
      assert.ok(r.result.every(Number.isFinite), `${core.kind} ${rule}: result is finite`);
      if (rule === 'mean') assert.ok(maxAbsDiff(r.result, ref.mean([0, 1, 3, 4, 7].map((i) => xs[i]!))) === 0, 'mean of the accepted only');
    }
    // a correct write clears the mark
    agg.set(6, xs[6]!);
    assert.equal(agg.run({ rule: 'median', f: 3 }).rejected.map((x) => x.index), [2, 5, 8]);
    agg.dispose();
  }
});

test('rules refuse configurations outside their guarantee, saying why', () => {
  const xs = new Rng(22).vectors(10, 4);
  const cases: [AggregationConfig, RegExp][] = [
    [{ rule: 'bulyan', f: 2 }, /bulyan needs n ≥ 4f \+ 3 .*n=10 accepted updates, f=2/],
    [{ rule: 'krum', f: 4 }, /krum needs n ≥ 2f \+ 3 .*Blanchard/],
    [{ rule: 'multi-krum', f: 4 }, /multi-krum needs n ≥ 2f \+ 3/],
    [{ rule: 'median', f: 5 }, /median needs n ≥ 2f \+ 1/],
    [{ rule: 'trimmed-mean', f: 3, b: 2 }, /trimmed-mean needs b ≥ f \(b=2\)/],
    [{ rule: 'trimmed-mean', f: 1, b: 5 }, /trimmed-mean needs n ≥ 2b \+ 1 \(b=5\)/],
    [{ rule: 'mean', f: 1 }, /mean needs f = 0/],
    [{ rule: 'geometric-median', f: 5 }, /breakdown point 1\/2/],
    [{ rule: 'centered-clipping', f: 5 }, /centered-clipping needs n ≥ 2f \+ 1/],
    [{ rule: 'krum', f: 2, pre: { kind: 'bucketing', s: 2, seed: 1 } }, /krum needs n ≥ 2f \+ 3 .*5 buckets of 10 accepted updates/],
  ];
  for (const core of builds) {
    for (const [config, text] of cases) {
      throwsAggregation(() => aggregate(core, xs, config), 'below-guarantee', text, `${core.kind} ${config.rule}`);
    }
    // the boundary itself is accepted
    assert.ok(aggregate(core, xs.slice(0, 7), { rule: 'bulyan', f: 1 }).result.length === 4);
    assert.ok(aggregate(core, xs.slice(0, 7), { rule: 'krum', f: 2 }).result.length === 4);
  }
});

test('invalid parameters, indices, sizes and weights are typed errors', () => {
  const xs = new Rng(23).vectors(6, 3);
  for (const core of builds) {
    const bad: [AggregationConfig, RegExp][] = [
      [{ rule: 'nope' } as unknown as AggregationConfig, /unknown rule "nope"/],
      [{ rule: 'krum', f: -1 }, /f must be an integer/],
      [{ rule: 'krum', f: 1.5 }, /f must be an integer/],
      [{ rule: 'multi-krum', f: 1, m: 6 }, /m must be an integer in \[1, 5\]/],
      [{ rule: 'geometric-median', nu: 0 }, /nu must be a finite number > 0/],
      [{ rule: 'geometric-median', maxIter: 0 }, /maxIter must be an integer/],
      [{ rule: 'geometric-median', tol: NaN }, /tol must be a finite number/],
      [{ rule: 'centered-clipping', tau: -1 }, /tau must be a finite number > 0/],
      [{ rule: 'centered-clipping', center: [1, 2] }, /center must have 3 values/],
      [{ rule: 'centered-clipping', center: [1, NaN, 2] }, /center has NaN at coordinate 1/],
      [{ rule: 'norm-clipping' } as AggregationConfig, /maxNorm must be a finite number > 0/],
      [{ rule: 'mean', pre: { kind: 'bucketing', s: 0, seed: 1 } }, /bucketing s must be an integer/],
      [{ rule: 'mean', pre: { kind: 'bucketing', s: 2, seed: -1 } }, /bucketing seed must be an integer/],
      [{ rule: 'mean', pre: { kind: 'shuffle' } } as unknown as AggregationConfig, /unknown pre-aggregation "shuffle"/],
      [{ rule: 'mean', count: 7 }, /count must be an integer in \[1, 6\]/],
    ];
    for (const [config, text] of bad) throwsAggregation(() => aggregate(core, xs, config), 'invalid-config', text, `${core.kind} ${JSON.stringify(config)}`);

    const agg = core.aggregator(6, 3);
    for (const i of [-1, 6, 1.5, NaN]) throwsAggregation(() => agg.update(i), 'invalid-index', /slot must be an integer in \[0, 6\)/, `update(${i})`);
    throwsAggregation(() => agg.set(9, [1, 2, 3]), 'invalid-index', /slot/, 'set(9)');
    throwsAggregation(() => agg.setWeights([1, 2]), 'invalid-weights', /need 6 values, got 2/, 'short weights');
    throwsAggregation(() => agg.setWeights([1, 1, -1, 1, 1, 1]), 'invalid-weights', /weight 2 must be a finite number ≥ 0/, 'negative weight');
    agg.setWeights([0, 0, 0, 0, 0, 1]);
    xs.forEach((x, i) => agg.set(i, x));
    throwsAggregation(() => agg.run({ rule: 'krum', f: 1 }), 'weights-unsupported', /krum does not use weights/, 'weights on krum');
    agg.update(5)[0] = NaN; // the only weighted update is rejected
    throwsAggregation(() => agg.run({ rule: 'mean' }), 'invalid-weights', /weights sum to 0/, 'zero weight sum');
    agg.setWeights(null);
    assert.is(agg.run({ rule: 'mean' }).accepted.length, 5);
    for (let i = 0; i < 6; i++) agg.update(i)[1] = Infinity;
    throwsAggregation(() => agg.run({ rule: 'mean', f: 6 }), 'no-updates', /no update left to aggregate \(6 rejected\)/, 'all rejected');
    agg.dispose();
    throwsAggregation(() => agg.update(0), 'disposed', /after dispose/, 'after dispose');
    throwsAggregation(() => agg.run({ rule: 'mean' }), 'disposed', /after dispose/, 'run after dispose');

    throwsAggregation(() => core.aggregator(0, 5), 'invalid-size', /n must be an integer/, 'n=0');
    throwsAggregation(() => core.aggregator(4, 0), 'invalid-size', /d must be an integer/, 'd=0');
    throwsAggregation(() => core.aggregator(1 << 16, 1 << 13), 'invalid-size', /n·d ≤/, 'too large');
  }
});

test('slots beyond count are ignored: a round where fewer peers answered', () => {
  const xs = new Rng(24).vectors(8, 16);
  for (const core of builds) {
    const agg = core.aggregator(8, 16);
    xs.forEach((x, i) => agg.set(i, x));
    agg.update(7)[3] = NaN; // not part of this round
    const r = agg.run({ rule: 'mean', count: 5 });
    assert.equal(r.accepted, [0, 1, 2, 3, 4]);
    assert.equal(r.rejected, []);
    assert.ok(maxAbsDiff(r.result, ref.mean(xs.slice(0, 5))) === 0);
    agg.dispose();
  }
});

test.run();
