// A c-class classifier in the core: multinomial logistic regression (hidden 0) or a
// one-hidden-layer MLP (tanh or ReLU units), softmax output, mean cross-entropy (assembly/classifier.ts). Like
// Model, its parameters are ONE flat float32 vector in core memory — params() — that an
// aggregator can take as is, and setParams() takes an aggregate back.
//   hidden = 0: [W (features×classes), b (classes)]
//   hidden > 0: [W1 (features×hidden), b1 (hidden), W2 (hidden×classes), b2 (classes)]
// (weights feature-major: row i holds input i's outgoing weights).
// Batches go straight into core memory through inputs().x / inputs().labels (or setBatch).
import type { CoreExports } from './exports.ts';
import type { CoreMemory } from './memory.ts';
import { Layout } from './layout.ts';
import { ModelError } from './errors.ts';
import { checkParams, checkRows, sgdArgs, type SgdOptions } from './training-checks.ts';

export interface ClassifierSpec {
  features: number;
  /** Number of classes c ≥ 2. */
  classes: number;
  /** Hidden units (0 or absent: multinomial logistic regression). */
  hidden?: number;
  /** Hidden activation (default 'tanh'). */
  activation?: 'tanh' | 'relu';
}

export interface ClassifierOptions {
  /** Rows the batch buffers hold (default 256). */
  maxBatch?: number;
  /** Seed of the initial weights (MLP; logistic regression starts at zero). Default 1. */
  seed?: number;
}

type Region = 'params' | 'grad' | 'vel' | 'gacc' | 'hid' | 'z' | 'x' | 'labels' | 'out';
const MAX_FEATURES = 1 << 16;
const MAX_HIDDEN = 4096;
const MAX_CLASSES = 4096;
const MAX_PARAMS = 1 << 24;

export class Classifier {
  readonly features: number;
  readonly classes: number;
  readonly hidden: number;
  readonly activation: 'tanh' | 'relu';
  /** Number of parameters (length of params()). */
  readonly size: number;
  readonly maxBatch: number;
  private readonly act: number;
  private readonly base: number;
  private readonly p: Record<Region, number>;
  private disposed = false;

