// The raw exports of the core, identical for dist/core.wasm and the wasm2js fallback: both are
// compiled from assembly/index.ts. Pointers are byte offsets into `memory` (numbers); the
// TypeScript side computes and bounds-checks every one of them before a call.
export interface CoreMemoryObject {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

type Ptr = number;

export interface CoreExports {
  readonly memory: CoreMemoryObject;
  abiVersion(): number;
  heapBase(): number;
  simdEnabled(): number;

  firstNonFinite(a: Ptr, len: number): number;
  sqDistance(a: Ptr, b: Ptr, d: number): number;
  sqNorm(a: Ptr, d: number): number;
  networkCapacity(m: number): number;
  pairwiseSqDistances(xs: Ptr, d: number, idx: Ptr, m: number, D: Ptr): void;

  weightedMean(xs: Ptr, d: number, idx: Ptr, m: number, w: Ptr, out: Ptr, acc: Ptr): void;
  coordinateMedian(xs: Ptr, d: number, idx: Ptr, m: number, out: Ptr, S: Ptr, pairs: Ptr): void;
  trimmedMean(xs: Ptr, d: number, idx: Ptr, m: number, b: number, out: Ptr, S: Ptr, pairs: Ptr, acc16: Ptr): void;
  krum(
    xs: Ptr, d: number, idx: Ptr, m: number, f: number, D: Ptr, scores: Ptr, totals: Ptr, row: Ptr, tmp: Ptr, out: Ptr,
  ): number;
  multiKrum(
    xs: Ptr, d: number, idx: Ptr, m: number, f: number, mm: number, D: Ptr, scores: Ptr, totals: Ptr, row: Ptr, tmp: Ptr,
    order: Ptr, itmp: Ptr, sel: Ptr, out: Ptr, acc: Ptr,
  ): void;
  bulyan(
    xs: Ptr, d: number, idx: Ptr, m: number, f: number, D: Ptr, scores: Ptr, totals: Ptr, row: Ptr, tmp: Ptr,
    alive: Ptr, sel: Ptr, out: Ptr, S: Ptr, pairs: Ptr,
  ): void;
  geometricMedian(
    xs: Ptr, d: number, idx: Ptr, m: number, w: Ptr, nu: number, maxIter: number, tol: number,
    out: Ptr, acc: Ptr, alpha: Ptr, beta: Ptr, info: Ptr, start: Ptr, S: Ptr, pairs: Ptr,
  ): number;
  centeredClipping(
    xs: Ptr, d: number, idx: Ptr, m: number, w: Ptr, tau: number, iterations: number, out: Ptr, acc: Ptr, coef: Ptr,
  ): void;
  normClipping(xs: Ptr, d: number, idx: Ptr, m: number, w: Ptr, maxNorm: number, out: Ptr, acc: Ptr, coef: Ptr): void;
  bucketize(
    xs: Ptr, d: number, idx: Ptr, m: number, w: Ptr, s: number, seed: number,
    perm: Ptr, P: Ptr, outIdx: Ptr, outW: Ptr, acc: Ptr,
  ): number;
  nearestNeighbourMixing(
    xs: Ptr, d: number, idx: Ptr, m: number, f: number, w: Ptr, D: Ptr,
    P: Ptr, outIdx: Ptr, outW: Ptr, order: Ptr, itmp: Ptr, neighbours: Ptr, acc: Ptr,
  ): void;

  scoreRoutes(
    count: number, ids: Ptr, feat: Ptr, halfLifeMs: number, refThroughput: number, stabilityWeight: number,
    score: Ptr, order: Ptr, tmp: Ptr, pick: Ptr,
  ): void;

  parameterCount(kind: number, k: number, h: number): number;
  initParameters(kind: number, k: number, h: number, params: Ptr, seed: number): void;
  lossAndGradient(
    kind: number, k: number, h: number, params: Ptr, x: Ptr, y: Ptr, rows: number, grad: Ptr, gacc: Ptr, hid: Ptr,
  ): number;
  predict(kind: number, k: number, h: number, params: Ptr, x: Ptr, rows: number, out: Ptr, hid: Ptr): void;
  sgdStep(params: Ptr, grad: Ptr, velocity: Ptr, size: number, lr: number, momentum: number, weightDecay: number): void;

  softmaxParameterCount(k: number, h: number, c: number): number;
  softmaxInit(k: number, h: number, c: number, params: Ptr, seed: number): void;
  softmaxLossAndGradient(
    k: number, h: number, c: number, act: number, params: Ptr, x: Ptr, labels: Ptr, rows: number, grad: Ptr, gacc: Ptr, hid: Ptr, z: Ptr,
  ): number;
  softmaxPredict(k: number, h: number, c: number, act: number, params: Ptr, x: Ptr, rows: number, out: Ptr, hid: Ptr, z: Ptr): void;
}

// Bump together with ABI_VERSION in assembly/index.ts.
export const CORE_ABI_VERSION = 2;

export const EXPORT_NAMES: readonly (keyof CoreExports)[] = [
  'memory', 'abiVersion', 'heapBase', 'simdEnabled', 'firstNonFinite', 'sqDistance', 'sqNorm', 'networkCapacity',
  'pairwiseSqDistances', 'weightedMean', 'coordinateMedian', 'trimmedMean', 'krum', 'multiKrum', 'bulyan',
  'geometricMedian', 'centeredClipping', 'normClipping', 'bucketize', 'nearestNeighbourMixing', 'scoreRoutes',
  'parameterCount', 'initParameters', 'lossAndGradient', 'predict', 'sgdStep',
  'softmaxParameterCount', 'softmaxInit', 'softmaxLossAndGradient', 'softmaxPredict',
];
