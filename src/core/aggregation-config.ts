// What a caller may ask of an aggregator, and the check that refuses every configuration
// outside the rule's guarantee before any work is done.
import { AggregationError } from './errors.ts';

export type AggregationRule =
  | 'mean'
  | 'median'
  | 'trimmed-mean'
  | 'krum'
  | 'multi-krum'
  | 'bulyan'
  | 'geometric-median'
  | 'centered-clipping'
  | 'norm-clipping';

export const AGGREGATION_RULES: readonly AggregationRule[] = [
  'mean', 'median', 'trimmed-mean', 'krum', 'multi-krum', 'bulyan', 'geometric-median', 'centered-clipping',
  'norm-clipping',
];

/** Applied before the rule; the rule then runs on the pre-aggregated rows. */
export type PreAggregation =
  /** Karimireddy et al. 2022: shuffle (seeded), average buckets of s, then the rule. */
  | { kind: 'bucketing'; s: number; seed: number }
  /** ByzFL NNM: each update becomes the mean of its n − f nearest updates, then the rule. */
  | { kind: 'nnm' };

interface Common {
  /** Byzantine updates to tolerate (default 0). Updates rejected as malformed count against f. */
  f?: number;
  pre?: PreAggregation;
  /** Aggregate only slots 0…count−1 (default n): a round where fewer peers answered. */
  count?: number;
}

export type AggregationConfig =
  | (Common & { rule: 'mean' })
  | (Common & { rule: 'median' })
  /** b: values dropped per side and coordinate (default f); needs f ≤ b < n/2. */
  | (Common & { rule: 'trimmed-mean'; b?: number })
  | (Common & { rule: 'krum' })
  /** m: how many of the best-scored updates to average (default n − f). */
  | (Common & { rule: 'multi-krum'; m?: number })
  | (Common & { rule: 'bulyan' })
  /**
   * nu: smoothing ν (default 1e-5); maxIter: Weiszfeld updates (default 8); tol: relative objective change to stop at (default 1e-6).
   * Starts at the (weighted) mean or the coordinate-wise median, whichever has the lower objective.
   */
  | (Common & { rule: 'geometric-median'; nu?: number; maxIter?: number; tol?: number })
  /** tau: clipping radius τ (default 10); iterations L (default 1); center v₀ (default 0, normally the last aggregate). */
  | (Common & { rule: 'centered-clipping'; tau?: number; iterations?: number; center?: ArrayLike<number> })
  /** maxNorm: every update is scaled to norm ≤ maxNorm before the mean. */
  | (Common & { rule: 'norm-clipping'; maxNorm: number });

/** Rules that use per-update weights (the others refuse weights rather than silently ignore them). */
export const WEIGHTED_RULES: ReadonlySet<AggregationRule> = new Set([
  'mean', 'geometric-median', 'centered-clipping', 'norm-clipping',
]);

export interface Plan {
  rule: AggregationRule;
  /** Byzantine updates still possible among the accepted ones: f minus the rejected ones. */
  f: number;
  b: number;
  m: number;
  nu: number;
  maxIter: number;
  tol: number;
  tau: number;
  iterations: number;
  maxNorm: number;
  pre: PreAggregation | undefined;
}

export function fail(rule: string, message: string): never {
  throw new AggregationError('invalid-config', `${rule}: ${message}`, rule);
}

