// Trace and span ids from crypto.randomBytes, drawn from a pool so that a traced cycle of a
// handful of spans costs one hex conversion per id, not one syscall.
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let offset = 0;

function take(n: number): Buffer {
  if (offset + n > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const b = pool.subarray(offset, offset + n);
  offset += n;
  return b;
}

/** 16 random bytes as 32 lowercase hex digits; all-zero (invalid) is drawn again. */
export function newTraceId(): string {
  for (;;) {
    const id = take(16).toString('hex');
    if (id !== '00000000000000000000000000000000') return id;
  }
}

export function newSpanId(): string {
  for (;;) {
    const id = take(8).toString('hex');
    if (id !== '0000000000000000') return id;
  }
}

/**
 * The sampling decision for a new trace, derived from the id (its last 56 bits against
 * ratio × 2^56, exact in a double) like OpenTelemetry's TraceIdRatioBased sampler, so every
 * process that sees the id with the same ratio decides the same.
 */
export function sampledByRatio(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  const low56 = parseInt(traceId.slice(18), 16); // 14 hex digits = 56 bits, exact in a double
  return low56 < ratio * 2 ** 56;
}
