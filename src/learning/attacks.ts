// Byzantine attacks on a round, as the literature states them (shared/reference/
// federated-learning.md). μ and σ are the mean and per-coordinate standard deviation of the
// honest updates of the round: the attackers are omniscient and rushing (they see the honest
// updates before sending), the strongest usual assumption. Used by the attack tests and by
// bench/byzantine; label flipping is a data attack and lives with the attacker's dataset.
import type { Prng } from '../mesh/simulator/prng.ts';
import type { RoundTransport } from './round-transport.ts';
import { decodeMessage, encodeMessage } from './wire.ts';

export const ATTACKS = ['sign-flip', 'gaussian', 'label-flip', 'alie', 'ipm', 'min-max', 'mimic'] as const;
export type AttackName = (typeof ATTACKS)[number];

export function meanAndStd(xs: readonly Float32Array[]): { mu: Float64Array; sigma: Float64Array } {
  const d = xs[0]!.length;
  const mu = new Float64Array(d);
  const sigma = new Float64Array(d);
  for (const x of xs) for (let j = 0; j < d; j++) mu[j]! += x[j]! / xs.length;
  for (const x of xs) for (let j = 0; j < d; j++) sigma[j]! += (x[j]! - mu[j]!) ** 2 / xs.length;
  for (let j = 0; j < d; j++) sigma[j] = Math.sqrt(sigma[j]!);
  return { mu, sigma };
}

/** Sign flipping: −μ. */
export function signFlip(honest: readonly Float32Array[]): Float32Array {
  return Float32Array.from(meanAndStd(honest).mu, (v) => -v);
}

/** Gaussian: N(0, sd²) per coordinate (sd = 1 in the reference). */
export function gaussianNoise(d: number, rng: Prng, sd = 1): Float32Array {
  return Float32Array.from({ length: d }, () => sd * rng.normal());
}

/** ALIE's z (Baruch et al. 2019): s = ⌊n/2 + 1⌋ − f, z = Φ⁻¹((n − s)/n). */
export function alieZ(n: number, f: number): number {
  const s = Math.floor(n / 2 + 1) - f;
  return inverseNormalCdf((n - s) / n);
}

/** A little is enough: μ − z·σ. */
export function alie(honest: readonly Float32Array[], n: number, f: number, z = alieZ(n, f)): Float32Array {
  const { mu, sigma } = meanAndStd(honest);
  return Float32Array.from(mu, (m, j) => m - z * sigma[j]!);
}

/** Inner-product manipulation (Xie et al. 2019): −ε·μ (ε = 0.1 as in the bucketing paper). */
export function ipm(honest: readonly Float32Array[], eps = 0.1): Float32Array {
  return Float32Array.from(meanAndStd(honest).mu, (v) => -eps * v);
}

/**
 * Min-Max (Shejwalkar & Houmansadr 2021): m = μ − γ·p with the largest γ such that
 * max_i ‖m − xᵢ‖² ≤ max_{i,j} ‖xᵢ − xⱼ‖². p: 'std' (σ, default), 'unit' (μ/‖μ‖) or 'sign' (sign μ).
 */
export function minMax(honest: readonly Float32Array[], p: 'std' | 'unit' | 'sign' = 'std'): Float32Array {
  const { mu, sigma } = meanAndStd(honest);
  const d = mu.length;
  const norm = Math.sqrt(mu.reduce((a, v) => a + v * v, 0)) || 1;
  const dir = Float64Array.from({ length: d }, (_, j) => (p === 'std' ? sigma[j]! : p === 'unit' ? mu[j]! / norm : Math.sign(mu[j]!)));
  let bound = 0;
  for (let i = 0; i < honest.length; i++) for (let k = i + 1; k < honest.length; k++) bound = Math.max(bound, sqDist(honest[i]!, honest[k]!));
  const at = (g: number) => Float32Array.from(mu, (m, j) => m - g * dir[j]!);
  const ok = (g: number) => {
    const m = at(g);
    return honest.every((x) => sqDist(m, x) <= bound);
  };
  let lo = 0;
  let hi = 1;
  while (ok(hi) && hi < 1e9) {
    lo = hi;
    hi *= 2;
  }
  for (let it = 0; it < 40; it++) {
    const mid = (lo + hi) / 2;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return at(lo);
}

/** Mimic: every attacker sends a copy of one honest peer's update. */
export function mimic(honest: readonly Float32Array[], target = 0): Float32Array {
  return honest[Math.min(target, honest.length - 1)]!.slice();
}

/** Labels flipped for the label-flipping attacker's training data (binary: y → 1 − y). */
export function flipLabels(y: Uint8Array): Uint8Array {
  return y.map((v) => 1 - v);
}

function sqDist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return s;
}

/** Φ⁻¹ (Acklam's rational approximation, |error| < 1.2e-9). */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`Φ⁻¹ needs p in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const e = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lowTail = 0.02425;
  if (p < lowTail) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((e[0]! * q + e[1]!) * q + e[2]!) * q + e[3]!) * q + 1);
  }
  if (p > 1 - lowTail) return -inverseNormalCdf(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * A Byzantine participant on the learning topic: it records every honest update it hears and,
 * when told to, publishes its crafted update for the round under its own (admitted) identity.
 */
export class ByzantinePeer {
  private readonly heard = new Map<number, Map<string, Float32Array>>();
  private readonly off: () => void;

  constructor(
    readonly transport: RoundTransport,
    private readonly isColluder: (peer: string) => boolean,
  ) {
    this.off = transport.subscribe((bytes, from) => {
      if (this.isColluder(from)) return;
      try {
        const m = decodeMessage(bytes);
        if (m.type !== 'update' || !(m.values instanceof Float32Array)) return;
        let r = this.heard.get(m.round);
        if (!r) this.heard.set(m.round, (r = new Map()));
        r.set(from, m.values);
      } catch {
        // not ours to judge
      }
    });
  }

  /** Honest updates heard for round r, in sender order. */
  honest(round: number): Float32Array[] {
    const r = this.heard.get(round);
    return r ? [...r.keys()].sort().map((k) => r.get(k)!) : [];
  }

  async send(round: number, values: Float32Array, modelVersion = round): Promise<void> {
    await this.transport.publish(encodeMessage({ type: 'update', round, modelVersion, sender: this.transport.self, values }));
    for (const k of [...this.heard.keys()]) if (k < round) this.heard.delete(k);
  }

  dispose(): void {
    this.off();
  }
}
