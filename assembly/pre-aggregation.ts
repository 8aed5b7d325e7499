import { weightedMean, sumCoefficients } from './mean';
import { pairwiseSqDistances } from './distances';
import { nextUnit, seedRandom } from './prng';
import { f64At, i32At, rowPtr, setF64, setI32, slotAt } from './rows';
import { sortByKey, sortI32 } from './sort';

// Bucketing (Karimireddy et al. 2022): shuffle the listed slots with the seeded generator
// (Fisher–Yates), then average consecutive buckets of s (the last may be smaller) into rows
// 0…k−1 of P. outW[b] = the bucket's total weight, outIdx = 0…k−1; returns k = ⌈m/s⌉.
// perm receives the shuffled slots, so bucket b is perm[b·s, min((b+1)·s, m)).
export function bucketize(
  xs: usize, d: i32, idx: usize, m: i32, w: usize, s: i32, seed: u32,
  perm: usize, P: usize, outIdx: usize, outW: usize, acc: usize,
): i32 {
  for (let k = 0; k < m; k++) setI32(perm, k, slotAt(idx, k));
  seedRandom(seed);
  for (let i = m - 1; i > 0; i--) {
    const j = <i32>(nextUnit() * <f64>(i + 1));
    const t = i32At(perm, i);
    setI32(perm, i, i32At(perm, j));
    setI32(perm, j, t);
  }
  const buckets = (m + s - 1) / s;
  for (let b = 0; b < buckets; b++) {
    const start = b * s;
    const count = min<i32>(s, m - start);
    const members = perm + (<usize>start << 2);
    weightedMean(xs, d, members, count, w, rowPtr(P, d, b), acc);
    setF64(outW, b, sumCoefficients(members, count, w));
    setI32(outIdx, b, b);
  }
  return buckets;
}

// Nearest-neighbour mixing (NNM, ByzFL): replace each listed row by the mean of its m − f
// nearest rows (itself included, ties by position), written to row a of P. outW[a] = the
// original row's weight. neighbours receives, per row, its m − f neighbour slots (ascending),
// row after row (m·(m − f) i32). order, itmp: m i32 of scratch.
export function nearestNeighbourMixing(
  xs: usize, d: i32, idx: usize, m: i32, f: i32, w: usize, D: usize,
  P: usize, outIdx: usize, outW: usize, order: usize, itmp: usize, neighbours: usize, acc: usize,
): void {
  pairwiseSqDistances(xs, d, idx, m, D);
  const keep = m - f;
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) setI32(order, b, b);
    sortByKey(order, m, D + (<usize>(a * m) << 3), itmp);
    const nb = neighbours + (<usize>(a * keep) << 2);
    for (let t = 0; t < keep; t++) setI32(nb, t, slotAt(idx, i32At(order, t)));
    sortI32(nb, keep);
    weightedMean(xs, d, nb, keep, 0, rowPtr(P, d, a), acc);
    setF64(outW, a, w ? f64At(w, slotAt(idx, a)) : 1.0);
    setI32(outIdx, a, a);
  }
}
