// One typed interface over either build of the core (dist/core.wasm or the wasm2js fallback):
// both export the same functions over the same memory layout, so nothing here knows which.
import { type CoreExports } from './exports.ts';
import { CoreMemory } from './memory.ts';
import { Aggregator, type AggregatorOptions } from './aggregator.ts';
import { RouteScorer, type RouteCandidate, type RouteScores, type RouteScoringOptions } from './route-scoring.ts';
import { Model, type ModelOptions, type ModelSpec } from './model.ts';
import { Classifier, type ClassifierOptions, type ClassifierSpec } from './classifier.ts';

export interface CoreMemoryStats {
  /** Linear memory reserved from the system. */
  bytes: number;
  /** Bytes held by live aggregators, models and the route-scoring scratch. */
  used: number;
  /** How often the memory grew; every growth detaches earlier typed-array views. */
  grows: number;
}

export interface Core {
  /** Which build runs: 'wasm' (SIMD) or 'js' (the portable fallback). */
  readonly kind: 'wasm' | 'js';
  /** Why the WASM build is not running, when it was wanted but could not be used. */
  readonly fallbackReason: string | undefined;
  /** Where the WASM came from (path or URL), when kind is 'wasm'. */
  readonly source: string | undefined;
  /** Whether the running build uses v128 SIMD. */
  readonly simd: boolean;
  /** An aggregator for n updates of d float32 (see Aggregator). */
  aggregator(n: number, d: number, opts?: AggregatorOptions): Aggregator;
  /** Scores every candidate next hop of every originator (see route-scoring.ts for the formula). */
  scoreRoutes(candidates: readonly RouteCandidate[], opts?: RouteScoringOptions): RouteScores;
  /** A logistic-regression or MLP model whose parameters live in core memory. */
  model(spec: ModelSpec, opts?: ModelOptions): Model;
  /** A c-class softmax classifier (multinomial logistic regression or MLP) in core memory. */
  classifier(spec: ClassifierSpec, opts?: ClassifierOptions): Classifier;
  memoryStats(): CoreMemoryStats;
}

export function createCore(
  exports: CoreExports,
  kind: 'wasm' | 'js',
  fallbackReason: string | undefined,
  source: string | undefined,
): Core {
  const memory = new CoreMemory(exports.memory, exports.heapBase());
  let scorer: RouteScorer | undefined;
  return {
    kind,
    fallbackReason,
    source,
    simd: exports.simdEnabled() === 1,
    aggregator: (n, d, opts) => new Aggregator(exports, memory, n, d, opts),
    scoreRoutes: (candidates, opts) => (scorer ??= new RouteScorer(exports, memory)).score(candidates, opts),
    model: (spec, opts) => new Model(exports, memory, spec, opts),
    classifier: (spec, opts) => new Classifier(exports, memory, spec, opts),
    memoryStats: () => ({ bytes: memory.bytes, used: memory.used, grows: memory.grows }),
  };
}
