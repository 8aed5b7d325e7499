// Loads both builds of the core for a test file. The WASM build must load: with a missing or
// broken dist/core.wasm these tests fail (they never skip), in CI and locally alike.
import { type AggregationConfig, type AggregationResult, type Core, loadCore } from '../../src/core/index.ts';

export async function bothCores(): Promise<{ wasm: Core; js: Core }> {
  const wasm = await loadCore();
  if (wasm.kind !== 'wasm') throw new Error(`the WASM core did not load: ${wasm.fallbackReason}`);
  const js = await loadCore({ prefer: 'js' });
  if (js.kind !== 'js') throw new Error('the portable core did not load');
  return { wasm, js };
}

/** A plain copy of an aggregation result (the core's result is a view that the next run overwrites). */
export interface Outcome extends Omit<AggregationResult, 'result'> {
  result: Float32Array;
}

/** Writes xs into a fresh aggregator, runs config once, copies the outcome, disposes. */
export function aggregate(core: Core, xs: ArrayLike<number>[], config: AggregationConfig, weights?: number[]): Outcome {
  const agg = core.aggregator(xs.length, xs[0]!.length);
  try {
    xs.forEach((x, i) => agg.set(i, x));
    if (weights) agg.setWeights(weights);
    const r = agg.run(config);
    return { ...r, result: r.result.slice() };
  } finally {
    agg.dispose();
  }
}
