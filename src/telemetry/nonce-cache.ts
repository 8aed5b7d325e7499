// Replay protection: every nonce of an accepted command is remembered until its timestamp
// leaves the freshness window, after which the timestamp check rejects a replay by itself.
// Bounded: when full of live nonces, new commands wait (a flood needs valid signatures anyway).

export type NonceVerdict = 'fresh' | 'replay' | 'full';

export class NonceCache {
  // nonce → expiry (ms since the epoch)
  private readonly seen = new Map<string, number>();

  constructor(readonly capacity = 4096) {}

  get size(): number {
    return this.seen.size;
  }

  /** Records the nonce if it is new; `expiresAt` is when its command stops being fresh. */
  check(nonce: string, expiresAt: number, now: number): NonceVerdict {
    const known = this.seen.get(nonce);
    if (known !== undefined && known > now) return 'replay';
    if (known === undefined && this.seen.size >= this.capacity) {
      for (const [n, exp] of this.seen) if (exp <= now) this.seen.delete(n);
      if (this.seen.size >= this.capacity) return 'full';
    }
    this.seen.set(nonce, expiresAt);
    return 'fresh';
  }
}
