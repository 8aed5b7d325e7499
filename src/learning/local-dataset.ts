// A node's own training data, bounded: one reservoir per class (failures are rare, so a single
// buffer would be nearly all negatives and would forget the few positives first), a held-out
// reservoir for measuring the model on data it did not train on, and class-balanced batches.
// Reservoir sampling keeps a uniform sample of everything ever added in fixed memory.
import { Prng } from '../mesh/simulator/prng.ts';

export interface LocalDatasetOptions {
  features: number;
  /** Rows kept per class for training (default 4000). */
  capacityPerClass?: number;
  /** Rows kept per class for held-out evaluation (default 1000). */
  holdoutPerClass?: number;
  /** Share of added rows that go to the held-out set (default 0.2). */
  holdoutShare?: number;
  seed?: number;
}

class Reservoir {
  readonly x: Float32Array;
  readonly capacity: number;
  size = 0;
  seen = 0;
  constructor(capacity: number, private readonly features: number) {
    this.capacity = capacity;
    this.x = new Float32Array(capacity * features);
  }
  add(row: ArrayLike<number>, rng: Prng): void {
    this.seen++;
    let at: number;
    if (this.size < this.capacity) at = this.size++;
    else {
      at = rng.int(this.seen);
      if (at >= this.capacity) return;
    }
    this.x.set(row, at * this.features);
  }
  row(i: number): Float32Array {
    return this.x.subarray(i * this.features, (i + 1) * this.features);
  }
}

export interface DatasetCounts {
  trainPositive: number;
  trainNegative: number;
  holdoutPositive: number;
  holdoutNegative: number;
  /** Rows ever offered, by class (the reservoirs keep a uniform sample of them). */
  seenPositive: number;
  seenNegative: number;
}

export class LocalDataset {
  readonly features: number;
  private readonly train: [Reservoir, Reservoir];
  private readonly held: [Reservoir, Reservoir];
  private readonly holdoutShare: number;
  private readonly rng: Prng;

  constructor(opts: LocalDatasetOptions) {
    const k = opts.features;
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`dataset: features must be a positive integer, got ${String(k)}`);
    const cap = opts.capacityPerClass ?? 4000;
    const hcap = opts.holdoutPerClass ?? 1000;
    for (const [name, v] of [['capacityPerClass', cap], ['holdoutPerClass', hcap]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 1 << 22) throw new RangeError(`dataset: ${name} must be an integer in [1, 2^22], got ${String(v)}`);
    }
    const share = opts.holdoutShare ?? 0.2;
    if (!(share >= 0 && share < 1)) throw new RangeError(`dataset: holdoutShare must be in [0, 1), got ${String(share)}`);
    this.features = k;
    this.train = [new Reservoir(cap, k), new Reservoir(cap, k)];
    this.held = [new Reservoir(hcap, k), new Reservoir(hcap, k)];
    this.holdoutShare = share;
    this.rng = new Prng(opts.seed ?? 1);
  }

  /** Adds one labelled row (label 1: the link died within the horizon). Non-finite rows are refused. */
  add(x: ArrayLike<number>, label: 0 | 1): void {
    if (x.length !== this.features) throw new RangeError(`dataset: row has ${x.length} features, expected ${this.features}`);
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new RangeError(`dataset: feature ${i} is ${x[i]}`);
    if (label !== 0 && label !== 1) throw new RangeError(`dataset: label must be 0 or 1, got ${String(label)}`);
    const to = this.rng.float() < this.holdoutShare ? this.held : this.train;
    to[label].add(x, this.rng);
  }

  /** Adds every row of a flat matrix. */
  addAll(x: Float32Array, y: ArrayLike<number>): void {
    const k = this.features;
    for (let r = 0; r < y.length; r++) this.add(x.subarray(r * k, (r + 1) * k), y[r] ? 1 : 0);
  }

  counts(): DatasetCounts {
    return {
      trainPositive: this.train[1].size,
      trainNegative: this.train[0].size,
      holdoutPositive: this.held[1].size,
      holdoutNegative: this.held[0].size,
      seenPositive: this.train[1].seen + this.held[1].seen,
      seenNegative: this.train[0].seen + this.held[0].seen,
    };
  }

  /** Whether a balanced batch can be drawn (both classes present in the training reservoirs). */
  get trainable(): boolean {
    return this.train[0].size > 0 && this.train[1].size > 0;
  }

  /**
   * Writes a class-balanced batch (half positives, half negatives, drawn with replacement) into
   * x (rows×features) and y. Balancing handles the imbalance without per-row loss weights; the
   * model's probabilities are then calibrated to a 50 % prior, which ranking (AUC, thresholds on
   * the score) does not mind.
   */
  sampleBatch(rows: number, x: Float32Array, y: Float32Array, rng: Prng = this.rng): number {
    if (!this.trainable) throw new RangeError('dataset: need rows of both classes to draw a batch');
    const k = this.features;
    for (let r = 0; r < rows; r++) {
      const label = r % 2;
      const res = this.train[label]!;
      x.set(res.row(rng.int(res.size)), r * k);
      y[r] = label;
    }
    return rows;
  }

  /** The held-out rows (copies). */
  holdout(): { x: Float32Array; y: Uint8Array } {
    const k = this.features;
    const [neg, pos] = this.held;
    const rows = neg.size + pos.size;
    const x = new Float32Array(rows * k);
    const y = new Uint8Array(rows);
    x.set(neg.x.subarray(0, neg.size * k), 0);
    x.set(pos.x.subarray(0, pos.size * k), neg.size * k);
    y.fill(1, neg.size);
    return { x, y };
  }

  /** The training rows (copies), e.g. for a centralised baseline. */
  trainingRows(): { x: Float32Array; y: Uint8Array } {
    const k = this.features;
    const [neg, pos] = this.train;
    const x = new Float32Array((neg.size + pos.size) * k);
    const y = new Uint8Array(neg.size + pos.size);
    x.set(neg.x.subarray(0, neg.size * k), 0);
    x.set(pos.x.subarray(0, pos.size * k), neg.size * k);
    y.fill(1, neg.size);
    return { x, y };
  }
}
