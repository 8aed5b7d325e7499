// Entry point of the core: everything the TypeScript side (src/core/) calls. No I/O, no
// allocation: the TypeScript side owns the linear memory above heapBase() and passes pointers.
// Bump ABI_VERSION whenever an export's signature or meaning changes, so that a stale
// core.wasm left on a router is refused instead of misread.
const ABI_VERSION: i32 = 2;

export function abiVersion(): i32 {
  return ABI_VERSION;
}

export function heapBase(): usize {
  return __heap_base;
}

export function simdEnabled(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

export { firstNonFinite, sqDistance, sqNorm } from './lanes';
export { weightedMean } from './mean';
export { coordinateMedian, trimmedMean } from './coordinate-wise';
export { networkCapacity } from './sort';
export { pairwiseSqDistances } from './distances';
export { krum, multiKrum } from './krum';
export { bulyan } from './bulyan';
export { geometricMedian } from './geometric-median';
export { centeredClipping, normClipping } from './clipping';
export { bucketize, nearestNeighbourMixing } from './pre-aggregation';
export { scoreRoutes } from './route-scoring';
export { parameterCount, initParameters, lossAndGradient, predict, sgdStep } from './model';
export { softmaxParameterCount, softmaxInit, softmaxLossAndGradient, softmaxPredict } from './classifier';
