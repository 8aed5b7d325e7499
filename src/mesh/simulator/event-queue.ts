// Timed events of the virtual clock in a binary min-heap. Ties in time are broken by insertion
// order so that a run is reproducible whatever the heap's internal layout.

export interface TimedEvent {
  at: number;
  order: number;
  kind: number;
  id: number;
}

export class EventQueue {
  private heap: TimedEvent[] = [];
  private counter = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, kind: number, id: number): void {
    const e: TimedEvent = { at, order: this.counter++, kind, id };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  peekTime(): number {
    return this.heap.length ? this.heap[0]!.at : Infinity;
  }

  pop(): TimedEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before(a: TimedEvent, b: TimedEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
