import { accumulate, accumulate2, storeQuotient, zeroF64 } from './lanes';
import { f64At, rowPtr, slotAt } from './rows';

// Coordinates per float64 accumulator block: 8 KiB, so the accumulator stays in L1 while every
// accepted row streams through it once.
export const ACC_BLOCK: i32 = 1024;

// out = Σ coef[slot]·x[slot] / divisor over the m slots listed in idx (coef = 0: all ones).
// Rows are added in list order, in float64, one coordinate block at a time, two rows per pass
// over the block's accumulator.
export function combineRows(
  xs: usize, d: i32, idx: usize, m: i32, coef: usize, divisor: f64, out: usize, acc: usize,
): void {
  for (let c = 0; c < d; c += ACC_BLOCK) {
    const len = min<i32>(ACC_BLOCK, d - c);
    const off = <usize>c << 2;
    zeroF64(acc, len);
    let k = 0;
    for (; k + 1 < m; k += 2) {
      const s1 = slotAt(idx, k);
      const s2 = slotAt(idx, k + 1);
      const w1: f64 = coef ? f64At(coef, s1) : 1.0;
      const w2: f64 = coef ? f64At(coef, s2) : 1.0;
      accumulate2(acc, rowPtr(xs, d, s1) + off, w1, rowPtr(xs, d, s2) + off, w2, len);
    }
    if (k < m) {
      const slot = slotAt(idx, k);
      accumulate(acc, rowPtr(xs, d, slot) + off, coef ? f64At(coef, slot) : 1.0, len);
    }
    storeQuotient(out + off, acc, divisor, len);
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
