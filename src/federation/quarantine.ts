// Fleet-wide quarantine as this node sees it: the peers a quorum of admitted voters named
// (recomputed when votes, the registry or the CRL change), and this node's own votes, which it
// signs again on every refresh so that they do not expire.
import type { FederationComponents } from './components.ts';

export class FleetQuarantine {
  private quarantined = new Set<string>();
  private readonly ownVotes = new Map<string, string>();

  constructor(
    private readonly components: FederationComponents,
    private readonly init: { isAdmitted(peerId: string): boolean; gossip(entries: Uint8Array[]): void },
  ) {}

  has(peerId: string): boolean {
    return this.quarantined.has(peerId);
  }

  get size(): number {
    return this.quarantined.size;
  }

  list(): string[] {
    return [...this.quarantined].sort();
  }

  recompute(): void {
    this.quarantined = new Set(this.components.state.quarantined((id) => this.init.isAdmitted(id)));
    this.components.metrics.quarantinedPeers = this.quarantined.size;
  }

  /** Casts (or withdraws) this node's vote and spreads it. */
  vote(target: string, reason: string, vote: boolean): void {
    if (vote) this.ownVotes.set(target, reason);
    else this.ownVotes.delete(target);
    this.init.gossip([this.components.state.vote(target, reason, vote).bytes]);
  }

  /** This node's standing votes, signed afresh. */
  renewedVotes(): Uint8Array[] {
    return [...this.ownVotes].map(([target, reason]) => this.components.state.vote(target, reason).bytes);
  }
}
