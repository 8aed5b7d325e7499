// Huge finite updates (issue 14, item 5): one attacker sends values such as 1e20 or ±3e38 —
// finite float32, so they pass the non-finite check, but their squared distances overflow
// float32. Every rule that ranks or weighs updates by distance must still rank them, whatever
// slot the attacker's update arrives in: the attacker is put in each slot 0…n−1 in turn, the
// honest updates keep their relative order, and the outcome must not change. Both builds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AggregationConfig, Core } from '../../src/core/index.ts';
import { aggregate, bothCores, type Outcome } from './cores.ts';
import { Rng, identical, maxAbs, maxAbsDiff } from './random.ts';
import * as ref from './reference.ts';

const { wasm, js } = await bothCores();
const builds: Core[] = [wasm, js];

/** Attacker rows of length d: the issue's [1e20, 0, 0, 0], values at the float32 limit, mixed signs. */
function attackers(d: number): [string, Float32Array][] {
  const one = (v: number): Float32Array => {
    const x = new Float32Array(d);
    x[0] = v;
    return x;
  };
  const mixed = Float32Array.from({ length: d }, (_, j) => [-3e38, 3e38, -1e20, 1e20][j % 4]!);
  return [['[1e20, 0, …]', one(1e20)], ['[3e38, 0, …]', one(3e38)], ['[-3e38, 0, …]', one(-3e38)], ['±3e38/±1e20 in every coordinate', mixed]];
}

/** Honest updates: uniform in [-1, 1]. */
function honestRows(seed: number, n: number, d: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.next() * 2 - 1));
}

/** The honest rows with the attacker inserted at slot s. */
function withAttacker(honest: Float32Array[], attacker: Float32Array, s: number): Float32Array[] {
  const xs = [...honest];
  xs.splice(s, 0, attacker);
  return xs;
}

/** Slot → index among the honest rows (−1: the attacker). */
function honestIndex(slot: number, s: number): number {
  return slot === s ? -1 : slot < s ? slot : slot - 1;
}

function finite(o: Outcome, what: string): void {
  assert.ok(o.result.every(Number.isFinite), `${what}: result not finite: [${Array.from(o.result).join(', ')}]`);
}

/** Every coordinate within [lo − slack, hi + slack] of the honest values of that coordinate. */
function insideHonest(result: ArrayLike<number>, honest: Float32Array[], slack: number, what: string): void {
  for (let j = 0; j < result.length; j++) {
    const col = honest.map((x) => x[j]!);
    const lo = Math.min(...col) - slack;
    const hi = Math.max(...col) + slack;
    assert.ok(result[j]! >= lo && result[j]! <= hi, `${what}: coordinate ${j} = ${result[j]} outside [${lo}, ${hi}]`);
  }
}

type SlotOutcome = { selected?: number[]; result: Float32Array };

/** The first slot's outcome; every later one must equal it (the attacker's slot must not matter). */
function sameAsFirst(first: SlotOutcome | undefined, now: SlotOutcome, what: string): SlotOutcome {
  if (!first) return now;
  if (now.selected) assert.equal(now.selected, first.selected, `${what}: selection differs from slot 0`);
  assert.ok(identical(now.result, first.result), `${what}: aggregate differs from slot 0`);
  return first;
}

// The cases: (n, f, d). d = 4 is the issue's; d = 37 runs the 8-lane body and the tail, d = 600
// several 256-coordinate chunks.
const SHAPES: [number, number, number][] = [[7, 1, 4], [7, 1, 37], [11, 2, 600]];

test('Bulyan: the same honest selection and the same aggregate with the attacker in every slot', () => {
  for (const [n, f, d] of SHAPES) {
    const honest = honestRows(n * 31 + d, n - 1, d);
    for (const [name, attacker] of attackers(d)) {
      for (const core of builds) {
        const what = (s: number): string => `${core.kind} bulyan n=${n} f=${f} d=${d} attacker ${name} in slot ${s}`;
        let first: SlotOutcome | undefined;
        for (let s = 0; s < n; s++) {
          const o = aggregate(core, withAttacker(honest, attacker, s), { rule: 'bulyan', f });
          const selected = o.selected!.map((slot) => honestIndex(slot, s));
          assert.ok(!selected.includes(-1), `${what(s)}: the attacker was selected (${o.selected})`);
          assert.is(selected.length, n - 2 * f, `${what(s)}: θ = n − 2f selected`);
          finite(o, what(s));
          insideHonest(o.result, honest, 0, what(s));
          first = sameAsFirst(first, { selected, result: o.result }, what(s));
        }
      }
    }
  }
});

