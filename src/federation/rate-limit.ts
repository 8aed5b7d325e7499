// Per-peer token buckets: a peer may send `burst` messages at once and `rate` per second after.
export class PeerRateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

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
