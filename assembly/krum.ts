import { copyF32 } from './lanes';
import { weightedMean } from './mean';
import { pairwiseSqDistances } from './distances';
import { f64At, i32At, rowPtr, setF64, setI32, slotAt } from './rows';
import { sortByKey, sortF64, sortI32 } from './sort';

// Krum score of each listed row (Blanchard et al. 2017): the sum of its k smallest squared
// distances to the other rows, in ascending order; totals[a] = the sum of all of them.
// row, tmp: m float64 of scratch.
export function krumScores(D: usize, m: i32, k: i32, scores: usize, totals: usize, row: usize, tmp: usize): void {
  for (let a = 0; a < m; a++) {
    let n = 0;
    let total: f64 = 0;
    for (let b = 0; b < m; b++) {
      if (b == a) continue;
      const v = f64At(D, a * m + b);
      setF64(row, n++, v);
      total += v;
    }
    sortF64(row, n, tmp);
    let s: f64 = 0;
    for (let t = 0; t < k; t++) s += f64At(row, t);
    setF64(scores, a, s);
    setF64(totals, a, total);
  }
}

// Whether position a ranks before position b: lower score, then — because with few neighbours
// two mutually nearest rows tie exactly on the score — lower total distance, then lower position.
// The middle key keeps the choice independent of the order in which updates arrived.
// @ts-ignore: decorator
@inline export function ranksBefore(a: i32, sa: f64, ta: f64, b: i32, sb: f64, tb: f64): bool {
  if (sa != sb) return sa < sb;
  if (ta != tb) return ta < tb;
  return a < b;
}

// Krum: the listed row with the best score (k = m − f − 2 neighbours), copied to out.
// Returns its position in the list.
export function krum(
  xs: usize, d: i32, idx: usize, m: i32, f: i32, D: usize, scores: usize, totals: usize,
  row: usize, tmp: usize, out: usize,
): i32 {
  pairwiseSqDistances(xs, d, idx, m, D);
  krumScores(D, m, m - f - 2, scores, totals, row, tmp);
  let best = 0;
  for (let a = 1; a < m; a++) {
    if (ranksBefore(a, f64At(scores, a), f64At(totals, a), best, f64At(scores, best), f64At(totals, best))) best = a;
  }
  copyF32(out, rowPtr(xs, d, slotAt(idx, best)), d);
  return best;
}

// Multi-Krum: mean of the mm best-ranked rows. order receives all positions, best first;
// sel the selected slots, ascending (the summation order).
export function multiKrum(
  xs: usize, d: i32, idx: usize, m: i32, f: i32, mm: i32, D: usize, scores: usize, totals: usize,
  row: usize, tmp: usize, order: usize, itmp: usize, sel: usize, out: usize, acc: usize,
): void {
  pairwiseSqDistances(xs, d, idx, m, D);
  krumScores(D, m, m - f - 2, scores, totals, row, tmp);
  for (let a = 0; a < m; a++) setI32(order, a, a);
  // two stable sorts: by total, then by score = ordered by (score, total, position)
  sortByKey(order, m, totals, itmp);
  sortByKey(order, m, scores, itmp);
  for (let t = 0; t < mm; t++) setI32(sel, t, slotAt(idx, i32At(order, t)));
  sortI32(sel, mm);
  weightedMean(xs, d, sel, mm, 0, out, acc);
}
