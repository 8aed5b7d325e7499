// Freshness and replay checks for signed messages: a timestamp window and, per sender and topic,
// the highest sequence number seen plus a 64-bit window below it (messages may arrive out of
// order over different gossip paths). Sequence numbers start from the sender's clock in
// microseconds, so a restarted sender continues above its old numbers without storing them.

export type ReplayVerdict = 'ok' | 'stale' | 'future' | 'duplicate';

const WINDOW = 64n;
const MAX_STREAMS = 8192;

interface Stream {
  max: bigint;
  /** Bit i set: max - i was seen. */
  seen: bigint;
}

export class ReplayGuard {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxSkewMs: number,
  ) {}

  /** Cheap, read-only: run it before the signature check. */
  check(sender: string, topic: string, seq: bigint, timestamp: number, now: number): ReplayVerdict {
    if (timestamp > now + this.maxSkewMs) return 'future';
    if (timestamp < now - this.maxAgeMs) return 'stale';
    const s = this.streams.get(`${sender} ${topic}`);
    if (!s) return 'ok';
    if (seq > s.max) return 'ok';
    const back = s.max - seq;
    if (back >= WINDOW) return 'stale';
    return (s.seen >> back) & 1n ? 'duplicate' : 'ok';
  }

  /** After the signature verified: remember the number. */
  record(sender: string, topic: string, seq: bigint): void {
    const id = `${sender} ${topic}`;
    let s = this.streams.get(id);
    if (!s) {
      if (this.streams.size >= MAX_STREAMS) this.streams.delete(this.streams.keys().next().value!);
      s = { max: seq, seen: 1n };
      this.streams.set(id, s);
      return;
    }
    if (seq > s.max) {
      const shift = seq - s.max;
      s.seen = shift >= WINDOW ? 1n : ((s.seen << shift) | 1n) & ((1n << WINDOW) - 1n);
      s.max = seq;
    } else {
      s.seen |= 1n << (s.max - seq);
    }
  }
}

/** A sequence counter that never repeats across restarts (clock in µs, then +1 per message). */
export class SequenceCounter {
  private last: bigint;
  constructor(now = Date.now()) {
    this.last = BigInt(Math.floor(now)) * 1000n;
  }
  next(now = Date.now()): bigint {
    const t = BigInt(Math.floor(now)) * 1000n;
    this.last = t > this.last ? t : this.last + 1n;
    return this.last;
  }
}
