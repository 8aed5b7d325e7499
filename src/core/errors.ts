// Typed errors of the core. Every one carries a stable `code` for programs and a message that
// says why, with the numbers involved, for operators.

export type AggregationErrorCode =
  | 'invalid-config' // a parameter is missing, of the wrong type or out of range
  | 'below-guarantee' // the rule cannot guarantee anything for this n and f
  | 'no-updates' // nothing left to aggregate after rejections
  | 'weights-unsupported' // weights were set but the rule does not use them
  | 'invalid-weights' // weights are negative, non-finite or sum to zero
  | 'invalid-index' // a slot index outside [0, n)
  | 'invalid-size' // n or d not a positive integer, or too large
  | 'disposed'; // the aggregator was disposed

export class AggregationError extends Error {
  override readonly name = 'AggregationError';
  constructor(
    readonly code: AggregationErrorCode,
    message: string,
    readonly rule?: string,
  ) {
    super(message);
  }
}

export class RouteScoringError extends Error {
  override readonly name = 'RouteScoringError';
  constructor(
    readonly code: 'invalid-candidate' | 'invalid-option',
    message: string,
    readonly candidate?: number,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    readonly code: 'invalid-spec' | 'invalid-input' | 'invalid-option' | 'disposed',
    message: string,
    readonly row?: number,
  ) {
    super(message);
  }
}

export class CoreMemoryError extends Error {
  override readonly name = 'CoreMemoryError';
  readonly code = 'out-of-memory';
}

export class CoreLoadError extends Error {
  override readonly name = 'CoreLoadError';
  readonly code = 'load-failed';
}
