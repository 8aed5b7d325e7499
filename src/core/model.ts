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
import { Layout } from './layout.ts';
import { ModelError } from './errors.ts';
import { checkParams, checkRows, sgdArgs, type SgdOptions } from './training-checks.ts';

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

type Region = 'params' | 'grad' | 'vel' | 'gacc' | 'hid' | 'x' | 'y' | 'out';
const MAX_FEATURES = 4096;
const MAX_HIDDEN = 4096;

export class Model {
  readonly spec: ModelSpec;
  readonly features: number;
  readonly hidden: number;
  /** Number of parameters (length of params()). */
  readonly size: number;
  readonly maxBatch: number;
  private readonly kind: number;
  private readonly base: number;
  private readonly p: Record<Region, number>;
  private disposed = false;

  constructor(
    private readonly core: CoreExports,
    private readonly memory: CoreMemory,
    spec: ModelSpec,
    opts: ModelOptions = {},
  ) {
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
    const maxBatch = opts.maxBatch ?? 256;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch * k > 1 << 26) {
      throw new ModelError('invalid-option', `model: maxBatch must be an integer ≥ 1 with maxBatch·features ≤ 2^26, got ${String(maxBatch)}`);
    }
    this.spec = spec;
    this.features = k;
    this.hidden = h;
    this.kind = spec.kind === 'logistic' ? 0 : 1;
    this.size = core.parameterCount(this.kind, k, h);
    this.maxBatch = maxBatch;
    const layout = new Layout<Region>()
      .add('params', this.size * 4).add('grad', this.size * 4).add('vel', this.size * 4).add('gacc', this.size * 8)
      .add('hid', Math.max(h, 1) * 8).add('x', maxBatch * k * 4).add('y', maxBatch * 4).add('out', maxBatch * 4);
    this.base = memory.alloc(layout.bytes);
    this.p = layout.place(this.base);
    this.init(opts.seed ?? 1);
  }

  /** Zero-copy view of the flat parameter vector. */
  params(): Float32Array {
    this.live();
    return this.memory.f32(this.p.params, this.size);
  }

  /** Replaces the parameters (e.g. with an aggregate); keeps the momentum. */
  setParams(values: ArrayLike<number>): void {
    this.live();
    checkParams('model', this.size, values);
    this.memory.f32(this.p.params, this.size).set(values);
  }

  /** Fresh parameters (Glorot-uniform for the MLP from seed, zeros for logistic) and zero momentum. */
  init(seed: number): void {
    this.live();
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new ModelError('invalid-option', `model: seed must be an integer in [0, 2^32), got ${String(seed)}`);
    }
    this.core.initParameters(this.kind, this.features, this.hidden, this.p.params, seed >>> 0);
    this.resetMomentum();
  }

  resetMomentum(): void {
    this.live();
    this.memory.f32(this.p.vel, this.size).fill(0);
  }

  /** Zero-copy batch buffers: x is maxBatch×features (row-major), y is maxBatch labels in [0, 1]. */
  inputs(): { x: Float32Array; y: Float32Array } {
    this.live();
    return {
      x: this.memory.f32(this.p.x, this.maxBatch * this.features),
      y: this.memory.f32(this.p.y, this.maxBatch),
    };
  }

  /** Copies a batch (x flat, rows×features) into the batch buffers; returns the row count. */
  setBatch(x: ArrayLike<number>, y: ArrayLike<number>): number {
    this.live();
    const rows = y.length;
    if (rows < 1 || rows > this.maxBatch) throw new ModelError('invalid-input', `model: batch of ${rows} rows, need 1…${this.maxBatch}`);
    if (x.length !== rows * this.features) {
      throw new ModelError('invalid-input', `model: x has ${x.length} values, expected rows·features = ${rows * this.features}`);
    }
    const { x: vx, y: vy } = this.inputs();
    vx.set(x);
    vy.set(y);
    return rows;
  }

  /** Mean binary cross-entropy over the first `rows` rows of the batch. */
  loss(rows: number): number {
    this.check(rows);
    const p = this.p;
    return this.core.lossAndGradient(this.kind, this.features, this.hidden, p.params, p.x, p.y, rows, 0, p.gacc, p.hid);
  }

  /** Gradient of the mean loss (without weight decay): a view, overwritten by the next call. */
  gradient(rows: number): Float32Array {
    this.check(rows);
    const p = this.p;
    this.core.lossAndGradient(this.kind, this.features, this.hidden, p.params, p.x, p.y, rows, p.grad, p.gacc, p.hid);
    return this.memory.f32(p.grad, this.size);
  }

  /** One SGD step on the first `rows` rows; returns the loss before the step. */
  step(rows: number, opts: SgdOptions): number {
    this.check(rows);
    const [lr, momentum, wd] = sgdArgs(opts);
    const p = this.p;
    const loss = this.core.lossAndGradient(this.kind, this.features, this.hidden, p.params, p.x, p.y, rows, p.grad, p.gacc, p.hid);
    this.core.sgdStep(p.params, p.grad, p.vel, this.size, lr, momentum, wd);
    return loss;
  }

  /** Failure probability of each of the first `rows` rows: a view, overwritten by the next call. */
  predict(rows: number): Float32Array {
    this.check(rows, false);
    const p = this.p;
    this.core.predict(this.kind, this.features, this.hidden, p.params, p.x, rows, p.out, p.hid);
    return this.memory.f32(p.out, rows);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.memory.release(this.base);
  }

  // Bounds and input checks at the boundary: the core trusts what it is given.
  private check(rows: number, labels = true): void {
    this.live();
    checkRows('model', this.core, this.p.x, rows, this.features, this.maxBatch);
    if (!labels) return;
    const y = this.memory.f32(this.p.y, rows);
    for (let r = 0; r < rows; r++) {
      const v = y[r]!;
      if (!(v >= 0 && v <= 1)) throw new ModelError('invalid-input', `model: label of row ${r} must be in [0, 1], got ${v}`, r);
    }
  }

  private live(): void {
    if (this.disposed) throw new ModelError('disposed', 'model: used after dispose()');
  }
}
