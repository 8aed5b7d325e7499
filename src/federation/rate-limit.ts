// Per-peer token buckets: a peer may send `burst` messages at once and `rate` per second after.
export class PeerRateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private rate: number,
    private burst: number,
  ) {}

  /** New limits (a config change); buckets keep their tokens, capped at the new burst. */
  set(rate: number, burst: number): void {
    this.rate = rate;
    this.burst = burst;
  }

  take(peer: string, now = Date.now()): boolean {
    let b = this.buckets.get(peer);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(peer, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(peer: string): void {
    this.buckets.delete(peer);
  }
}
