// One round's robust aggregation in the WASM core: the configured rule, optionally after
// bucketing, with the clipping radius chosen from the round's own updates when asked to
// ('auto': the median distance, which a Byzantine minority cannot move far). When the rule
// cannot guarantee anything for the updates that arrived (too few for its n ≥ g(f) bound), it
// retries without bucketing (bucketing divides n by s), and otherwise skips the round rather
// than apply an aggregate with no guarantee.
import { AggregationError, type AggregationConfig, type AggregationRule, type Aggregator, type Core, type PreAggregation } from '../core/index.ts';

export interface RuleConfig {
  rule: AggregationRule;
  /** Byzantine updates to tolerate per round. */
  f: number;
  /** Bucket size s for bucketing before the rule (≤ 1: off). */
  bucketing: number;
  /** Centered clipping radius τ, or 'auto' (median distance of the updates to the center). */
  tau: number | 'auto';
  /** Centered clipping iterations L. */
  ccIterations: number;
  /** Norm clipping bound, or 'auto' (median update norm). */
  maxNorm: number | 'auto';
}

export const DEFAULT_RULE: RuleConfig = {
  rule: 'centered-clipping',
  f: 1,
  bucketing: 2,
  tau: 'auto',
  ccIterations: 3,
  maxNorm: 'auto',
};

export type AggregationOutcome =
  | { ok: true; result: Float32Array; ruleUsed: string; accepted: number[]; rejected: { index: number; reason: string }[] }
  | { ok: false; reason: string; rejected: { index: number; reason: string }[] };

export class RoundAggregator {
  private agg: Aggregator;

  constructor(
    private readonly core: Core,
    readonly capacity: number,
    readonly d: number,
  ) {
    this.agg = core.aggregator(capacity, d);
  }

  /**
   * Aggregates `updates` (each of length d; checked again by the core) around `center` (the last
   * aggregate, used by centered clipping). `seed` drives the bucketing shuffle.
   */
  aggregate(updates: readonly Float32Array[], cfg: RuleConfig, center: Float32Array | null, seed: number): AggregationOutcome {
    const n = updates.length;
    if (n === 0) return { ok: false, reason: 'no updates', rejected: [] };
    if (n > this.capacity) {
      this.agg.dispose();
      this.agg = this.core.aggregator(n, this.d);
    }
    for (let i = 0; i < n; i++) this.agg.set(i, updates[i]!);
    const withBuckets = cfg.bucketing > 1 && n >= 2 * cfg.bucketing;
    const attempts: (PreAggregation | undefined)[] = withBuckets ? [{ kind: 'bucketing', s: cfg.bucketing, seed: seed >>> 0 }, undefined] : [undefined];
    let lastError = '';
    for (const pre of attempts) {
      const config = this.config(cfg, updates, center, n, pre);
      try {
        const r = this.agg.run(config);
        return {
          ok: true,
          result: r.result.slice(),
          ruleUsed: pre ? `${cfg.rule}+bucketing(${cfg.bucketing})` : cfg.rule,
          accepted: r.accepted,
          rejected: r.rejected.map((x) => ({ index: x.index, reason: x.code })),
        };
      } catch (e) {
        if (!(e instanceof AggregationError) || (e.code !== 'below-guarantee' && e.code !== 'no-updates')) throw e;
        lastError = e.message;
      }
    }
    return { ok: false, reason: lastError, rejected: [] };
  }

  dispose(): void {
    this.agg.dispose();
  }

  private config(cfg: RuleConfig, updates: readonly Float32Array[], center: Float32Array | null, n: number, pre: PreAggregation | undefined): AggregationConfig {
    const common = { f: cfg.f, count: n, ...(pre ? { pre } : {}) };
    switch (cfg.rule) {
      case 'centered-clipping': {
        const c = center ?? new Float32Array(this.d);
        const tau = cfg.tau === 'auto' ? medianDistance(updates, c) : cfg.tau;
        return { rule: 'centered-clipping', ...common, tau: tau > 0 ? tau : 1e-12, iterations: cfg.ccIterations, center: c };
      }
      case 'norm-clipping': {
        const m = cfg.maxNorm === 'auto' ? medianDistance(updates, null) : cfg.maxNorm;
        return { rule: 'norm-clipping', ...common, maxNorm: m > 0 ? m : 1e-12 };
      }
      case 'mean':
        return { rule: 'mean', count: n, ...(pre ? { pre } : {}) };
      default:
        return { rule: cfg.rule, ...common } as AggregationConfig;
    }
  }
}

/** Median over finite updates of ‖x − c‖ (c = 0 when null). */
export function medianDistance(updates: readonly Float32Array[], c: Float32Array | null): number {
  const ds: number[] = [];
  for (const x of updates) {
    let s = 0;
    for (let j = 0; j < x.length; j++) {
      const v = x[j]! - (c ? c[j]! : 0);
      s += v * v;
    }
    if (Number.isFinite(s)) ds.push(Math.sqrt(s));
  }
  if (!ds.length) return 0;
  ds.sort((a, b) => a - b);
  return ds[(ds.length - 1) >> 1]!;
}
