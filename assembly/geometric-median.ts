import { sqDistance } from './lanes';
import { combineRows, sumCoefficients, weightedMean } from './mean';
import { f64At, rowPtr, setF64, slotAt } from './rows';

// Distances from v to every listed row: fills beta[slot] = α/max(ν, ‖v − x‖) and returns the
// objective Σ α‖v − x‖.
function distancePass(
  xs: usize, d: i32, idx: usize, m: i32, v: usize, alpha: usize, nu: f64, beta: usize,
): f64 {
  let obj: f64 = 0;
  for (let k = 0; k < m; k++) {
    const slot = slotAt(idx, k);
    const a = f64At(alpha, slot);
    const dist = Math.sqrt(sqDistance(v, rowPtr(xs, d, slot), d));
    obj += a * dist;
    setF64(beta, slot, a / max<f64>(nu, dist));
  }
  return obj;
}

// Geometric median by smoothed Weiszfeld (Pillutla et al., RFA): start at the (weighted) mean,
// then v ← Σβᵢxᵢ/Σβᵢ with βᵢ = αᵢ/max(ν, ‖v − xᵢ‖), αᵢ the normalised weights; stop after
// maxIter updates or once the objective changes by less than tol·objective.
// Returns the number of updates done; info[0] = the final objective.
export function geometricMedian(
  xs: usize, d: i32, idx: usize, m: i32, w: usize, nu: f64, maxIter: i32, tol: f64,
  out: usize, acc: usize, alpha: usize, beta: usize, info: usize,
): i32 {
  const total = sumCoefficients(idx, m, w);
  for (let k = 0; k < m; k++) {
    const slot = slotAt(idx, k);
    setF64(alpha, slot, (w ? f64At(w, slot) : 1.0) / total);
  }
  weightedMean(xs, d, idx, m, w, out, acc);
  let obj = distancePass(xs, d, idx, m, out, alpha, nu, beta);
  let iterations = 0;
  while (iterations < maxIter) {
    combineRows(xs, d, idx, m, beta, sumCoefficients(idx, m, beta), out, acc);
    iterations++;
    const prev = obj;
    obj = distancePass(xs, d, idx, m, out, alpha, nu, beta);
    if (Math.abs(prev - obj) < tol * obj) break;
  }
  setF64(info, 0, obj);
  return iterations;
}
