// Zero-copy aggregation of n updates of d float32: callers write update i straight into core
// memory through agg.update(i) (or agg.set), then agg.run(config) checks every update, refuses
// configurations outside the rule's guarantee, and runs the rule in the core.
// All memory an aggregator needs is allocated once, at creation: run() never allocates core
// memory, so views taken from update(i) survive any number of rounds (they only die when the
// core's memory grows, i.e. when a larger aggregator, model or route batch is created).
import type { CoreExports } from './exports.ts';
import type { CoreMemory } from './memory.ts';
import { Layout } from './layout.ts';
import { AggregationError } from './errors.ts';
import { type AggregationConfig, type Plan, WEIGHTED_RULES, fail, planAggregation } from './aggregation-config.ts';

/** Coordinates per float64 accumulator block (ACC_BLOCK in assembly/mean.ts). */
const ACC_BLOCK = 1024;
/** Coordinates sorted side by side (LANES in assembly/sort.ts). */
const LANES = 16;
/** Largest n·d accepted: 256 Mi values (1 GiB of float32) is past any router anyway. */
const MAX_VALUES = 1 << 28;
const MAX_N = 1 << 16;

export interface RejectedUpdate {
  index: number;
  code: 'non-finite' | 'wrong-length';
  reason: string;
}

export interface AggregationResult {
  /** The aggregate: a view into core memory, overwritten by the next run of this aggregator. */
  result: Float32Array;
  /** Slots that entered the aggregation, ascending. */
  accepted: number[];
  /** Slots left out, each with the reason. */
  rejected: RejectedUpdate[];
  /** f minus the rejected updates: the Byzantine updates still tolerated among the accepted. */
  fEffective: number;
  /**
   * krum, multi-krum, bulyan: the chosen updates, best first (slots; with `pre`, indices of
   * pre-aggregated rows, whose members are in `groups`).
   */
  selected?: number[];
  /** krum, multi-krum: the Krum score of each accepted slot (or pre-aggregated row), in that order. */
  scores?: number[];
  /** With `pre`: the slots that make up each pre-aggregated row (bucket members or NNM neighbours). */
  groups?: number[][];
  /** geometric-median: Weiszfeld updates done, and the final objective Σ αᵢ‖v − xᵢ‖. */
  iterations?: number;
  objective?: number;
}

export interface AggregatorOptions {
  /** Reserve the second n×d block that bucketing and NNM write into (default true). */
  preAggregation?: boolean;
}

type Region =
  | 'xs' | 'pre' | 'out' | 'start' | 'acc' | 'acc16' | 'D' | 'idx' | 'idx2' | 'perm' | 'sel' | 'order' | 'itmp' | 'alive'
  | 'w' | 'w2' | 'scores' | 'totals' | 'row' | 'tmp' | 'coef' | 'alpha' | 'beta' | 'S' | 'pairs' | 'info' | 'neighbours';

export class Aggregator {
  readonly n: number;
  readonly d: number;
  private readonly base: number;
  private readonly ptr: Record<Region, number>;
  private readonly hasPre: boolean;
  private readonly wrongLength = new Map<number, number>();
  private weighted = false;
  private disposed = false;

