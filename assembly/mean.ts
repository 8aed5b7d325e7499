import { accumulate, storeQuotient, zeroF64 } from './lanes';
import { f64At, rowPtr, slotAt } from './rows';

// Coordinates per float64 accumulator block: 8 KiB, so the accumulator stays in L1 while every
// accepted row streams through it once.
export const ACC_BLOCK: i32 = 1024;

// out = Σ coef[slot]·x[slot] / divisor over the m slots listed in idx (coef = 0: all ones).
// Rows are added in list order, in float64, one coordinate block at a time.
export function combineRows(
  xs: usize, d: i32, idx: usize, m: i32, coef: usize, divisor: f64, out: usize, acc: usize,
): void {
  for (let c = 0; c < d; c += ACC_BLOCK) {
    const len = min<i32>(ACC_BLOCK, d - c);
    zeroF64(acc, len);
    for (let k = 0; k < m; k++) {
      const slot = slotAt(idx, k);
      const w: f64 = coef ? f64At(coef, slot) : 1.0;
      accumulate(acc, rowPtr(xs, d, slot) + (<usize>c << 2), w, len);
    }
    storeQuotient(out + (<usize>c << 2), acc, divisor, len);
  }
}

// Sum of coef[slot] over the listed slots (m when coef = 0).
export function sumCoefficients(idx: usize, m: i32, coef: usize): f64 {
  if (!coef) return <f64>m;
  let s: f64 = 0;
  for (let k = 0; k < m; k++) s += f64At(coef, slotAt(idx, k));
  return s;
}

// FedAvg: (weighted) mean of the listed rows.
export function weightedMean(xs: usize, d: i32, idx: usize, m: i32, w: usize, out: usize, acc: usize): void {
  combineRows(xs, d, idx, m, w, sumCoefficients(idx, m, w), out, acc);
}
