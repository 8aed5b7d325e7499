// What the core's two trainable models (Model, Classifier) share: one block of core memory
// holding the flat parameter vector, its gradient, momentum and batch buffers; the parameter,
// batch and SGD plumbing over it; and dispose. Each model adds its own core calls (init, loss and
// gradient, predict) and its label check: the binary model's labels are probabilities in
// float32, the classifier's are class numbers in int32.
import type { CoreExports } from './exports.ts';
import type { CoreMemory } from './memory.ts';
import { Layout } from './layout.ts';
import { ModelError } from './errors.ts';
import { checkParams, checkRows } from './training-checks.ts';

/** Regions every trainable model has; a model adds its scratch regions between gacc and x. */
export type TrainableRegion = 'params' | 'grad' | 'vel' | 'gacc' | 'x' | 'labels' | 'out';

/** The shape of a trainable model's memory block. */
export interface TrainableShape<S extends string> {
  features: number;
  size: number;
  maxBatch: number;
  /** Scratch regions (name, bytes) the model's core calls use, in order. */
  scratch: [S, number][];
}

/** maxBatch, checked: batch buffers of maxBatch·features floats must stay addressable. */
export function checkMaxBatch(who: string, maxBatch: number, features: number): number {
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch * features > 1 << 26) {
    throw new ModelError('invalid-option', `${who}: maxBatch must be an integer ≥ 1 with maxBatch·features ≤ 2^26, got ${String(maxBatch)}`);
  }
  return maxBatch;
}

export abstract class Trainable<S extends string, L extends Float32Array | Int32Array> {
  readonly features: number;
  /** Number of parameters (length of params()). */
  readonly size: number;
  readonly maxBatch: number;
  protected readonly ptr: Record<TrainableRegion | S, number>;
  private readonly base: number;
  private disposed = false;

  protected constructor(
    protected readonly core: CoreExports,
    protected readonly memory: CoreMemory,
    /** Prefix of error messages: 'model' or 'classifier'. */
    private readonly who: string,
    shape: TrainableShape<S>,
  ) {
    const { features: k, size, maxBatch } = shape;
    this.features = k;
    this.size = size;
    this.maxBatch = maxBatch;
    const layout = new Layout<TrainableRegion | S>()
      .add('params', size * 4).add('grad', size * 4).add('vel', size * 4).add('gacc', size * 8);
    for (const [name, bytes] of shape.scratch) layout.add(name, bytes);
    layout.add('x', maxBatch * k * 4).add('labels', maxBatch * 4).add('out', maxBatch * 4);
    this.base = memory.alloc(layout.bytes);
    this.ptr = layout.place(this.base);
  }

  /** Writes fresh parameters for seed (already checked) at p.params. */
  protected abstract initParams(seed: number): void;
  /** Loss over the first `rows` rows; the gradient goes to grad (0: not computed). */
  protected abstract lossAndGradient(rows: number, grad: number): number;
  /** View of n labels of the batch. */
  protected abstract labelView(n: number): L;
  /** Throws unless every one of the first `rows` labels is valid. */
  protected abstract checkLabels(labels: L, rows: number): void;

  /** Zero-copy view of the flat parameter vector. */
  params(): Float32Array {
    this.live();
    return this.memory.f32(this.ptr.params, this.size);
  }

  /** Replaces the parameters (e.g. with an aggregate); keeps the momentum. */
  setParams(values: ArrayLike<number>): void {
    this.live();
    checkParams(this.who, this.size, values);
    this.memory.f32(this.ptr.params, this.size).set(values);
  }

  /** Fresh parameters (Glorot-uniform for an MLP from seed, zeros for logistic regression) and zero momentum. */
  init(seed: number): void {
    this.live();
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new ModelError('invalid-option', `${this.who}: seed must be an integer in [0, 2^32), got ${String(seed)}`);
    }
    this.initParams(seed >>> 0);
    this.resetMomentum();
  }

  resetMomentum(): void {
    this.live();
    this.memory.f32(this.ptr.vel, this.size).fill(0);
  }

  /** Copies a batch (x flat, rows×features) into the batch buffers; returns the row count. */
  setBatch(x: ArrayLike<number>, labels: ArrayLike<number>): number {
    this.live();
    const rows = labels.length;
    if (rows < 1 || rows > this.maxBatch) throw new ModelError('invalid-input', `${this.who}: batch of ${rows} rows, need 1…${this.maxBatch}`);
    if (x.length !== rows * this.features) {
      throw new ModelError('invalid-input', `${this.who}: x has ${x.length} values, expected rows·features = ${rows * this.features}`);
    }
    this.memory.f32(this.ptr.x, this.maxBatch * this.features).set(x);
    this.labelView(this.maxBatch).set(labels);
    return rows;
  }

  /** Mean loss over the first `rows` rows of the batch. */
  loss(rows: number): number {
    this.check(rows);
    return this.lossAndGradient(rows, 0);
  }

  /** Gradient of the mean loss (without weight decay): a view, overwritten by the next call. */
  gradient(rows: number): Float32Array {
    this.check(rows);
    this.lossAndGradient(rows, this.ptr.grad);
    return this.memory.f32(this.ptr.grad, this.size);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.memory.release(this.base);
  }

  /** One SGD step with checked arguments on the first `rows` (checked) rows; the loss before it. */
  protected sgd(rows: number, [lr, momentum, wd]: [number, number, number]): number {
    const p = this.ptr;
    const loss = this.lossAndGradient(rows, p.grad);
    this.core.sgdStep(p.params, p.grad, p.vel, this.size, lr, momentum, wd);
    return loss;
  }

  // Bounds and input checks at the boundary: the core trusts what it is given.
  protected check(rows: number, labels = true): void {
    this.live();
    checkRows(this.who, this.core, this.ptr.x, rows, this.features, this.maxBatch);
    if (labels) this.checkLabels(this.labelView(rows), rows);
  }

  protected live(): void {
    if (this.disposed) throw new ModelError('disposed', `${this.who}: used after dispose()`);
  }
}
