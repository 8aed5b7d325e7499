// Everything the federation needs from the config, with the options the UCI schema does not carry
// yet derived from state_dir and fleet (see /work/handoff/federation.md for the proposed options).
import { join } from 'node:path';
import type { AgentConfig } from '../config/schema.ts';

export interface FederationSettings {
  fleet: string;
  nodeName: string;
  version: string;
  listen: string[];
  peers: string[];
  maxConnections: number;
  /** Persisted ed25519 libp2p identity (protobuf private key, mode 0600). */
  keyFile: string;
  /** Fleet CA anchors (PEM). */
  caFile: string;
  /** This node's certificate chain, leaf first (PEM). */
  certFile: string;
  /** Optional CRL (DER or PEM) the operator dropped on this node; it is spread through fleet state. */
  crlFile: string;
  trustDomain: string;
  mdns: boolean;
  /** Largest gossip message accepted or sent, bytes. */
  maxMessageBytes: number;
  /** Per-peer token bucket for gossip messages: sustained rate and burst. */
  ratePerSecond: number;
  rateBurst: number;
  /** Messages older than this are stale; newer than now+skew are future-dated. */
  maxMessageAgeMs: number;
  maxClockSkewMs: number;
  /** Distinct admitted voters needed to quarantine a peer fleet-wide. */
  quarantineQuorum: number;
  /** How long a registry entry or vote lives unless its author refreshes it. */
  entryTtlMs: number;
  /** Author refresh period (registry entry, own votes). */
  refreshMs: number;
  /** Anti-entropy: compare state digests with one random admitted peer this often. */
  syncMs: number;
  /** New inbound connections per second from one IP (each router has its own; tests on loopback share one). */
  inboundPerHostPerSecond: number;
  /** Dial peers named in the fleet registry (peer exchange) until a few are connected. */
  peerExchange: boolean;
  /** Static peers that are not connected are dialled again this often. */
  redialMs: number;
  /** A connected peer that has not been admitted after this long is cut off. */
  admissionTimeoutMs: number;
}

export function federationSettings(config: AgentConfig, version: string, nodeName: string): FederationSettings {
  const dir = config.agent.stateDir;
  return {
    fleet: config.agent.fleet,
    nodeName,
    version,
    listen: [...config.federation.listen],
    peers: [...config.federation.peers],
    maxConnections: config.federation.maxConnections,
    keyFile: join(dir, 'federation.key'),
    caFile: join(dir, 'fleet-ca.pem'),
    certFile: join(dir, 'node-cert.pem'),
    crlFile: join(dir, 'fleet.crl'),
    trustDomain: defaultTrustDomain(config.agent.fleet),
    mdns: true,
    maxMessageBytes: 1 << 20,
    ratePerSecond: 20,
    rateBurst: 100,
    maxMessageAgeMs: 300_000,
    maxClockSkewMs: 30_000,
    quarantineQuorum: 3,
    entryTtlMs: 600_000,
    refreshMs: 60_000,
    // LibreMesh's shared-state syncs every 15 s; a digest costs 32 bytes when nothing changed.
    syncMs: 15_000,
    admissionTimeoutMs: 10_000,
    inboundPerHostPerSecond: 5,
    redialMs: 5_000,
    peerExchange: true,
  };
}

/** SPIFFE trust domains are lowercase; fleet names may not be. */
export function defaultTrustDomain(fleet: string): string {
  return `${fleet.toLowerCase()}.x0tta6bl4`;
}
