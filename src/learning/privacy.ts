// DP-FedAvg on the sender's side (McMahan et al. 2018): clip the update to L2 norm S, then add
// Gaussian noise. The noise is split over the expected cohort of c senders (std z·S/√c each), so
// that the SUM of the honest updates carries exactly DP-FedAvg's N(0, (zS)²) noise: the
// guarantee is for whoever sees only the sum (with secure aggregation). A node that sees an
// individual update sees it with std z·S/√c only — stated in the status, not hidden.
import type { Prng } from '../mesh/simulator/prng.ts';

export interface DpOptions {
  /** Clip norm S > 0. */
  clipNorm: number;
  /** Noise multiplier z ≥ 0 (z ≥ 1 for meaningful privacy). */
  noiseMultiplier: number;
  /** Expected number of honest senders per round the noise is split over (≥ 1). */
  cohort: number;
}

export function checkDp(dp: DpOptions): DpOptions {
  if (!(Number.isFinite(dp.clipNorm) && dp.clipNorm > 0)) throw new RangeError(`dp: clip norm must be > 0, got ${String(dp.clipNorm)}`);
  if (!(Number.isFinite(dp.noiseMultiplier) && dp.noiseMultiplier >= 0)) throw new RangeError(`dp: noise multiplier must be ≥ 0, got ${String(dp.noiseMultiplier)}`);
  if (!(Number.isInteger(dp.cohort) && dp.cohort >= 1)) throw new RangeError(`dp: cohort must be an integer ≥ 1, got ${String(dp.cohort)}`);
  return dp;
}

/** L2 norm in float64. */
export function l2(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

/** Returns a clipped, noised copy of the update. */
export function privatize(update: Float32Array, dp: DpOptions, rng: Prng): Float32Array {
  const norm = l2(update);
  const scale = norm > dp.clipNorm ? dp.clipNorm / norm : 1;
  const sigma = (dp.noiseMultiplier * dp.clipNorm) / Math.sqrt(dp.cohort);
  const out = new Float32Array(update.length);
  for (let j = 0; j < update.length; j++) out[j] = update[j]! * scale + (sigma > 0 ? sigma * rng.normal() : 0);
  return out;
}
