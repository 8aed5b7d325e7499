// Local training and evaluation of the link-failure model in the WASM core: class-balanced
// minibatches drawn from the node's bounded dataset, SGD steps in the core, predictions in
// batches of the model's buffer size.
import type { Model } from '../core/index.ts';
import type { Prng } from '../mesh/simulator/prng.ts';
import type { LocalDataset } from './local-dataset.ts';
import { rocAuc } from './auc.ts';

export interface LocalTrainingOptions {
  /** SGD steps per round (default 20). */
  steps?: number;
  /** Rows per step (default 64, capped by the model's batch buffer). */
  batch?: number;
  /** Learning rate (default 0.1). */
  lr?: number;
  /** L2 weight decay (default 1e-4). */
  weightDecay?: number;
}

/** Runs local SGD on model (in place). Returns the mean loss over the steps, NaN if no batch could be drawn. */
export function trainLocal(model: Model, data: LocalDataset, opts: LocalTrainingOptions, rng: Prng): number {
  if (!data.trainable) return NaN;
  const steps = opts.steps ?? 20;
  const batch = Math.min(opts.batch ?? 64, model.maxBatch);
  const lr = opts.lr ?? 0.1;
  const weightDecay = opts.weightDecay ?? 1e-4;
  let total = 0;
  for (let s = 0; s < steps; s++) {
    // fresh views each step: core memory may grow between steps (another model or aggregator)
    const { x, y } = model.inputs();
    data.sampleBatch(batch, x, y, rng);
    total += model.step(batch, { lr, weightDecay });
  }
  return total / steps;
}

/** Failure probability for every row of x (rows×features), computed in the core. */
export function predictAll(model: Model, x: Float32Array, rows: number): Float32Array {
  const k = model.features;
  if (x.length !== rows * k) throw new RangeError(`predict: x has ${x.length} values, expected ${rows * k}`);
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r += model.maxBatch) {
    const m = Math.min(model.maxBatch, rows - r);
    model.inputs().x.set(x.subarray(r * k, (r + m) * k));
    out.set(model.predict(m), r);
  }
  return out;
}

/** AUC of the model on labelled rows (NaN when a class is missing). */
export function evaluateAuc(model: Model, x: Float32Array, y: ArrayLike<number>): number {
  if (y.length === 0) return NaN;
  return rocAuc(predictAll(model, x, y.length), y);
}
