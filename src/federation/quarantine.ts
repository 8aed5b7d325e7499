// Fleet-wide quarantine as this node sees it: the peers a quorum of admitted voters named
// (recomputed when votes, the registry or the CRL change), and this node's own votes, which it
// signs again on every refresh so that they do not expire.
import type { FederationComponents } from './components.ts';
import type { EnvelopeTrace } from './envelope.ts';
import { FederationError } from './federation-error.ts';
import type { StateEntry } from './state-entry.ts';

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

  /**
   * Casts (or withdraws) this node's vote and spreads it. trace: only on the entry written now;
   * the renewals (renewedVotes) are not part of the operator's trace.
   */
  vote(target: string, reason: string, vote: boolean, trace?: EnvelopeTrace): StateEntry {
    const e = this.components.state.vote(target, reason, vote, trace);
    if (vote) this.ownVotes.set(target, reason);
    else this.ownVotes.delete(target);
    this.init.gossip([e.bytes]);
    return e;
  }

  /**
   * The peer an operator named (a peer id or a node name in the registry), with its name;
   * refuses self, unknown peers and a name two nodes share.
   */
  resolve(peer: string): { peerId: string; name: string } {
    const { state, peerId: self } = this.components;
    const byId = state.node(peer);
    let found: { peerId: string; name: string };
    if (byId) found = { peerId: peer, name: byId.name };
    else {
      const named = state.nodes().filter((n) => n.name === peer);
      if (named.length > 1) throw new FederationError(`${named.length} nodes are named '${peer}' (${named.map((n) => n.peerId).join(', ')}): name the peer id`);
      if (!named.length) throw new FederationError(`no node '${peer}' in the fleet registry (neither a peer id nor a node name; known: ${state.nodes().map((n) => n.name).sort().join(', ') || 'none'})`);
      found = { peerId: named[0]!.peerId, name: named[0]!.name };
    }
    if (found.peerId === self) throw new FederationError(`'${peer}' is this router itself: a router cannot vote to quarantine itself`);
    return found;
  }

  /** This node's standing votes, signed afresh. */
  renewedVotes(): Uint8Array[] {
    return [...this.ownVotes].map(([target, reason]) => this.components.state.vote(target, reason).bytes);
  }
}
