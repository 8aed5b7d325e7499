// Store-and-forward for QoS 1 events. An event leaves the queue only when the broker has
// acknowledged it (PUBACK), so a connection lost with messages in flight loses nothing: they are
// sent again, in order, on the next connection. When the bound is hit the oldest event is dropped
// and counted (the newest say most about the node now); the payload keeps its seq, so a
// subscriber sees the gap too.

export interface QueuedEvent {
  readonly payload: string;
}

export class EventQueue {
  private items: QueuedEvent[] = [];
  // items[0 .. cursor) are sent and awaiting PUBACK; items[cursor ..] are unsent.
  private cursor = 0;
  dropped = 0;
  acked = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`event buffer limit must be a positive integer, got ${limit}`);
  }

  get size(): number {
    return this.items.length;
  }

  get inFlight(): number {
    return this.cursor;
  }

  push(payload: string): void {
    if (this.items.length >= this.limit) {
      this.items.shift();
      if (this.cursor > 0) this.cursor--;
      this.dropped++;
    }
    this.items.push({ payload });
  }

  /** The next unsent event, now counted as in flight; undefined when all are sent. */
  takeUnsent(): QueuedEvent | undefined {
    const e = this.items[this.cursor];
    if (e) this.cursor++;
    return e;
  }

  /** PUBACK arrived. A late ack for an event already dropped is ignored. */
  ack(e: QueuedEvent): void {
    const i = this.items.indexOf(e);
    if (i === -1) return;
    this.items.splice(i, 1);
    if (i < this.cursor) this.cursor--;
    this.acked++;
  }

  /** The connection is gone: everything in flight goes out again, in order, on the next one. */
  rewind(): void {
    this.cursor = 0;
  }

  payloads(): string[] {
    return this.items.map((e) => e.payload);
  }
}