function integer(rule: string, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(rule, `${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

function positive(rule: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(rule, `${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}

/**
 * Validates the configuration for `rows` rows entering the rule (after rejections and
 * pre-aggregation) and `rejected` malformed updates. Throws AggregationError with the reason.
 */
export function planAggregation(config: AggregationConfig, accepted: number, rejected: number): Plan {
  if (typeof config !== 'object' || config === null) fail('aggregation', 'config must be an object');
  const rule = config.rule;
  if (!AGGREGATION_RULES.includes(rule)) fail('aggregation', `unknown rule ${JSON.stringify(rule)}; one of ${AGGREGATION_RULES.join(', ')}`);
  const f0 = integer(rule, 'f', config.f ?? 0, 0, 1 << 20);
  // A rejected update is provably faulty; the f bound covers it, so at most f − rejected of
  // the accepted updates can still be Byzantine.
  const f = Math.max(0, f0 - rejected);
  const pre = config.pre;
  if (accepted < 1) {
    throw new AggregationError('no-updates', `${rule}: no update left to aggregate (${rejected} rejected)`, rule);
  }
  let n = accepted;
  if (pre !== undefined) {
    if (pre.kind === 'bucketing') {
      const s = integer(rule, 'bucketing s', pre.s, 1, 1 << 20);
      integer(rule, 'bucketing seed', pre.seed, 0, 0xffffffff);
      n = Math.ceil(accepted / s);
    } else if (pre.kind === 'nnm') {
      if (accepted - f < 1) {
        throw new AggregationError('below-guarantee', `${rule}: NNM needs n − f ≥ 1 neighbours (n=${accepted}, f=${f})`, rule);
      }
    } else {
      fail(rule, `unknown pre-aggregation ${JSON.stringify((pre as { kind: unknown }).kind)}; bucketing or nnm`);
    }
  }
  const what = pre?.kind === 'bucketing' ? `${n} buckets of ${accepted} accepted updates` : `n=${n} accepted updates`;
  const below = (need: string, source: string): never => {
    throw new AggregationError('below-guarantee', `${rule} needs ${need} (${source}); ${what}, f=${f}`, rule);
  };

  const plan: Plan = {
    rule, f, b: 0, m: 0, nu: 1e-5, maxIter: 8, tol: 1e-6, tau: 10, iterations: 1, maxNorm: 0, pre,
  };
  switch (config.rule) {
    case 'mean':
      if (f > 0) below('f = 0: one Byzantine update moves the mean arbitrarily far', 'FedAvg');
      break;
    case 'median':
      if (n < 2 * f + 1) below('n ≥ 2f + 1', 'Yin et al. 2018');
      break;
    case 'trimmed-mean': {
      const b = integer(rule, 'b', config.b ?? f, 0, 1 << 20);
      if (b < f) below(`b ≥ f (b=${b})`, 'Yin et al. 2018');
      if (n < 2 * b + 1) below(`n ≥ 2b + 1 (b=${b})`, 'Yin et al. 2018');
      plan.b = b;
      break;
    }
    case 'krum':
      if (n < 2 * f + 3) below('n ≥ 2f + 3', 'Blanchard et al. 2017');
      break;
    case 'multi-krum': {
      if (n < 2 * f + 3) below('n ≥ 2f + 3', 'Blanchard et al. 2017');
      plan.m = integer(rule, 'm', config.m ?? n - f, 1, n - f);
      break;
    }
    case 'bulyan':
      if (n < 4 * f + 3) below('n ≥ 4f + 3', 'El Mhamdi et al. 2018');
      break;
    case 'geometric-median':
      if (n < 2 * f + 1) below('n ≥ 2f + 1 (breakdown point 1/2)', 'Pillutla et al.');
      plan.nu = positive(rule, 'nu', config.nu ?? plan.nu);
      plan.maxIter = integer(rule, 'maxIter', config.maxIter ?? plan.maxIter, 1, 10000);
      plan.tol = config.tol ?? plan.tol;
      if (typeof plan.tol !== 'number' || !Number.isFinite(plan.tol) || plan.tol < 0) fail(rule, `tol must be a finite number ≥ 0, got ${String(config.tol)}`);
      break;
    case 'centered-clipping':
      if (n < 2 * f + 1) below('n ≥ 2f + 1', 'Karimireddy et al. 2021');
      plan.tau = positive(rule, 'tau', config.tau ?? plan.tau);
      plan.iterations = integer(rule, 'iterations', config.iterations ?? plan.iterations, 1, 1000);
      break;
    case 'norm-clipping':
      if (n < 2 * f + 1) below('n ≥ 2f + 1', 'a Byzantine majority outweighs any clipped honest update');
      plan.maxNorm = positive(rule, 'maxNorm', config.maxNorm);
      break;
  }
  return plan;
}
