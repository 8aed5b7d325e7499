// What every part of a running federation shares, as js-libp2p's components bag: each part is
// `new Part(components, init)`, reads the shared things here and gets its siblings through init.
import type { Logger } from '../agent/logger.ts';
import type { Signer } from './ed25519.ts';
import type { FleetCa } from './fleet-ca.ts';
import type { FleetState } from './fleet-state.ts';
import type { FederationNode } from './node.ts';
import type { FederationSettings } from './settings.ts';
import type { FederationMetrics } from './types.ts';

export interface FederationComponents {
  /** The settings in force; reconfigure changes the live ones in place. */
  readonly settings: FederationSettings;
  readonly peerId: string;
  readonly signer: Signer;
  /** This node's certificate chain (PEM), what it presents to peers. */
  readonly certPem: string;
  readonly ca: FleetCa;
  readonly log: Logger;
  /** The replicated fleet state (registry, revocations, votes, settings). */
  readonly state: FleetState;
  /** Counters every part adds to; metrics() hands out a copy. */
  readonly metrics: FederationMetrics;
  /** The libp2p node: set by start() before any part uses it. */
  node: FederationNode;
  /** True from the moment stop() begins: late callbacks then do nothing. */
  stopped: boolean;
}

export function emptyMetrics(): FederationMetrics {
  return {
    connectedPeers: 0,
    admittedPeers: 0,
    admissionsAccepted: 0,
    admissionsRejected: {},
    messagesPublished: 0,
    messagesAccepted: 0,
    messagesDropped: {},
    revokedDisconnects: 0,
    stateEntries: 0,
    stateMerges: 0,
    stateRejected: 0,
    quarantinedPeers: 0,
    peerExchangeDials: 0,
  };
}