test('Krum and Multi-Krum: the same honest choice and aggregate with the attacker in every slot', () => {
  for (const [n, f, d] of SHAPES) {
    const honest = honestRows(n * 37 + d, n - 1, d);
    for (const [name, attacker] of attackers(d)) {
      for (const core of builds) {
        for (const config of [{ rule: 'krum', f }, { rule: 'multi-krum', f, m: n - f - 1 }] as AggregationConfig[]) {
          const what = (s: number): string => `${core.kind} ${config.rule} n=${n} f=${f} d=${d} attacker ${name} in slot ${s}`;
          let first: SlotOutcome | undefined;
          for (let s = 0; s < n; s++) {
            const o = aggregate(core, withAttacker(honest, attacker, s), config);
            const selected = o.selected!.map((slot) => honestIndex(slot, s));
            assert.ok(!selected.includes(-1), `${what(s)}: the attacker was selected (${o.selected})`);
            assert.ok(o.scores!.every(Number.isFinite), `${what(s)}: scores not finite: ${o.scores}`);
            // the attacker's score is the worst: its distances are the largest
            const worst = Math.max(...o.scores!);
            assert.is(o.scores![s], worst, `${what(s)}: the attacker does not have the worst score`);
            assert.ok(o.scores!.filter((v) => v === worst).length === 1, `${what(s)}: the worst score is shared`);
            finite(o, what(s));
            insideHonest(o.result, honest, 0, what(s));
            first = sameAsFirst(first, { selected, result: o.result }, what(s));
          }
        }
      }
    }
  }
});

test('NNM: the attacker stays out of every honest neighbourhood; NNM + trimmed mean / Krum do not move with its slot', () => {
  for (const [n, f, d] of SHAPES) {
    const honest = honestRows(n * 41 + d, n - 1, d);
    const honestMean = ref.mean(honest);
    for (const [name, attacker] of attackers(d)) {
      for (const core of builds) {
        for (const config of [{ rule: 'trimmed-mean', f, pre: { kind: 'nnm' } }, { rule: 'krum', f, pre: { kind: 'nnm' } }] as AggregationConfig[]) {
          let first: SlotOutcome | undefined;
          for (let s = 0; s < n; s++) {
            const what = `${core.kind} nnm+${config.rule} n=${n} f=${f} d=${d} attacker ${name} in slot ${s}`;
            const o = aggregate(core, withAttacker(honest, attacker, s), config);
            o.groups!.forEach((g, row) => {
              if (row !== s) assert.ok(!g.includes(s), `${what}: the attacker is a neighbour of row ${row}: ${g}`);
            });
            finite(o, what);
            insideHonest(o.result, honest, 0, what);
            // with n − f = the honest count, every honest row mixes into the honest mean
            if (f === 1) assert.ok(maxAbsDiff(o.result, honestMean) <= 1e-6, `${what}: ${maxAbsDiff(o.result, honestMean)} from the honest mean`);
            first = sameAsFirst(first, { result: o.result }, what);
          }
        }
      }
    }
  }
});

test('centered and norm clipping: the attacker moves the aggregate by at most its clipped share', () => {
  for (const [n, f, d] of SHAPES) {
    const honest = honestRows(n * 43 + d, n - 1, d);
    const tau = 0.5;
    const maxNorm = 0.5;
    for (const [name, attacker] of attackers(d)) {
      for (const core of builds) {
        for (let s = 0; s < n; s++) {
          const xs = withAttacker(honest, attacker, s);
          const what = (rule: string): string => `${core.kind} ${rule} n=${n} d=${d} attacker ${name} in slot ${s}`;
          // centered clipping from v₀ = 0: each update contributes (1/n)·clip(x − v), so the attacker
          // at most τ/n in norm; the reference computes distances in float64.
          const cc = aggregate(core, xs, { rule: 'centered-clipping', f, tau, iterations: 2 });
          finite(cc, what('centered-clipping'));
          const ccRef = ref.centeredClipping(xs, undefined, tau, 2, new Float32Array(d));
          assert.ok(maxAbsDiff(cc.result, ccRef) <= 1e-5, `${what('centered-clipping')}: ${maxAbsDiff(cc.result, ccRef)} from the reference`);
          // v₀ = 0 and the honest updates lie in [-1, 1]: two steps leave at most 2τ/n from that box
          assert.ok(maxAbs(cc.result) <= 1 + (2 * tau) / n + 1e-6, `${what('centered-clipping')}: max |v| = ${maxAbs(cc.result)}`);
          // norm clipping: the attacker is scaled to norm maxNorm, so it adds at most maxNorm/n
          const nc = aggregate(core, xs, { rule: 'norm-clipping', f, maxNorm });
          finite(nc, what('norm-clipping'));
          const ncRef = ref.normClipping(xs, undefined, maxNorm);
          assert.ok(maxAbsDiff(nc.result, ncRef) <= 1e-6, `${what('norm-clipping')}: ${maxAbsDiff(nc.result, ncRef)} from the reference`);
          assert.ok(ref.norm(nc.result) <= maxNorm * (1 + 1e-6), `${what('norm-clipping')}: norm ${ref.norm(nc.result)} > ${maxNorm}`);
        }
      }
    }
  }
});

