// The local link-failure model in the core: logistic regression or a one-hidden-layer MLP
// (tanh hidden units, sigmoid output, mean binary cross-entropy). Its parameters are ONE flat
// float32 vector in core memory — params() — so the federation can ship it as is and feed it to
// an aggregator slot, and setParams() takes the aggregate back.
//   logistic(k): [w (k), b]                                         size k + 1
//   mlp(k, h):   [W1 (h×k, row u = hidden unit u), b1 (h), w2 (h), b2]   size h·k + 2h + 1
// Training batches are written straight into core memory through inputs().x / inputs().y
// (or copied with setBatch) and used by loss/gradient/step/predict for their first `rows` rows.
import type { CoreExports } from './exports.ts';
import type { CoreMemory } from './memory.ts';
import { ModelError } from './errors.ts';
import { sgdArgs, type SgdOptions } from './training-checks.ts';
import { Trainable, checkMaxBatch } from './trainable.ts';

export type { SgdOptions };

export type ModelSpec =
  | { kind: 'logistic'; features: number }
  | { kind: 'mlp'; features: number; hidden: number };

export interface ModelOptions {
  /** Rows the batch buffers hold (default 256). */
  maxBatch?: number;
  /** Seed of the initial weights (MLP; logistic starts at zero). Default 1. */
  seed?: number;
}

const MAX_FEATURES = 4096;
const MAX_HIDDEN = 4096;

export class Model extends Trainable<'hid', Float32Array> {
  readonly spec: ModelSpec;
  readonly hidden: number;
  private readonly kind: number;

  constructor(core: CoreExports, memory: CoreMemory, spec: ModelSpec, opts: ModelOptions = {}) {
    if (typeof spec !== 'object' || spec === null || (spec.kind !== 'logistic' && spec.kind !== 'mlp')) {
      throw new ModelError('invalid-spec', `model: kind must be 'logistic' or 'mlp'`);
    }
    const k = spec.features;
    if (!Number.isInteger(k) || k < 1 || k > MAX_FEATURES) {
      throw new ModelError('invalid-spec', `model: features must be an integer in [1, ${MAX_FEATURES}], got ${String(k)}`);
    }
    const h = spec.kind === 'mlp' ? spec.hidden : 0;
    if (spec.kind === 'mlp' && (!Number.isInteger(h) || h < 1 || h > MAX_HIDDEN)) {
      throw new ModelError('invalid-spec', `model: hidden must be an integer in [1, ${MAX_HIDDEN}], got ${String(h)}`);
    }
    const maxBatch = checkMaxBatch('model', opts.maxBatch ?? 256, k);
    const kind = spec.kind === 'logistic' ? 0 : 1;
    const size = core.parameterCount(kind, k, h);
    super(core, memory, 'model', { features: k, size, maxBatch, scratch: [['hid', Math.max(h, 1) * 8]] });
    this.spec = spec;
    this.hidden = h;
    this.kind = kind;
    this.init(opts.seed ?? 1);
  }

  /** Zero-copy batch buffers: x is maxBatch×features (row-major), y is maxBatch labels in [0, 1]. */
  inputs(): { x: Float32Array; y: Float32Array } {
    this.live();
    return {
      x: this.memory.f32(this.ptr.x, this.maxBatch * this.features),
      y: this.memory.f32(this.ptr.labels, this.maxBatch),
    };
  }

  /** One SGD step on the first `rows` rows; returns the loss before the step. */
  step(rows: number, opts: SgdOptions): number {
    this.check(rows);
    return this.sgd(rows, sgdArgs(opts));
  }

  /** Failure probability of each of the first `rows` rows: a view, overwritten by the next call. */
  predict(rows: number): Float32Array {
    this.check(rows, false);
    const p = this.ptr;
    this.core.predict(this.kind, this.features, this.hidden, p.params, p.x, rows, p.out, p.hid);
    return this.memory.f32(p.out, rows);
  }

  protected initParams(seed: number): void {
    this.core.initParameters(this.kind, this.features, this.hidden, this.ptr.params, seed);
  }

  /** Mean binary cross-entropy (without weight decay); gradient to grad unless it is 0. */
  protected lossAndGradient(rows: number, grad: number): number {
    const p = this.ptr;
    return this.core.lossAndGradient(this.kind, this.features, this.hidden, p.params, p.x, p.labels, rows, grad, p.gacc, p.hid);
  }

  protected labelView(n: number): Float32Array {
    return this.memory.f32(this.ptr.labels, n);
  }

  protected checkLabels(y: Float32Array, rows: number): void {
    for (let r = 0; r < rows; r++) {
      const v = y[r]!;
      if (!(v >= 0 && v <= 1)) throw new ModelError('invalid-input', `model: label of row ${r} must be in [0, 1], got ${v}`, r);
    }
  }
}