  constructor(
    private readonly core: CoreExports,
    private readonly memory: CoreMemory,
    spec: ClassifierSpec,
    opts: ClassifierOptions = {},
  ) {
    if (typeof spec !== 'object' || spec === null) throw new ModelError('invalid-spec', 'classifier: spec must be an object');
    const k = spec.features;
    const c = spec.classes;
    const h = spec.hidden ?? 0;
    if (!Number.isInteger(k) || k < 1 || k > MAX_FEATURES) {
      throw new ModelError('invalid-spec', `classifier: features must be an integer in [1, ${MAX_FEATURES}], got ${String(k)}`);
    }
    if (!Number.isInteger(c) || c < 2 || c > MAX_CLASSES) {
      throw new ModelError('invalid-spec', `classifier: classes must be an integer in [2, ${MAX_CLASSES}], got ${String(c)}`);
    }
    if (!Number.isInteger(h) || h < 0 || h > MAX_HIDDEN) {
      throw new ModelError('invalid-spec', `classifier: hidden must be an integer in [0, ${MAX_HIDDEN}], got ${String(h)}`);
    }
    const activation = spec.activation ?? 'tanh';
    if (activation !== 'tanh' && activation !== 'relu') {
      throw new ModelError('invalid-spec', `classifier: activation must be 'tanh' or 'relu', got ${String(activation)}`);
    }
    const size = h === 0 ? k * c + c : k * h + h + h * c + c;
    if (size > MAX_PARAMS) throw new ModelError('invalid-spec', `classifier: ${size} parameters, at most ${MAX_PARAMS}`);
    const maxBatch = opts.maxBatch ?? 256;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch * k > 1 << 26) {
      throw new ModelError('invalid-option', `classifier: maxBatch must be an integer ≥ 1 with maxBatch·features ≤ 2^26, got ${String(maxBatch)}`);
    }
    this.features = k;
    this.classes = c;
    this.hidden = h;
    this.activation = activation;
    this.act = activation === 'relu' ? 1 : 0;
    this.size = core.softmaxParameterCount(k, h, c);
    this.maxBatch = maxBatch;
    const layout = new Layout<Region>()
      .add('params', size * 4).add('grad', size * 4).add('vel', size * 4).add('gacc', size * 8)
      .add('hid', Math.max(2 * h, 1) * 8).add('z', c * 8)
      .add('x', maxBatch * k * 4).add('labels', maxBatch * 4).add('out', maxBatch * 4);
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
    checkParams('classifier', this.size, values);
    this.memory.f32(this.p.params, this.size).set(values);
  }

  /** Fresh parameters (Glorot-uniform for the MLP from seed, zeros for logistic regression), zero momentum. */
  init(seed: number): void {
    this.live();
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new ModelError('invalid-option', `classifier: seed must be an integer in [0, 2^32), got ${String(seed)}`);
    }
    this.core.softmaxInit(this.features, this.hidden, this.classes, this.p.params, seed >>> 0);
    this.memory.f32(this.p.vel, this.size).fill(0);
  }

  /** Zero-copy batch buffers: x is maxBatch×features (row-major), labels maxBatch class numbers. */
  inputs(): { x: Float32Array; labels: Int32Array } {
    this.live();
    return {
      x: this.memory.f32(this.p.x, this.maxBatch * this.features),
      labels: this.memory.i32(this.p.labels, this.maxBatch),
    };
  }

  /** Copies a batch (x flat, rows×features) into the batch buffers; returns the row count. */
  setBatch(x: ArrayLike<number>, labels: ArrayLike<number>): number {
    this.live();
    const rows = labels.length;
    if (rows < 1 || rows > this.maxBatch) throw new ModelError('invalid-input', `classifier: batch of ${rows} rows, need 1…${this.maxBatch}`);
    if (x.length !== rows * this.features) {
      throw new ModelError('invalid-input', `classifier: x has ${x.length} values, expected rows·features = ${rows * this.features}`);
    }
    const v = this.inputs();
    v.x.set(x);
    v.labels.set(labels);
    return rows;
  }

  /** Mean cross-entropy over the first `rows` rows of the batch. */
  loss(rows: number): number {
    this.check(rows);
    const p = this.p;
    return this.core.softmaxLossAndGradient(this.features, this.hidden, this.classes, this.act, p.params, p.x, p.labels, rows, 0, p.gacc, p.hid, p.z);
  }

  /** Gradient of the mean loss: a view, overwritten by the next call. */
  gradient(rows: number): Float32Array {
    this.check(rows);
    const p = this.p;
    this.core.softmaxLossAndGradient(this.features, this.hidden, this.classes, this.act, p.params, p.x, p.labels, rows, p.grad, p.gacc, p.hid, p.z);
    return this.memory.f32(p.grad, this.size);
  }

  /** One local SGD step on the first `rows` rows (PyTorch semantics); returns the loss before it. */
  step(rows: number, opts: SgdOptions): number {
    const [lr, momentum, wd] = sgdArgs(opts);
    this.check(rows);
    const p = this.p;
    const loss = this.core.softmaxLossAndGradient(this.features, this.hidden, this.classes, this.act, p.params, p.x, p.labels, rows, p.grad, p.gacc, p.hid, p.z);
    this.core.sgdStep(p.params, p.grad, p.vel, this.size, lr, momentum, wd);
    return loss;
  }

  /** Most probable class of each of the first `rows` rows: a view, overwritten by the next call. */
  predict(rows: number): Int32Array {
    this.check(rows, false);
    const p = this.p;
    this.core.softmaxPredict(this.features, this.hidden, this.classes, this.act, p.params, p.x, rows, p.out, p.hid, p.z);
    return this.memory.i32(p.out, rows);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.memory.release(this.base);
  }

  // Bounds and input checks at the boundary: the core trusts what it is given (a label outside
  // [0, c) would read past the logits).
  private check(rows: number, labels = true): void {
    this.live();
    checkRows('classifier', this.core, this.p.x, rows, this.features, this.maxBatch);
    if (!labels) return;
    const y = this.memory.i32(this.p.labels, rows);
    for (let r = 0; r < rows; r++) {
      const v = y[r]!;
      if (!(v >= 0 && v < this.classes)) throw new ModelError('invalid-input', `classifier: label of row ${r} must be in [0, ${this.classes}), got ${v}`, r);
    }
  }

  private live(): void {
    if (this.disposed) throw new ModelError('disposed', 'classifier: used after dispose()');
  }
}
