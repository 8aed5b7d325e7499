// One typed interface over any build of the core (dist/core.wasm, dist/core-scalar.wasm or the
// wasm2js fallback): all export the same functions over the same memory layout, so nothing here
// knows which.
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

/** Which build runs: WASM with SIMD, WASM without (same sources), or the portable JS build. */
export type CoreVariant = 'wasm-simd' | 'wasm-scalar' | 'js';

export interface Core {
  /** 'wasm' for either WASM build, 'js' for the portable fallback (what /status and metrics show). */
  readonly kind: 'wasm' | 'js';
  readonly variant: CoreVariant;
  /** Why a faster build is not running, when it was wanted but could not be used. */
  readonly fallbackReason: string | undefined;
  /** Where the WASM came from (path), when kind is 'wasm'. */
  readonly source: string | undefined;
  /** Whether the running build uses v128 SIMD. */
  readonly simd: boolean;
  /** Whether this V8 on this CPU can run Wasm SIMD at all (probed when the core was loaded). */
  readonly simdSupported: boolean;
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

export interface CoreOrigin {
  variant: CoreVariant;
  fallbackReason: string | undefined;
  source: string | undefined;
  simdSupported: boolean;
}

export function createCore(exports: CoreExports, origin: CoreOrigin): Core {
  const memory = new CoreMemory(exports.memory, exports.heapBase());
  let scorer: RouteScorer | undefined;
  return {
    kind: origin.variant === 'js' ? 'js' : 'wasm',
    ...origin,
    simd: exports.simdEnabled() === 1,
    aggregator: (n, d, opts) => new Aggregator(exports, memory, n, d, opts),
    scoreRoutes: (candidates, opts) => (scorer ??= new RouteScorer(exports, memory)).score(candidates, opts),
    model: (spec, opts) => new Model(exports, memory, spec, opts),
    classifier: (spec, opts) => new Classifier(exports, memory, spec, opts),
    memoryStats: () => ({ bytes: memory.bytes, used: memory.used, grows: memory.grows }),
  };
}