test('geometric median: finite and inside the honest cluster with the attacker in every slot', () => {
  for (const [n, f, d] of SHAPES) {
    const honest = honestRows(n * 47 + d, n - 1, d);
    // the honest ball: around their mean, radius = the farthest honest update. One outlier among
    // n moves the geometric median by a bounded fraction of the honest spread, never out of it.
    const centre = ref.mean(honest);
    const radius = Math.max(...honest.map((h) => Math.sqrt(ref.sqDist(h, centre))));
    for (const [name, attacker] of attackers(d)) {
      for (const core of builds) {
        for (let s = 0; s < n; s++) {
          const xs = withAttacker(honest, attacker, s);
          const what = `${core.kind} geometric-median n=${n} f=${f} d=${d} attacker ${name} in slot ${s}`;
          const o = aggregate(core, xs, { rule: 'geometric-median', f }); // the defaults
          finite(o, what);
          assert.ok(Number.isFinite(o.objective), `${what}: objective ${o.objective}`);
          const off = Math.sqrt(ref.sqDist(o.result, centre));
          assert.ok(off <= radius, `${what}: ${off} from the honest mean, outside the honest ball of radius ${radius}`);
          const r = ref.geometricMedian(xs, undefined, 1e-5, 8, 0);
          const g = aggregate(core, xs, { rule: 'geometric-median', f, maxIter: 8, tol: 0 });
          assert.ok(maxAbsDiff(g.result, r.result) <= 1e-5 * Math.max(1, maxAbs(r.result)), `${what}: ${maxAbsDiff(g.result, r.result)} from the reference`);
        }
      }
    }
  }
});

test('both builds agree bit for bit on huge finite inputs', () => {
  const [n, f, d] = [11, 2, 600];
  const honest = honestRows(5, n - 1, d);
  const configs: AggregationConfig[] = [
    { rule: 'krum', f }, { rule: 'multi-krum', f }, { rule: 'bulyan', f }, { rule: 'geometric-median', f },
    { rule: 'centered-clipping', f, tau: 1, iterations: 3 }, { rule: 'norm-clipping', f, maxNorm: 1 },
    { rule: 'median', f, pre: { kind: 'nnm' } },
  ];
  for (const [name, attacker] of attackers(d)) {
    const xs = withAttacker(honest, attacker, 3);
    for (const config of configs) {
      const a = aggregate(wasm, xs, config);
      const b = aggregate(js, xs, config);
      const what = `${config.rule} attacker ${name}`;
      assert.ok(identical(a.result, b.result), `${what}: results differ`);
      assert.equal(b.selected, a.selected, `${what}: selection`);
      if (a.scores) assert.ok(identical(a.scores, b.scores!), `${what}: scores`);
      assert.ok(Object.is(a.objective, b.objective), `${what}: objective`);
    }
  }
});

test('NaN and ±Inf next to huge finite values are still rejected, the huge ones accepted', () => {
  const d = 37;
  const xs = honestRows(9, 9, d);
  xs[1]![3] = 3e38;
  xs[4]![0] = NaN;
  xs[6]![36] = -Infinity;
  xs[7]![10] = -3e38;
  for (const core of builds) {
    const o = aggregate(core, xs, { rule: 'krum', f: 2 });
    assert.equal(o.rejected.map((r) => [r.index, r.code]), [[4, 'non-finite'], [6, 'non-finite']]);
    assert.equal(o.accepted, [0, 1, 2, 3, 5, 7, 8]);
    assert.ok(!o.selected!.includes(1) && !o.selected!.includes(7), `${core.kind}: a huge update was selected: ${o.selected}`);
    assert.ok(o.scores!.every(Number.isFinite), `${core.kind}: scores ${o.scores}`);
    finite(o, `${core.kind} krum`);
  }
});

test.run();
