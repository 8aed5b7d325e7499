// The link-failure model an agent starts from (UCI learning.initial_model) instead of its random
// init, so that it predicts from its first full feature windows rather than after its first
// learning round. Made offline from recorded traces (bench/kernel-model/export-model.ts).
// The file is untrusted input: read through src/flash/safe-read.ts (a regular file only, at most
// SEED_MAX_BYTES, never blocking), and anything that is not this agent's model shape with finite,
// bounded numbers is refused with the reason.
import { readRegularFile, SafeReadError } from '../flash/safe-read.ts';
import type { ModelSpec } from '../core/index.ts';

export const SEED_FORMAT = 'x0tta6bl4-link-model';
/** Largest file read: the default model (12 features, 8 hidden units) is about 2 KB. */
export const SEED_MAX_BYTES = 65536;

export interface SeedModel {
  params: Float32Array;
  /** Positive share of the labels the model was trained on (all polls, before class balancing). */
  baseRate: number;
}

/** Reads and checks a seed model for `spec` (of `size` parameters); throws an Error saying what is wrong. */
export function readSeedModel(path: string, spec: ModelSpec, size: number): SeedModel {
  let bytes: Buffer | null;
  try {
    bytes = readRegularFile(path, { maxBytes: SEED_MAX_BYTES });
  } catch (e) {
    throw new Error(e instanceof SafeReadError ? e.reason : String(e));
  }
  if (bytes === null) throw new Error('no such file');
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Error('not JSON');
  }
  if (doc?.format !== SEED_FORMAT || doc.version !== 1) throw new Error(`not ${SEED_FORMAT} version 1`);
  // the same kind, features (FEATURE_COUNT) and hidden units, in the order the exporter writes them
  const want = JSON.stringify(spec);
  if (JSON.stringify(doc.spec) !== want) throw new Error('spec not ' + want);
  // trained tanh-MLP weights are a few units; beyond ±1000 the file is broken (or hostile)
  const p = doc.params;
  if (!Array.isArray(p) || p.length !== size || !p.every((v) => typeof v === 'number' && Math.abs(v) <= 1e3)) {
    throw new Error(`params: need ${size} numbers within ±1000`);
  }
  const baseRate = doc.baseRate;
  if (typeof baseRate !== 'number' || !(baseRate >= 1e-4 && baseRate <= 0.9)) throw new Error('baseRate not in [1e-4, 0.9]');
  return { params: Float32Array.from(p), baseRate };
}
