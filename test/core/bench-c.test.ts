// The measuring stick of bench:core — the C implementation in bench/core/c/aggregators.c,
// compiled with gcc -O3 -march=native — checked against the plain reference implementations
// (test/core/reference.ts) with the tolerances of aggregators.test.ts, and against the WASM
// build bit for bit (it is written to round where the WASM rounds, so that the benchmark times
// the same algorithm). gcc is required: without it this test fails, it does not skip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { AggregationConfig } from '../../src/core/index.ts';
import { CStick, type StickCheck } from '../../bench/core/c-stick.ts';
import { aggregate, bothCores } from './cores.ts';
import { Rng, identical, maxAbs, maxAbsDiff } from './random.ts';
import * as ref from './reference.ts';

const { wasm } = await bothCores();
const stick = CStick.compile();

const CASES: [number, number][] = [[3, 1], [4, 7], [5, 33], [7, 100], [9, 257], [16, 1000], [31, 513], [64, 700], [128, 150]];

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string): void {
  const diff = maxAbsDiff(actual, expected);
  const bound = rel * Math.max(1, maxAbs(expected));
  assert.ok(diff <= bound, `${what}: max |diff| ${diff} > ${bound}`);
}

interface Case {
  /** The C stick's spec. */
  spec: string;
  /** The same aggregation for the WASM build. */
  config: AggregationConfig;
  weights?: boolean;
  check(c: StickCheck): void;
}

for (const [n, d] of CASES) {
  test(`n=${n} d=${d}: the C stick matches the reference and is bit-identical to WASM`, async () => {
    const rng = new Rng(n * 104729 + d);
    const xs = rng.vectors(n, d, 1 + rng.next() * 3, rng.gauss());
    const w = Array.from({ length: n }, () => rng.int(0, 9));
    w[0] = 5; // never all zero
    const center = rng.vectors(1, d, 0.5)[0]!;
    const fK = Math.floor((n - 3) / 2);
    const fB = Math.floor((n - 3) / 4);
    const b = Math.floor((n - 1) / 2);
    const mm = Math.max(1, n - fK - 1);
    const s = 1 + (n % 3);
    const tau = 0.5 * Math.sqrt(d);
    const maxNorm = 0.8 * Math.sqrt(d);
    const flat = new Float32Array(n * d);
    xs.forEach((x, i) => flat.set(x, i * d));
    const cases: Case[] = [
      { spec: 'mean', config: { rule: 'mean' }, check: (c) => close(c.result, ref.mean(xs), 0, 'mean') },
      { spec: '@mean', config: { rule: 'mean' }, weights: true, check: (c) => close(c.result, ref.mean(xs, w), 0, 'weighted mean') },
      { spec: 'median', config: { rule: 'median' }, check: (c) => close(c.result, ref.median(xs), 0, 'median') },
      {
        spec: `trimmed-mean:${b}`, config: { rule: 'trimmed-mean', f: fB, b },
        check: (c) => close(c.result, ref.trimmedMean(xs, b), 0, 'trimmed mean'),
      },
      {
        spec: `krum:${fK}`, config: { rule: 'krum', f: fK },
        check: (c) => {
          const r = ref.krum(xs, fK);
          assert.is(c.selected, r.index, 'krum selection');
          close(c.result, xs[r.index]!, 0, 'krum result');
        },
      },
      {
        spec: `multi-krum:${fK}:${mm}`, config: { rule: 'multi-krum', f: fK, m: mm },
        check: (c) => close(c.result, ref.multiKrum(xs, fK, mm).result, 0, 'multi-krum'),
      },
      { spec: `bulyan:${fB}`, config: { rule: 'bulyan', f: fB }, check: (c) => close(c.result, ref.bulyan(xs, fB).result, 0, 'bulyan') },
      {
        spec: '@geometric-median:1e-6:6:0', config: { rule: 'geometric-median', f: fB, nu: 1e-6, maxIter: 6, tol: 0 }, weights: true,
        check: (c) => {
          const r = ref.geometricMedian(xs, w, 1e-6, 6, 0);
          assert.is(c.iterations, r.iterations, 'geometric median iterations');
          close(c.result, r.result, 1e-5, 'geometric median');
        },
      },
      {
        // stops on tolerance: the iteration count must follow the objective, as in the core
        spec: 'geometric-median:0.001:50:0.0001', config: { rule: 'geometric-median', f: fB, nu: 1e-3, maxIter: 50, tol: 1e-4 },
        check: (c) => {
          const r = ref.geometricMedian(xs, undefined, 1e-3, 50, 1e-4);
          assert.is(c.iterations, r.iterations, 'geometric median iterations (tolerance stop)');
          close(c.result, r.result, 1e-5, 'geometric median (tolerance stop)');
        },
      },
      {
        spec: `@centered-clipping:${tau}:3`, config: { rule: 'centered-clipping', f: fB, tau, iterations: 3, center }, weights: true,
        check: (c) => close(c.result, ref.centeredClipping(xs, w, tau, 3, center), 1e-5, 'centered clipping'),
      },
      {
        spec: `@norm-clipping:${maxNorm}`, config: { rule: 'norm-clipping', f: fB, maxNorm }, weights: true,
        check: (c) => close(c.result, ref.normClipping(xs, w, maxNorm), 1e-6, 'norm clipping'),
      },
      {
        spec: `bucketing:${s}:${1234 + n}/mean`, config: { rule: 'mean', pre: { kind: 'bucketing', s, seed: 1234 + n } },
        check: (c) => {
          const bk = ref.buckets(xs, undefined, s, 1234 + n);
          close(c.result, ref.mean(bk.rows, bk.weights), 0, 'bucketing + mean');
        },
      },
      {
        spec: `bucketing:${s}:99/median`, config: { rule: 'median', pre: { kind: 'bucketing', s, seed: 99 } },
        check: (c) => close(c.result, ref.median(ref.buckets(xs, undefined, s, 99).rows), 0, 'bucketing + median'),
      },
      {
        spec: `nnm:${fB}/trimmed-mean:${fB}`, config: { rule: 'trimmed-mean', f: fB, pre: { kind: 'nnm' } },
        check: (c) => close(c.result, ref.trimmedMean(ref.nnm(xs, fB).rows, fB), 0, 'NNM + trimmed mean'),
      },
    ];
    const session = stick.open({ n, d, xs: flat, weights: w, center });
    try {
      for (const c of cases) {
        const got = await session.check(c.spec);
        c.check(got);
        const o = aggregate(wasm, xs, c.config, c.weights ? w : undefined);
        assert.ok(identical(got.result, o.result), `${c.spec}: C differs from WASM (max ${maxAbsDiff(got.result, o.result)})`);
        if (o.iterations !== undefined) assert.is(got.iterations, o.iterations, `${c.spec}: iterations`);
      }
    } finally {
      await session.close();
    }
  });
}

