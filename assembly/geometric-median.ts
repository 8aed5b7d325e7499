import { coordinateMedian } from './coordinate-wise';
import { copyF32, sqDistance } from './lanes';
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

// Geometric median by smoothed Weiszfeld (Pillutla et al., RFA): start at the (weighted) mean or
// the coordinate-wise median, whichever has the lower objective (the mean on a tie), then
// v ← Σβᵢxᵢ/Σβᵢ with βᵢ = αᵢ/max(ν, ‖v − xᵢ‖), αᵢ the normalised weights; stop after maxIter
// updates or once the objective changes by less than tol·objective.
// Why the median candidate: RFA starts at the mean, but one update 1e20 away puts the mean
// 1e20/m away from the honest ones, and each Weiszfeld update only divides that by about m − 1,
// so the default 8 updates end ~1e13 away. The median starts inside the honest majority (its
// breakdown point is 1/2, as the geometric median's), and on benign inputs the mean usually wins.
// Returns the number of updates done; info[0] = the final objective.
// start: d float32 of scratch; S, pairs: the column scratch and network of coordinateMedian.
export function geometricMedian(
  xs: usize, d: i32, idx: usize, m: i32, w: usize, nu: f64, maxIter: i32, tol: f64,
  out: usize, acc: usize, alpha: usize, beta: usize, info: usize, start: usize, S: usize, pairs: usize,
): i32 {
  const total = sumCoefficients(idx, m, w);
  for (let k = 0; k < m; k++) {
    const slot = slotAt(idx, k);
    setF64(alpha, slot, (w ? f64At(w, slot) : 1.0) / total);
  }
  coordinateMedian(xs, d, idx, m, start, S, pairs);
  const medianObj = distancePass(xs, d, idx, m, start, alpha, nu, beta);
  weightedMean(xs, d, idx, m, w, out, acc);
  let obj = distancePass(xs, d, idx, m, out, alpha, nu, beta);
  if (medianObj < obj) {
    copyF32(out, start, d);
    obj = distancePass(xs, d, idx, m, out, alpha, nu, beta); // beta for the median again
  }
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
