// Every aggregation rule of the core against the plain reference implementations
// (test/core/reference.ts) on seeded random inputs, n ∈ [3, 128], d ∈ [1, 10⁵], for both
// builds. Tolerances, per rule, of the WASM build against the reference:
//   mean, weighted mean, median, trimmed mean, multi-krum, bulyan, bucketing, NNM: exact —
//     the core sums in float64 in the same order as the reference and rounds once to float32;
//   krum: exact result (a copy of the chosen update); scores relative 1e-5 (squared distances
//     are summed in float32 lanes per 256 coordinates, then in float64);
//   norm clipping: 1e-6 relative; geometric median and centered clipping: 1e-5 relative to
//     the largest coordinate (distances as above feed every iterate).
// The JS build against the WASM build: bit-identical for every rule (its scalar kernels keep
// the SIMD lanes), checked with Object.is on every value.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AggregationConfig } from '../../src/core/index.ts';
import { aggregate, bothCores, type Outcome } from './cores.ts';
import { Rng, identical, maxAbs, maxAbsDiff } from './random.ts';
import * as ref from './reference.ts';

const { wasm, js } = await bothCores();

const CASES: [number, number][] = [
  [3, 1], [4, 7], [5, 33], [7, 100], [9, 257], [16, 1000], [31, 513], [64, 700], [128, 150], [10, 100_000],
];

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string): void {
  const diff = maxAbsDiff(actual, expected);
  const bound = rel * Math.max(1, maxAbs(expected));
  assert.ok(diff <= bound, `${what}: max |diff| ${diff} > ${bound}`);
}

function sameBuilds(a: Outcome, b: Outcome, what: string): void {
  assert.ok(identical(a.result, b.result), `${what}: js result differs from wasm (max ${maxAbsDiff(a.result, b.result)})`);
  assert.equal(b.selected, a.selected, `${what}: selection`);
  assert.equal(b.accepted, a.accepted, `${what}: accepted`);
  if (a.scores) assert.ok(identical(a.scores, b.scores!), `${what}: scores`);
  assert.equal(b.iterations, a.iterations, `${what}: iterations`);
  assert.ok(Object.is(a.objective, b.objective), `${what}: objective`);
  assert.equal(b.groups, a.groups, `${what}: groups`);
}

interface Case {
  config: AggregationConfig;
  weights?: number[];
  check(o: Outcome): void;
}

for (const [n, d] of CASES) {
  test(`n=${n} d=${d}: all rules match the reference, js bit-identical to wasm`, () => {
    const rng = new Rng(n * 7919 + d);
    const xs = rng.vectors(n, d, 1 + rng.next() * 3, rng.gauss());
    const w = Array.from({ length: n }, () => rng.int(0, 9));
    w[0] = 5; // never all zero
    const fK = Math.floor((n - 3) / 2);
    const fB = Math.floor((n - 3) / 4);
    const b = Math.floor((n - 1) / 2);
    const mm = Math.max(1, n - fK - 1);
    const center = rng.vectors(1, d, 0.5)[0]!;
    const s = 1 + (n % 3);
    const cases: Case[] = [
      { config: { rule: 'mean' }, check: (o) => close(o.result, ref.mean(xs), 0, 'mean') },
      { config: { rule: 'mean' }, weights: w, check: (o) => close(o.result, ref.mean(xs, w), 0, 'weighted mean') },
      { config: { rule: 'median', f: b }, check: (o) => close(o.result, ref.median(xs), 0, 'median') },
      { config: { rule: 'trimmed-mean', f: fB, b }, check: (o) => close(o.result, ref.trimmedMean(xs, b), 0, 'trimmed mean') },
      {
        config: { rule: 'krum', f: fK },
        check: (o) => {
          const r = ref.krum(xs, fK);
          assert.equal(o.selected, [r.index], 'krum selection');
          close(o.result, xs[r.index]!, 0, 'krum result');
          const top = Math.max(...r.scores);
          assert.ok(maxAbsDiff(o.scores!, r.scores) <= 1e-5 * top, 'krum scores within 1e-5 of the largest');
        },
      },
      {
        config: { rule: 'multi-krum', f: fK, m: mm },
        check: (o) => {
          const r = ref.multiKrum(xs, fK, mm);
          assert.equal(o.selected, r.selected, 'multi-krum selection');
          close(o.result, r.result, 0, 'multi-krum');
        },
      },
      {
        config: { rule: 'bulyan', f: fB },
        check: (o) => {
          const r = ref.bulyan(xs, fB);
          assert.equal(o.selected, r.selected, 'bulyan selection');
          close(o.result, r.result, 0, 'bulyan');
        },
      },
      {
        config: { rule: 'geometric-median', f: fB, nu: 1e-6, maxIter: 6, tol: 0 },
        weights: w,
        check: (o) => {
          const r = ref.geometricMedian(xs, w, 1e-6, 6, 0);
          assert.is(o.iterations, r.iterations, 'geometric median iterations');
          close(o.result, r.result, 1e-5, 'geometric median');
          assert.ok(Math.abs(o.objective! - r.objective) <= 1e-5 * r.objective, 'geometric median objective');
        },
      },
      {
        config: { rule: 'centered-clipping', f: fB, tau: 0.5 * Math.sqrt(d), iterations: 3, center },
        weights: w,
        check: (o) => close(o.result, ref.centeredClipping(xs, w, 0.5 * Math.sqrt(d), 3, center), 1e-5, 'centered clipping'),
      },
      {
        config: { rule: 'norm-clipping', f: fB, maxNorm: 0.8 * Math.sqrt(d) },
        weights: w,
        check: (o) => close(o.result, ref.normClipping(xs, w, 0.8 * Math.sqrt(d)), 1e-6, 'norm clipping'),
      },
      {
        config: { rule: 'mean', pre: { kind: 'bucketing', s, seed: 1234 + n } },
        check: (o) => {
          const bk = ref.buckets(xs, undefined, s, 1234 + n);
          assert.equal(o.groups, bk.groups.map((g) => [...g].sort((p, q) => p - q)), 'bucket members');
          close(o.result, ref.mean(bk.rows, bk.weights), 0, 'bucketing + mean');
        },
      },
      {
        config: { rule: 'median', f: Math.floor((Math.ceil(n / s) - 1) / 2), pre: { kind: 'bucketing', s, seed: 99 } },
        check: (o) => close(o.result, ref.median(ref.buckets(xs, undefined, s, 99).rows), 0, 'bucketing + median'),
      },
      {
        config: { rule: 'trimmed-mean', f: fB, pre: { kind: 'nnm' } },
        check: (o) => {
          const r = ref.nnm(xs, fB);
          assert.equal(o.groups, r.groups, 'NNM neighbourhoods');
          close(o.result, ref.trimmedMean(r.rows, fB), 0, 'NNM + trimmed mean');
        },
      },
    ];
    for (const c of cases) {
      const what = `${c.config.rule}${c.config.pre ? '+' + c.config.pre.kind : ''}${c.weights ? ' (weighted)' : ''}`;
      const a = aggregate(wasm, xs, c.config, c.weights);
      const bj = aggregate(js, xs, c.config, c.weights);
      c.check(a);
      sameBuilds(a, bj, what);
    }
  });
}

test.run();
