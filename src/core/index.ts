// The core's public surface: load it once with loadCore(), then use core.aggregator(),
// core.scoreRoutes() and core.model().
export {
  loadCore, wasmCandidates, scalarCandidates, wasmSimdSupported, PACKAGED_WASM_PATH, SCALAR_WASM_NAME, NO_SIMD_REASON, type LoadCoreOptions,
} from './load.ts';
export type { Core, CoreMemoryStats, CoreVariant } from './core.ts';
export { Aggregator, type AggregationResult, type AggregatorOptions, type RejectedUpdate } from './aggregator.ts';
export { AGGREGATION_RULES, WEIGHTED_RULES, type AggregationConfig, type AggregationRule, type PreAggregation } from './aggregation-config.ts';
export type { RouteCandidate, RouteScores, RouteScoringOptions, OriginatorRoutes, ScoredCandidate } from './route-scoring.ts';
export { Model, type ModelSpec, type ModelOptions, type SgdOptions } from './model.ts';
export { Classifier, type ClassifierSpec, type ClassifierOptions } from './classifier.ts';
export { AggregationError, RouteScoringError, ModelError, CoreMemoryError, CoreLoadError, type AggregationErrorCode } from './errors.ts';