  constructor(
    private readonly core: CoreExports,
    private readonly memory: CoreMemory,
    n: number,
    d: number,
    opts: AggregatorOptions = {},
  ) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_N) {
      throw new AggregationError('invalid-size', `aggregator: n must be an integer in [1, ${MAX_N}], got ${n}`);
    }
    if (!Number.isInteger(d) || d < 1 || n * d > MAX_VALUES) {
      throw new AggregationError('invalid-size', `aggregator: d must be an integer ≥ 1 with n·d ≤ ${MAX_VALUES}, got n=${n} d=${d}`);
    }
    this.n = n;
    this.d = d;
    this.hasPre = opts.preAggregation ?? true;
    const nd = n * d * 4;
    const layout = new Layout<Region>()
      .add('xs', nd).add('pre', this.hasPre ? nd : 0).add('out', d * 4).add('start', d * 4)
      .add('acc', ACC_BLOCK * 8).add('acc16', LANES * 8).add('D', n * n * 8)
      .add('idx', n * 4).add('idx2', n * 4).add('perm', n * 4).add('sel', n * 4).add('order', n * 4)
      .add('itmp', n * 4).add('alive', n * 4)
      .add('w', n * 8).add('w2', n * 8).add('scores', n * 8).add('totals', n * 8).add('row', n * 8).add('tmp', n * 8)
      .add('coef', n * 8).add('alpha', n * 8).add('beta', n * 8)
      .add('S', n * LANES * 4).add('pairs', core.networkCapacity(n) * 8).add('info', 32)
      .add('neighbours', this.hasPre ? n * n * 4 : 0);
    this.base = memory.alloc(layout.bytes);
    this.ptr = layout.place(this.base);
    this.memory.f32(this.ptr.xs, n * d).fill(0);
  }

  /** Zero-copy view of slot i (length d) in core memory: write update i into it. */
  update(i: number): Float32Array {
    this.live();
    this.slot(i);
    this.wrongLength.delete(i);
    return this.memory.f32(this.ptr.xs + i * this.d * 4, this.d);
  }

  /**
   * Copies values into slot i. A vector of the wrong length is not written: the slot is marked
   * and the next run() rejects it by name (a peer that sent a wrong-sized update is faulty).
   */
  set(i: number, values: ArrayLike<number>): void {
    this.live();
    this.slot(i);
    if (values.length !== this.d) {
      this.wrongLength.set(i, values.length);
      return;
    }
    this.wrongLength.delete(i);
    this.memory.f32(this.ptr.xs + i * this.d * 4, this.d).set(values);
  }

  /** Per-update weights (e.g. local sample counts), or null for equal weights. */
  setWeights(weights: ArrayLike<number> | null): void {
    this.live();
    if (weights === null) {
      this.weighted = false;
      return;
    }
    if (weights.length !== this.n) {
      throw new AggregationError('invalid-weights', `weights: need ${this.n} values, got ${weights.length}`);
    }
    const w = this.memory.f64(this.ptr.w, this.n);
    for (let i = 0; i < this.n; i++) {
      const v = weights[i]!;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new AggregationError('invalid-weights', `weights: weight ${i} must be a finite number ≥ 0, got ${String(v)}`);
      }
      w[i] = v;
    }
    this.weighted = true;
  }

  run(config: AggregationConfig): AggregationResult {
    this.live();
    const { memory, n, d, ptr: p } = this;
    const rule = config?.rule ?? 'aggregation';
    const count = config?.count ?? n;
    if (!Number.isInteger(count) || count < 1 || count > n) fail(rule, `count must be an integer in [1, ${n}], got ${String(count)}`);
    const { accepted, rejected } = this.screen(count);
    const plan = planAggregation(config, accepted.length, rejected.length);
    this.checkPlan(plan, rule, accepted);
    const centered = this.placeCenter(config, rule);

    memory.i32(p.idx, accepted.length).set(accepted);
    const out: AggregationResult = {
      result: memory.f32(p.out, d),
      accepted,
      rejected,
      fEffective: plan.f,
    };
    const rows = this.preAggregate(plan, accepted, out);
    this.dispatch(plan, rows.xs, rows.idx, rows.m, rows.w, centered, out, rows.label);
    out.result = memory.f32(p.out, d);
    return out;
  }

  /** The first `count` slots, split into accepted and rejected (wrong length, non-finite value). */
  private screen(count: number): { accepted: number[]; rejected: RejectedUpdate[] } {
    const { core, memory, d, ptr: p } = this;
    const accepted: number[] = [];
    const rejected: RejectedUpdate[] = [];
    for (let i = 0; i < count; i++) {
      const got = this.wrongLength.get(i);
      if (got !== undefined) {
        rejected.push({ index: i, code: 'wrong-length', reason: `update ${i} has ${got} values, expected ${d}` });
        continue;
      }
      const at = core.firstNonFinite(p.xs + i * d * 4, d);
      if (at >= 0) {
        const v = memory.f32(p.xs + (i * d + at) * 4, 1)[0];
        rejected.push({ index: i, code: 'non-finite', reason: `update ${i} has ${v} at coordinate ${at}` });
        continue;
      }
      accepted.push(i);
    }
    return { accepted, rejected };
  }

  /** What the plan needs and this aggregator must offer: usable weights, the pre-aggregation block. */
  private checkPlan(plan: Plan, rule: string, accepted: number[]): void {
    if (this.weighted && !WEIGHTED_RULES.has(plan.rule)) {
      throw new AggregationError(
        'weights-unsupported',
        `${plan.rule} does not use weights; clear them with setWeights(null) or use ${[...WEIGHTED_RULES].join(', ')}`,
        plan.rule,
      );
    }
    if (this.weighted) {
      const w = this.memory.f64(this.ptr.w, this.n);
      let sum = 0;
      for (const i of accepted) sum += w[i]!;
      if (!(sum > 0)) throw new AggregationError('invalid-weights', `${rule}: the accepted updates' weights sum to ${sum}`, rule);
    }
    if (plan.pre && !this.hasPre) {
      fail(rule, `${plan.pre.kind} needs an aggregator created with preAggregation: true`);
    }
  }

  /** centered-clipping's v₀, when given, checked and placed; true when it was. */
  private placeCenter(config: AggregationConfig, rule: string): boolean {
    if (config.rule !== 'centered-clipping' || config.center === undefined) return false;
    const { core, memory, d, ptr: p } = this;
    if (config.center.length !== d) fail(rule, `center must have ${d} values, got ${config.center.length}`);
    // v₀ goes straight into the output block, where the rule starts from it, and the core checks
    // it there: no JS-side copy or scan of d values per round (at d = 10⁴ that cost a third of
    // the rule's own time). Nothing writes the output block before the rule runs.
    const v = memory.f32(p.out, d);
    v.set(config.center);
    const bad = core.firstNonFinite(p.out, d);
    if (bad >= 0) fail(rule, `center has ${v[bad]} at coordinate ${bad}`);
    return true;
  }

  /**
   * Bucketing or NNM when the plan asks for it (recording the groups in out): the rows the rule
   * then runs on, and how a position among them maps back to what the caller knows.
   */
  private preAggregate(plan: Plan, accepted: number[], out: AggregationResult): {
    xs: number; idx: number; m: number; w: number; label: (pos: number) => number;
  } {
    const { core, memory, d, ptr: p } = this;
    const m = accepted.length;
    const w = this.weighted ? p.w : 0;
    if (plan.pre?.kind === 'bucketing') {
      const s = plan.pre.s;
      const k = core.bucketize(p.xs, d, p.idx, m, w, s, plan.pre.seed >>> 0, p.perm, p.pre, p.idx2, p.w2, p.acc);
      const perm = Array.from(memory.i32(p.perm, m));
      out.groups = Array.from({ length: k }, (_, b) => perm.slice(b * s, Math.min((b + 1) * s, m)).sort((a, c) => a - c));
      return { xs: p.pre, idx: p.idx2, m: k, w: p.w2, label: (pos) => pos };
    }
    if (plan.pre?.kind === 'nnm') {
      const keep = m - plan.f;
      core.nearestNeighbourMixing(p.xs, d, p.idx, m, plan.f, w, p.D, p.pre, p.idx2, p.w2, p.order, p.itmp, p.neighbours, p.acc);
      const nb = memory.i32(p.neighbours, m * keep);
      out.groups = Array.from({ length: m }, (_, a) => Array.from(nb.subarray(a * keep, (a + 1) * keep)));
      return { xs: p.pre, idx: p.idx2, m, w: this.weighted ? p.w2 : 0, label: (pos) => pos };
    }
    return { xs: p.xs, idx: p.idx, m, w, label: (pos) => accepted[pos]! };
  }

  /** Releases the aggregator's core memory; its views must not be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.memory.release(this.base);
  }

  private dispatch(
    plan: Plan, xs: number, idx: number, m: number, w: number, centered: boolean,
    out: AggregationResult, label: (pos: number) => number,
  ): void {
    const { core, memory, d, ptr: p } = this;
    switch (plan.rule) {
      case 'mean':
        core.weightedMean(xs, d, idx, m, w, p.out, p.acc);
        break;
      case 'median':
        core.coordinateMedian(xs, d, idx, m, p.out, p.S, p.pairs);
        break;
      case 'trimmed-mean':
        core.trimmedMean(xs, d, idx, m, plan.b, p.out, p.S, p.pairs, p.acc16);
        break;
      case 'krum': {
        const best = core.krum(xs, d, idx, m, plan.f, p.D, p.scores, p.totals, p.row, p.tmp, p.out);
        out.selected = [label(best)];
        out.scores = Array.from(memory.f64(p.scores, m));
        break;
      }
      case 'multi-krum': {
        core.multiKrum(xs, d, idx, m, plan.f, plan.m, p.D, p.scores, p.totals, p.row, p.tmp, p.order, p.itmp, p.sel, p.out, p.acc);
        out.selected = Array.from(memory.i32(p.order, plan.m), label);
        out.scores = Array.from(memory.f64(p.scores, m));
        break;
      }
      case 'bulyan': {
        core.bulyan(xs, d, idx, m, plan.f, p.D, p.scores, p.totals, p.row, p.tmp, p.alive, p.sel, p.out, p.S, p.pairs);
        // sel holds row numbers of xs; without pre those are slots already
        out.selected = Array.from(memory.i32(p.sel, m - 2 * plan.f));
        break;
      }
      case 'geometric-median': {
        out.iterations = core.geometricMedian(
          xs, d, idx, m, w, plan.nu, plan.maxIter, plan.tol, p.out, p.acc, p.alpha, p.beta, p.info, p.start, p.S, p.pairs,
        );
        out.objective = memory.f64(p.info, 1)[0];
        break;
      }
      case 'centered-clipping': {
        if (!centered) memory.f32(p.out, d).fill(0); // else run() wrote v₀ there
        core.centeredClipping(xs, d, idx, m, w, plan.tau, plan.iterations, p.out, p.acc, p.coef);
        break;
      }
      case 'norm-clipping':
        core.normClipping(xs, d, idx, m, w, plan.maxNorm, p.out, p.acc, p.coef);
        break;
    }
  }

  private slot(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) {
      throw new AggregationError('invalid-index', `aggregator: slot must be an integer in [0, ${this.n}), got ${String(i)}`);
    }
  }

  private live(): void {
    if (this.disposed) throw new AggregationError('disposed', 'aggregator: used after dispose()');
  }
}
