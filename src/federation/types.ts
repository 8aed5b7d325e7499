// The federation as the rest of the agent sees it (learning, agent wiring, status). Everything
// libp2p stays behind this interface.
import type { DiscoveryStatus } from './mesh-discovery.ts';
import type { AgentConfig } from '../config/schema.ts';
import type { SpanContext } from '../tracing/api.ts';
export type { DiscoveryStatus };

/** An application message that passed every check: admitted sender, signature, freshness, no replay. */
export interface FederationMessage {
  /** The sender's libp2p peer id (its certificate's SPIFFE ID ends with it). */
  from: string;
  /** The application topic as given to publish(), without the fleet prefix. */
  topic: string;
  /** Per-sender sequence number, strictly increasing across restarts. */
  seq: bigint;
  /** Application round (e.g. the learning round), 0 when the sender gave none. */
  round: number;
  /** Sender's clock, ms since the epoch. */
  timestamp: number;
  payload: Uint8Array;
  /** The sender's trace context, signed with the message (envelope version 2), when it sent one. */
  trace?: { traceparent: string; tracestate?: string };
}

export type MessageHandler = (msg: FederationMessage) => void;

/** A fleet-wide setting took effect: `name` as the operator signed it ('healing.cooldown'), value null when withdrawn. */
export type SettingHandler = (name: string, value: string | null) => void;

export interface PeerSummary {
  peerId: string;
  /** The node name from its registry entry, or '' until it is known. */
  name: string;
  spiffeId: string;
  /** Remote addresses of the open connections. */
  addrs: string[];
  admittedAt: number;
  /** Certificate serial (hex), what revocation matches. */
  serial: string;
  certExpires: number;
  quarantined: boolean;
  rttMs: number | null;
}

export type FederationState = 'ok' | 'degraded' | 'down' | 'disabled';

export interface FederationHealth {
  state: FederationState;
  reason: string;
}

/** Counters, all monotonic except the gauges noted. */
export interface FederationMetrics {
  /** gauge */ connectedPeers: number;
  /** gauge */ admittedPeers: number;
  admissionsAccepted: number;
  admissionsRejected: Record<string, number>; // by reason code
  messagesPublished: number;
  messagesAccepted: number;
  messagesDropped: Record<string, number>; // stale, duplicate, future, malformed, bad_signature, unadmitted, rate_limited, too_big
  revokedDisconnects: number;
  /** gauge */ stateEntries: number;
  stateMerges: number;
  stateRejected: number;
  /** gauge */ quarantinedPeers: number;
  /** Dials started because the signed registry named a peer we were not connected to. */
  peerExchangeDials: number;
}

export interface Federation {
  readonly peerId: string;
  /** Signs and floods `payload` on `topic` (an application topic like 'learning/update'). */
  publish(topic: string, payload: Uint8Array, opts?: { round?: number; trace?: { traceparent: string; tracestate?: string } }): Promise<void>;
  /** Handler gets only checked messages from admitted, non-quarantined peers. Returns the unsubscribe function. */
  subscribe(topic: string, handler: MessageHandler): () => void;
  /** This node's listen addresses with the /p2p/<peer-id> suffix. */
  addresses(): string[];
  /** Dials a peer (multiaddr with /p2p/<id>); admission follows as for any connection. */
  connect(addr: string): Promise<void>;
  /** Adopts a CRL (DER or PEM) signed by the fleet CA if it is newer than the fleet's; it spreads to all peers. */
  offerCrl(crl: Uint8Array): boolean;
  /** Adopts an encoded fleet-state entry made off-line (e.g. a CA-signed setting); it spreads if new. */
  offerEntry(entry: Uint8Array): boolean;
  /**
   * Observes CA-signed fleet settings: called once for each setting already in force, then on
   * every change (a newer signed value, or null when the operator withdrew it). Returns the
   * function that stops the calls.
   */
  onSetting(handler: SettingHandler): () => void;
  /**
   * Takes over the federation options that can change at run time (those the config schema
   * flags `apply: 'live'`: rate_limit, rate_burst, quarantine_quorum, peer_exchange, peer) from a
   * changed config, e.g. after a fleet setting or an MQTT `set`; `restart` names the changed
   * ones that wait for the next start.
   */
  reconfigure(config: AgentConfig): { applied: string[]; restart: string[] };
  /** mDNS discovery on the mesh interface (state, counters, peers found), or null when off. */
  discovery(): DiscoveryStatus | null;
  /** Admitted peers currently connected. */
  peers(): PeerSummary[];
  health(): FederationHealth;
  metrics(): FederationMetrics;
  /** Replicated fleet state (node registry, revocations, quarantine votes, CA-signed settings). */
  readonly fleet: FleetStateView;
  stop(): Promise<void>;
}

/** What a quarantine vote wrote, as the command's reply shows it. */
export interface VoteCast {
  /** The fleet state key written: vote/<target>/<this node>. */
  key: string;
  target: string;
  name: string;
  vote: boolean;
  reason: string;
  /** The entry's HLC stamp (wall ms, counter). */
  stamp: { wall: number; counter: number };
  /** Whether the target is quarantined fleet-wide now, as this node counts, and the quorum. */
  quarantined: boolean;
  quorum: number;
  /** Distinct voters against the target in this node's state (own vote included). */
  votes: number;
  /** The trace id the entry carries to the fleet, when it carries one. */
  traceId?: string;
}

export interface FleetStateView {
  /** Registry of nodes (who, where, version, capabilities, last seen). */
  nodes(): { peerId: string; name: string; addrs: string[]; version: string; capabilities: string[]; lastSeen: number }[];
  /** Peers quarantined fleet-wide (a quorum of distinct admitted voters). */
  quarantined(): string[];
  /** Casts (or withdraws, with vote=false) this node's quarantine vote against a peer id. */
  voteQuarantine(target: string, reason: string, vote?: boolean): void;
  /**
   * The operator's `quarantine-vote`: `peer` is a peer id or a node name in the registry (not
   * this node); trace: the command's span, whose context the vote carries to the fleet when
   * tracing is on. Throws FederationError with the reason on refusal.
   */
  castVote(peer: string, vote: boolean, reason: string, trace?: SpanContext): VoteCast;
  /** A fleet-wide setting signed by the fleet CA, or undefined. */
  setting(name: string): string | undefined;
  /** All fleet-wide settings in force, name → value. */
  settings(): Record<string, string>;
  /** A stable digest of the whole state, equal on nodes that have converged. */
  digest(): string;
}