test('a rejected update is left out as the core leaves it out', async () => {
  const rng = new Rng(7);
  const n = 9;
  const d = 40;
  const xs = rng.vectors(n, d);
  xs[4]![17] = NaN;
  xs[6]![0] = -Infinity;
  const flat = new Float32Array(n * d);
  xs.forEach((x, i) => flat.set(x, i * d));
  const finite = xs.filter((_, i) => i !== 4 && i !== 6);
  const session = stick.open({ n, d, xs: flat });
  try {
    close((await session.check('median')).result, ref.median(finite), 0, 'median without the non-finite updates');
    close((await session.check('trimmed-mean:1')).result, ref.trimmedMean(finite, 1), 0, 'trimmed mean without them');
  } finally {
    await session.close();
  }
});

test('huge finite updates (1e20, ±3e38): the C stick still computes the bits of the WASM build', async () => {
  // one attacker among honest updates in [-1, 1]: its float32 distances overflow, and both must
  // fall back to float64 at the same places (assembly/lanes.ts)
  const rng = new Rng(17);
  for (const [n, f, d] of [[7, 1, 4], [11, 2, 600]] as const) {
    for (const v of [1e20, 3e38, -3e38]) {
      const xs = Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.next() * 2 - 1));
      xs[2] = Float32Array.from({ length: d }, (_, j) => (j % 3 === 0 ? v : 0));
      const flat = new Float32Array(n * d);
      xs.forEach((x, i) => flat.set(x, i * d));
      const cases: [string, AggregationConfig][] = [
        [`krum:${f}`, { rule: 'krum', f }],
        [`multi-krum:${f}:${n - f}`, { rule: 'multi-krum', f, m: n - f }],
        [`bulyan:${f}`, { rule: 'bulyan', f }],
        ['geometric-median:0.00001:8:0.000001', { rule: 'geometric-median', f }],
        ['centered-clipping:1:3', { rule: 'centered-clipping', f, tau: 1, iterations: 3 }],
        ['norm-clipping:1', { rule: 'norm-clipping', f, maxNorm: 1 }],
        [`nnm:${f}/trimmed-mean:${f}`, { rule: 'trimmed-mean', f, pre: { kind: 'nnm' } }],
      ];
      const session = stick.open({ n, d, xs: flat });
      try {
        for (const [spec, config] of cases) {
          const got = await session.check(spec);
          const o = aggregate(wasm, xs, config);
          const what = `n=${n} d=${d} attacker ${v} ${spec}`;
          assert.ok(o.result.every(Number.isFinite), `${what}: WASM result not finite`);
          assert.ok(identical(got.result, o.result), `${what}: C differs from WASM (max ${maxAbsDiff(got.result, o.result)})`);
          if (o.iterations !== undefined) assert.is(got.iterations, o.iterations, `${what}: iterations`);
        }
      } finally {
        await session.close();
      }
    }
  }
});

test('timing answers one time per run, and bad commands get an error, not a crash', async () => {
  const rng = new Rng(11);
  const xs = rng.vectors(5, 16);
  const flat = new Float32Array(5 * 16);
  xs.forEach((x, i) => flat.set(x, i * 16));
  const session = stick.open({ n: 5, d: 16, xs: flat });
  try {
    const times = await session.time('krum:1', 3);
    assert.is(times.length, 3);
    assert.ok(times.every((t) => Number.isFinite(t) && t >= 0), 'times are finite and ≥ 0');
    for (const [spec, why] of [
      ['no-such-rule', /unknown rule/], ['@mean', /weights/], ['bucketing:2/', /bad rule/], ['shuffle:2/mean', /unknown pre-aggregation/],
      ['krum:x', /bad rule/],
    ] as [string, RegExp][]) {
      const err = await session.check(spec).then(() => undefined, (e: Error) => e);
      assert.ok(err && why.test(err.message), `${spec}: ${err?.message}`);
    }
    const err = await session.time('mean', 0).then(() => undefined, (e: Error) => e);
    assert.ok(err && /reps/.test(err.message), `reps 0: ${err?.message}`);
    // still answering after the errors
    close((await session.check('mean')).result, ref.mean(xs), 0, 'mean after errors');
  } finally {
    await session.close();
  }
});

test('a truncated input file ends the stick with exit code 2 and says why', () => {
  const path = join(stick.dir, 'short.bin');
  writeFileSync(path, Buffer.from(Int32Array.of(4, 100, 0).buffer)); // header only, no updates
  const r = spawnSync(stick.binary, [path], { input: '', encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /short input/);
});

test.after(() => stick.dispose());
test.run();
