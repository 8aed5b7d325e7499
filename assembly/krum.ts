import { copyF32 } from './lanes';
import { weightedMean } from './mean';
import { pairwiseSqDistances } from './distances';
import { f64At, i32At, rowPtr, setF64, setI32, slotAt } from './rows';
import { sortByKey, sortF64, sortI32 } from './sort';

// Krum score of each listed row (Blanchard et al. 2017): the sum of its k smallest squared
// distances to the other rows, in ascending order. row, tmp: m float64 of scratch.
export function krumScores(D: usize, m: i32, k: i32, scores: usize, row: usize, tmp: usize): void {
  for (let a = 0; a < m; a++) {
    let n = 0;
    for (let b = 0; b < m; b++) if (b != a) setF64(row, n++, f64At(D, a * m + b));
    sortF64(row, n, tmp);
    let s: f64 = 0;
    for (let t = 0; t < k; t++) s += f64At(row, t);
    setF64(scores, a, s);
  }
}

// Krum: the listed row with the lowest score (k = m − f − 2 neighbours), copied to out.
// Returns its position in the list; ties go to the lowest position.
export function krum(
  xs: usize, d: i32, idx: usize, m: i32, f: i32, D: usize, scores: usize, row: usize, tmp: usize, out: usize,
): i32 {
  pairwiseSqDistances(xs, d, idx, m, D);
  krumScores(D, m, m - f - 2, scores, row, tmp);
  let best = 0;
  for (let a = 1; a < m; a++) if (f64At(scores, a) < f64At(scores, best)) best = a;
  copyF32(out, rowPtr(xs, d, slotAt(idx, best)), d);
  return best;
}

// Multi-Krum: mean of the mm lowest-scoring rows (ties by position). order receives the
// positions by ascending score; sel the selected slots, ascending (the summation order).
export function multiKrum(
  xs: usize, d: i32, idx: usize, m: i32, f: i32, mm: i32, D: usize, scores: usize, row: usize, tmp: usize,
  order: usize, itmp: usize, sel: usize, out: usize, acc: usize,
): void {
  pairwiseSqDistances(xs, d, idx, m, D);
  krumScores(D, m, m - f - 2, scores, row, tmp);
  for (let a = 0; a < m; a++) setI32(order, a, a);
  sortByKey(order, m, scores, itmp);
  for (let t = 0; t < mm; t++) setI32(sel, t, slotAt(idx, i32At(order, t)));
  sortI32(sel, mm);
  weightedMean(xs, d, sel, mm, 0, out, acc);
}
