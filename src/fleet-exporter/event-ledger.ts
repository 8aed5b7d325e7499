// Which events of one node were already counted: QoS 1 is at-least-once, so a redelivered event
// must not count twice, and a `seq` that jumps shows events that never arrived. `seq` counts
// 1, 2, 3… per `boot` and a node sends in order, so a high-water mark per boot is enough. A few
// boots are kept because a restarted node may still flush its previous boot's buffer (on flash);
// older boots are forgotten, so memory per node stays bounded.
// Gaps before the first event seen of a boot count only if the exporter saw that boot begin (the
// node's live `online` state): a boot met mid-way — the exporter (re)started after it, or a
// persistent session hands over the events kept while the exporter was away — may have had its
// earlier events counted by the exporter's previous run, so they are not called missing.
export const MAX_BOOTS_PER_NODE = 4;

export type EventVerdict = 'new' | 'duplicate';

export class EventLedger {
  /** boot → highest seq seen; Map order is least recently used first. */
  private readonly boots = new Map<string, number>();
  duplicates = 0;
  /** Sequence numbers skipped: events the node sent (or meant to) that never reached us. */
  gaps = 0;

  /** The node said (live, not retained) that this boot began: its events count from seq 1. */
  begin(boot: string): void {
    if (!this.boots.has(boot)) this.remember(boot, 0);
  }

  take(boot: string, seq: number): EventVerdict {
    const high = this.boots.get(boot);
    if (high !== undefined && seq <= high) {
      this.duplicates++;
      return 'duplicate';
    }
    const from = high ?? seq - 1;
    if (seq > from + 1) this.gaps += seq - from - 1;
    this.remember(boot, seq);
    return 'new';
  }

  private remember(boot: string, seq: number): void {
    this.boots.delete(boot);
    this.boots.set(boot, seq);
    if (this.boots.size > MAX_BOOTS_PER_NODE) this.boots.delete(this.boots.keys().next().value as string);
  }
}
