// Reconnect delays: exponential with "equal jitter" (half fixed, half random), so a mesh whose
// uplink comes back does not reconnect every node in the same second, and no delay is ever 0.

export interface BackoffOptions {
  minMs?: number;
  maxMs?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  readonly minMs: number;
  readonly maxMs: number;
  private readonly random: () => number;

  constructor(o: BackoffOptions = {}) {
    this.minMs = o.minMs ?? 1000;
    this.maxMs = o.maxMs ?? 60_000;
    this.random = o.random ?? Math.random;
    if (!(this.minMs > 0 && this.maxMs >= this.minMs)) throw new RangeError(`backoff needs 0 < min <= max, got ${this.minMs}..${this.maxMs}`);
  }

  get attempts(): number {
    return this.attempt;
  }

  next(): number {
    const cap = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(cap / 2 + this.random() * (cap / 2));
  }

  reset(): void {
    this.attempt = 0;
  }
}
