// Boundary checks shared by the core's trainable models (Model, Classifier): the core trusts
// what it is given, so options, parameters and batch rows are checked here, once.
import type { CoreExports } from './exports.ts';
import { ModelError } from './errors.ts';

export interface SgdOptions {
  /** Learning rate η > 0. */
  lr: number;
  /** Momentum μ ∈ [0, 1) (default 0). */
  momentum?: number;
  /** L2 weight decay λ ≥ 0 on all parameters (default 0). */
  weightDecay?: number;
}

/** lr, momentum and weight decay, checked; defaults filled in. */
export function sgdArgs(opts: SgdOptions): [lr: number, momentum: number, weightDecay: number] {
  const lr = opts?.lr;
  const momentum = opts?.momentum ?? 0;
  const wd = opts?.weightDecay ?? 0;
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) throw new ModelError('invalid-option', `sgd: lr must be > 0, got ${String(lr)}`);
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) {
    throw new ModelError('invalid-option', `sgd: momentum must be in [0, 1), got ${String(momentum)}`);
  }
  if (typeof wd !== 'number' || !Number.isFinite(wd) || wd < 0) throw new ModelError('invalid-option', `sgd: weightDecay must be ≥ 0, got ${String(wd)}`);
  return [lr, momentum, wd];
}

/** A replacement parameter vector (e.g. an aggregate): right length, every value finite. */
export function checkParams(who: string, size: number, values: ArrayLike<number>): void {
  if (values.length !== size) throw new ModelError('invalid-input', `${who}: ${size} parameters expected, got ${values.length}`);
  for (let j = 0; j < values.length; j++) {
    if (!Number.isFinite(values[j])) throw new ModelError('invalid-input', `${who}: parameter ${j} is ${values[j]}`);
  }
}

/** `rows` within the batch buffers, and every feature of those rows (at ptr x) finite. */
export function checkRows(who: string, core: CoreExports, x: number, rows: number, features: number, maxBatch: number): void {
  if (!Number.isInteger(rows) || rows < 1 || rows > maxBatch) {
    throw new ModelError('invalid-input', `${who}: rows must be an integer in [1, ${maxBatch}], got ${String(rows)}`);
  }
  const at = core.firstNonFinite(x, rows * features);
  if (at >= 0) {
    const row = Math.floor(at / features);
    throw new ModelError('invalid-input', `${who}: feature ${at % features} of row ${row} is not finite`, row);
  }
}
