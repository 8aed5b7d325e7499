// Which events of one node were already counted: QoS 1 is at-least-once, so a redelivered event
// must not count twice, and a `seq` that jumps shows events that never arrived. `seq` counts
// 1, 2, 3… per `boot` and a node sends in order, so a high-water mark per boot is enough. A few
// boots are kept because a restarted node may still flush its previous boot's buffer (on flash);
// older boots are forgotten, so memory per node stays bounded.
export const MAX_BOOTS_PER_NODE = 4;

export type EventVerdict = 'new' | 'duplicate';

export class EventLedger {
  /** boot → highest seq seen; Map order is least recently used first. */
  private readonly boots = new Map<string, number>();
  duplicates = 0;
  /** Sequence numbers skipped: events the node sent (or meant to) that never reached us. */
  gaps = 0;

  take(boot: string, seq: number): EventVerdict {
    const high = this.boots.get(boot);
    if (high !== undefined && seq <= high) {
      this.duplicates++;
      return 'duplicate';
    }
    const from = high ?? 0;
    if (seq > from + 1) this.gaps += seq - from - 1;
    this.boots.delete(boot);
    this.boots.set(boot, seq);
    if (this.boots.size > MAX_BOOTS_PER_NODE) this.boots.delete(this.boots.keys().next().value as string);
    return 'new';
  }
}
