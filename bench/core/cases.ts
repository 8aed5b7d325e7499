// The rules bench:core measures, each as the agent's Aggregator config and as the C stick's
// spec (bench/core/c/aggregators.c), with the same parameters on both sides.
import type { AggregationConfig } from '../../src/core/index.ts';

export interface RuleCase {
  /** Name in the bench rows. */
  name: string;
  config: AggregationConfig;
  /** Run with the per-update weights. */
  weighted: boolean;
  /** Run with the centre v₀ (centered clipping starts from the last aggregate). */
  centered: boolean;
  /** The same aggregation for the C stick. */
  spec: string;
  /** On the hot path: goal WASM ≥ 4× JS and ≤ 1.3× C. */
  hot: boolean;
}

/** Byzantine updates tolerated: n/8, inside every rule's guarantee for n ≥ 16 (Bulyan n ≥ 4f + 3). */
export function byzantine(n: number): number {
  return Math.floor(n / 8);
}

export const GM = { nu: 1e-5, maxIter: 8, tol: 1e-6 };
export const CC = { tau: 10, iterations: 3 };
export const BUCKET = { s: 2, seed: 20240601 };

export function ruleCases(n: number, d: number): RuleCase[] {
  const f = byzantine(n);
  const maxNorm = Math.sqrt(d);
  const cases: RuleCase[] = [
    { name: 'mean', config: { rule: 'mean' }, weighted: false, centered: false, spec: 'mean', hot: true },
    { name: 'weighted-mean', config: { rule: 'mean' }, weighted: true, centered: false, spec: '@mean', hot: false },
    { name: 'median', config: { rule: 'median', f }, weighted: false, centered: false, spec: 'median', hot: true },
    {
      name: 'trimmed-mean', config: { rule: 'trimmed-mean', f, b: f }, weighted: false, centered: false,
      spec: `trimmed-mean:${f}`, hot: true,
    },
    { name: 'krum', config: { rule: 'krum', f }, weighted: false, centered: false, spec: `krum:${f}`, hot: true },
    {
      name: 'multi-krum', config: { rule: 'multi-krum', f, m: n - f }, weighted: false, centered: false,
      spec: `multi-krum:${f}:${n - f}`, hot: false,
    },
    { name: 'bulyan', config: { rule: 'bulyan', f }, weighted: false, centered: false, spec: `bulyan:${f}`, hot: false },
    {
      name: 'geometric-median', config: { rule: 'geometric-median', f, ...GM }, weighted: false, centered: false,
      spec: `geometric-median:${GM.nu}:${GM.maxIter}:${GM.tol}`, hot: true,
    },
    {
      name: 'centered-clipping', config: { rule: 'centered-clipping', f, ...CC }, weighted: false, centered: true,
      spec: `centered-clipping:${CC.tau}:${CC.iterations}`, hot: true,
    },
    {
      name: 'norm-clipping', config: { rule: 'norm-clipping', f, maxNorm }, weighted: false, centered: false,
      spec: `norm-clipping:${maxNorm}`, hot: false,
    },
    {
      // The anchor table's strongest combination: buckets of 2, then centered clipping.
      name: 'bucketing+centered-clipping',
      config: { rule: 'centered-clipping', f, ...CC, pre: { kind: 'bucketing', ...BUCKET } },
      weighted: false, centered: true,
      spec: `bucketing:${BUCKET.s}:${BUCKET.seed}/centered-clipping:${CC.tau}:${CC.iterations}`, hot: false,
    },
    {
      // ByzFL's pairing: NNM, then the coordinate-wise trimmed mean.
      name: 'nnm+trimmed-mean', config: { rule: 'trimmed-mean', f, b: f, pre: { kind: 'nnm' } }, weighted: false,
      centered: false, spec: `nnm:${f}/trimmed-mean:${f}`, hot: false,
    },
  ];
  return cases;
}
