// The properties each rule promises, checked on both builds with seeded random inputs:
// permutation invariance, median and trimmed mean inside the honest range, Krum / Multi-Krum /
// Bulyan selecting the honest cluster when f updates are far away, the geometric median
// matching an exhaustive optimum on small cases, clipping bounds respected.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AggregationConfig, Core } from '../../src/core/index.ts';
import { aggregate, bothCores } from './cores.ts';
import { Rng, maxAbs, maxAbsDiff } from './random.ts';
import * as ref from './reference.ts';

const { wasm, js } = await bothCores();
const builds: Core[] = [wasm, js];

test('permutation invariance: the same multiset of updates gives the same aggregate', () => {
  const rng = new Rng(11);
  for (const [n, d] of [[7, 50], [20, 333], [65, 40]] as const) {
    const xs = rng.vectors(n, d, 2);
    const perm = rng.permutation(n);
    const permuted = perm.map((i) => xs[i]!);
    const f = Math.floor((n - 3) / 4);
    const configs: [AggregationConfig, number][] = [
      // order statistics and selections: exactly equal
      [{ rule: 'median', f }, 0],
      [{ rule: 'trimmed-mean', f, b: f + 1 }, 0],
      [{ rule: 'krum', f }, 0],
      [{ rule: 'bulyan', f }, 0],
      // sums in float64 whose order follows the slots: equal up to float64 rounding
      [{ rule: 'mean' }, 1e-6],
      [{ rule: 'multi-krum', f, m: n - 2 * f }, 1e-6],
      [{ rule: 'geometric-median', f, maxIter: 5, tol: 0 }, 1e-5],
      [{ rule: 'centered-clipping', f, tau: 3, iterations: 2 }, 1e-5],
      [{ rule: 'norm-clipping', f, maxNorm: 5 }, 1e-6],
    ];
    for (const core of builds) {
      for (const [config, tol] of configs) {
        const a = aggregate(core, xs, config);
        const b = aggregate(core, permuted, config);
        const diff = maxAbsDiff(a.result, b.result);
        assert.ok(diff <= tol * Math.max(1, maxAbs(a.result)), `${core.kind} ${config.rule} n=${n}: permuted differs by ${diff}`);
        if (a.selected && config.rule !== 'bulyan') {
          // the same updates are chosen, wherever they sit
          assert.equal(b.selected!.map((i) => perm[i]), a.selected, `${core.kind} ${config.rule} selection`);
        }
      }
    }
  }
});

test('median and trimmed mean stay inside the honest range under f arbitrary updates', () => {
  const rng = new Rng(12);
  for (const [n, f, d] of [[5, 2, 64], [11, 5, 300], [40, 13, 129], [128, 40, 33]] as const) {
    const honest = rng.vectors(n - f, d);
    const byz = Array.from({ length: f }, (_, k) => {
      const v = new Float32Array(d);
      // far away, sign-flipped, or sitting exactly on the honest extremes
      for (let j = 0; j < d; j++) v[j] = k % 3 === 0 ? 1e6 : k % 3 === 1 ? -1e6 * rng.next() : 50 * rng.gauss();
      return v;
    });
    const xs = [...byz, ...honest];
    for (const core of builds) {
      for (const config of [{ rule: 'median', f }, { rule: 'trimmed-mean', f }] as AggregationConfig[]) {
        const r = aggregate(core, xs, config).result;
        for (let j = 0; j < d; j++) {
          const col = honest.map((x) => x[j]!);
          const lo = Math.min(...col);
          const hi = Math.max(...col);
          assert.ok(r[j]! >= lo && r[j]! <= hi, `${core.kind} ${config.rule} n=${n} f=${f}: coordinate ${j} = ${r[j]} outside [${lo}, ${hi}]`);
        }
      }
    }
  }
});

test('Krum, Multi-Krum and Bulyan select only honest updates when f are far away', () => {
  const rng = new Rng(13);
  for (const [n, f, d] of [[7, 1, 10], [11, 2, 1000], [23, 5, 200], [64, 15, 64]] as const) {
    const honest = rng.vectors(n - f, d, 1, 3);
    const far = rng.vectors(f, d, 1, -40);
    // the Byzantine updates sit at slots spread through the list
    const xs: Float32Array[] = [];
    const byzSlots = new Set<number>();
    const step = Math.floor(n / f);
    let h = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      if (b < f && i % step === 1) {
        byzSlots.add(i);
        xs.push(far[b++]!);
      } else xs.push(honest[h++]!);
    }
    for (const core of builds) {
      const k = aggregate(core, xs, { rule: 'krum', f });
      assert.ok(!byzSlots.has(k.selected![0]!), `${core.kind} krum chose Byzantine slot ${k.selected}`);
      const mk = aggregate(core, xs, { rule: 'multi-krum', f, m: n - f });
      assert.equal([...mk.selected!].sort((p, q) => p - q), xs.map((_, i) => i).filter((i) => !byzSlots.has(i)), `${core.kind} multi-krum`);
      if (n >= 4 * f + 3) {
        const bu = aggregate(core, xs, { rule: 'bulyan', f });
        assert.is(bu.selected!.length, n - 2 * f);
        assert.ok(bu.selected!.every((i) => !byzSlots.has(i)), `${core.kind} bulyan chose a Byzantine slot: ${bu.selected}`);
        // and its aggregate is near the honest centre, not pulled towards −40
        assert.ok(Math.abs(bu.result.reduce((s, v) => s + v, 0) / d - 3) < 1, `${core.kind} bulyan mean coordinate`);
      }
    }
  }
});

