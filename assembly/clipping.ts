import { ACC_BLOCK, combineRows, sumCoefficients } from './mean';
import { accumulateDifference, accumulateDifference2, sqDistance, sqNorm, storeShifted, zeroF64 } from './lanes';
import { f64At, rowPtr, setF64, slotAt } from './rows';

// Centered clipping (Karimireddy et al. 2021): starting from v = out (the caller's v₀),
// `iterations` times v ← v + Σ aᵢ(xᵢ − v)·min(1, τ/‖xᵢ − v‖), aᵢ the normalised weights
// (1/m without weights). coef: float64 per slot of scratch.
export function centeredClipping(
  xs: usize, d: i32, idx: usize, m: i32, w: usize, tau: f64, iterations: i32,
  out: usize, acc: usize, coef: usize,
): void {
  const total = sumCoefficients(idx, m, w);
  for (let it = 0; it < iterations; it++) {
    for (let k = 0; k < m; k++) {
      const slot = slotAt(idx, k);
      const dist = Math.sqrt(sqDistance(rowPtr(xs, d, slot), out, d));
      const clip = dist > tau ? tau / dist : 1.0;
      setF64(coef, slot, (w ? f64At(w, slot) : 1.0) / total * clip);
    }
    for (let c = 0; c < d; c += ACC_BLOCK) {
      const len = min<i32>(ACC_BLOCK, d - c);
      const off = <usize>c << 2;
      zeroF64(acc, len);
      let k = 0;
      for (; k + 1 < m; k += 2) {
        const s1 = slotAt(idx, k);
        const s2 = slotAt(idx, k + 1);
        accumulateDifference2(acc, rowPtr(xs, d, s1) + off, f64At(coef, s1), rowPtr(xs, d, s2) + off, f64At(coef, s2), out + off, len);
      }
      if (k < m) {
        const slot = slotAt(idx, k);
        accumulateDifference(acc, rowPtr(xs, d, slot) + off, out + off, f64At(coef, slot), len);
      }
      storeShifted(out + off, acc, len);
    }
  }
}

// Norm clipping: scale every row to norm ≤ maxNorm, then take the (weighted) mean. The rows
// themselves are left untouched: the scale factors are folded into the mean's coefficients.
export function normClipping(
  xs: usize, d: i32, idx: usize, m: i32, w: usize, maxNorm: f64, out: usize, acc: usize, coef: usize,
): void {
  for (let k = 0; k < m; k++) {
    const slot = slotAt(idx, k);
    const norm = Math.sqrt(sqNorm(rowPtr(xs, d, slot), d));
    const scale = norm > maxNorm ? maxNorm / norm : 1.0;
    setF64(coef, slot, (w ? f64At(w, slot) : 1.0) * scale);
  }
  combineRows(xs, d, idx, m, coef, sumCoefficients(idx, m, w), out, acc);
}
