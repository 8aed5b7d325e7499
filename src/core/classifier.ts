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
import { ModelError } from './errors.ts';
import { sgdArgs, type SgdOptions } from './training-checks.ts';
import { Trainable, checkMaxBatch } from './trainable.ts';

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

const MAX_FEATURES = 1 << 16;
const MAX_HIDDEN = 4096;
const MAX_CLASSES = 4096;
const MAX_PARAMS = 1 << 24;

export class Classifier extends Trainable<'hid' | 'z', Int32Array> {
  readonly classes: number;
  readonly hidden: number;
  readonly activation: 'tanh' | 'relu';
  private readonly act: number;

  constructor(core: CoreExports, memory: CoreMemory, spec: ClassifierSpec, opts: ClassifierOptions = {}) {
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
    const maxBatch = checkMaxBatch('classifier', opts.maxBatch ?? 256, k);
    // size is the core's softmaxParameterCount(k, h, c), computed here to bound it before allocating.
    super(core, memory, 'classifier', {
      features: k, size, maxBatch, scratch: [['hid', Math.max(2 * h, 1) * 8], ['z', c * 8]],
    });
    this.classes = c;
    this.hidden = h;
    this.activation = activation;
    this.act = activation === 'relu' ? 1 : 0;
    this.init(opts.seed ?? 1);
  }

  /** Zero-copy batch buffers: x is maxBatch×features (row-major), labels maxBatch class numbers. */
  inputs(): { x: Float32Array; labels: Int32Array } {
    this.live();
    return {
      x: this.memory.f32(this.ptr.x, this.maxBatch * this.features),
      labels: this.memory.i32(this.ptr.labels, this.maxBatch),
    };
  }

  /** One local SGD step on the first `rows` rows (PyTorch semantics); returns the loss before it. */
  step(rows: number, opts: SgdOptions): number {
    const args = sgdArgs(opts);
    this.check(rows);
    return this.sgd(rows, args);
  }

  /** Most probable class of each of the first `rows` rows: a view, overwritten by the next call. */
  predict(rows: number): Int32Array {
    this.check(rows, false);
    const p = this.ptr;
    this.core.softmaxPredict(this.features, this.hidden, this.classes, this.act, p.params, p.x, rows, p.out, p.hid, p.z);
    return this.memory.i32(p.out, rows);
  }

  protected initParams(seed: number): void {
    this.core.softmaxInit(this.features, this.hidden, this.classes, this.ptr.params, seed);
  }

  /** Mean cross-entropy; gradient to grad unless it is 0. */
  protected lossAndGradient(rows: number, grad: number): number {
    const p = this.ptr;
    return this.core.softmaxLossAndGradient(this.features, this.hidden, this.classes, this.act, p.params, p.x, p.labels, rows, grad, p.gacc, p.hid, p.z);
  }

  protected labelView(n: number): Int32Array {
    return this.memory.i32(this.ptr.labels, n);
  }

  // A label outside [0, c) would read past the logits.
  protected checkLabels(y: Int32Array, rows: number): void {
    for (let r = 0; r < rows; r++) {
      const v = y[r]!;
      if (!(v >= 0 && v < this.classes)) throw new ModelError('invalid-input', `classifier: label of row ${r} must be in [0, ${this.classes}), got ${v}`, r);
    }
  }
}