test('geometric median matches an exhaustive grid optimum on small cases', () => {
  const rng = new Rng(14);
  for (let trial = 0; trial < 6; trial++) {
    const n = 3 + trial;
    const d = trial % 2 ? 2 : 1;
    const xs = rng.vectors(n, d, 2);
    const obj = (v: number[]): number => xs.reduce((s, x) => s + Math.sqrt(ref.sqDist(x, v)), 0) / n;
    // exhaustive: a 1e-3 grid over the bounding box, then a finer grid around the best point
    let best = [0, 0];
    let bestObj = Infinity;
    const lo = [0, 1].map((j) => Math.min(...xs.map((x) => x[j] ?? 0)));
    const hi = [0, 1].map((j) => Math.max(...xs.map((x) => x[j] ?? 0)));
    const search = (from: number[], to: number[], steps: number): void => {
      for (let a = 0; a <= steps; a++) {
        for (let b = 0; b <= (d === 2 ? steps : 0); b++) {
          const v = [from[0]! + ((to[0]! - from[0]!) * a) / steps, d === 2 ? from[1]! + ((to[1]! - from[1]!) * b) / steps : 0];
          const o = obj(v.slice(0, d));
          if (o < bestObj) {
            bestObj = o;
            best = v;
          }
        }
      }
    };
    search(lo, hi, d === 2 ? 400 : 20000);
    const cell = [0, 1].map((j) => (hi[j]! - lo[j]!) / 200);
    search(best.map((v, j) => v - cell[j]!), best.map((v, j) => v + cell[j]!), d === 2 ? 400 : 20000);
    for (const core of builds) {
      const r = aggregate(core, xs, { rule: 'geometric-median', nu: 1e-9, maxIter: 2000, tol: 0 });
      const got = obj(Array.from(r.result));
      assert.ok(got <= bestObj * (1 + 1e-5) + 1e-6, `${core.kind} n=${n} d=${d}: objective ${got} vs grid optimum ${bestObj}`);
      const dist = Math.sqrt(ref.sqDist(r.result, best.slice(0, d)));
      assert.ok(dist < 1e-2, `${core.kind} n=${n} d=${d}: ${Array.from(r.result)} is ${dist} from the grid optimum ${best.slice(0, d)}`);
    }
  }
});

test('geometric median stops on tolerance and reports its objective', () => {
  const rng = new Rng(15);
  const xs = rng.vectors(15, 40, 1);
  for (const core of builds) {
    const loose = aggregate(core, xs, { rule: 'geometric-median', maxIter: 100, tol: 1e-2 });
    const tight = aggregate(core, xs, { rule: 'geometric-median', maxIter: 100, tol: 0 });
    assert.ok(loose.iterations! < 100, `${core.kind}: tol 1e-2 stopped after ${loose.iterations}`);
    assert.is(tight.iterations, 100);
    assert.ok(tight.objective! <= loose.objective! + 1e-12, 'more iterations never increase the objective');
    const direct = ref.objective(xs, tight.result);
    assert.ok(Math.abs(direct - tight.objective!) <= 1e-5 * direct, 'reported objective is Σ αᵢ‖v − xᵢ‖');
  }
});

test('clipping bounds: norm clipping output norm ≤ maxNorm; centered clipping moves ≤ τ per iteration', () => {
  const rng = new Rng(16);
  for (const [n, d] of [[5, 3], [30, 500], [100, 64]] as const) {
    const xs = rng.vectors(n, d, 1);
    for (let i = 0; i < n; i += 3) for (let j = 0; j < d; j++) xs[i]![j] = xs[i]![j]! * 1e4; // huge updates
    const center = rng.vectors(1, d, 1)[0]!;
    for (const core of builds) {
      for (const maxNorm of [0.1, 1, 10]) {
        const r = aggregate(core, xs, { rule: 'norm-clipping', maxNorm }).result;
        assert.ok(ref.norm(r) <= maxNorm * (1 + 1e-6), `${core.kind}: ‖norm-clipped mean‖ = ${ref.norm(r)} > ${maxNorm}`);
      }
      for (const [tau, L] of [[0.5, 1], [2, 3]] as const) {
        const r = aggregate(core, xs, { rule: 'centered-clipping', tau, iterations: L, center }).result;
        const moved = Math.sqrt(ref.sqDist(r, center));
        assert.ok(moved <= tau * L * (1 + 1e-5), `${core.kind}: centered clipping moved ${moved} > τL = ${tau * L}`);
      }
    }
  }
});

test('bucketing: same seed same buckets, buckets partition the accepted updates, mean preserved', () => {
  const rng = new Rng(17);
  const xs = rng.vectors(21, 30);
  for (const core of builds) {
    const a = aggregate(core, xs, { rule: 'mean', pre: { kind: 'bucketing', s: 4, seed: 5 } });
    const b = aggregate(core, xs, { rule: 'mean', pre: { kind: 'bucketing', s: 4, seed: 5 } });
    const c = aggregate(core, xs, { rule: 'mean', pre: { kind: 'bucketing', s: 4, seed: 6 } });
    assert.equal(a.groups, b.groups);
    assert.not.equal(a.groups, c.groups, 'another seed shuffles differently');
    assert.is(a.groups!.length, 6);
    assert.equal(a.groups!.flat().sort((p, q) => p - q), xs.map((_, i) => i));
    // bucket weights are member counts, so the mean of bucket means is the mean
    assert.ok(maxAbsDiff(a.result, ref.mean(xs)) < 1e-6);
  }
});

test.run();
