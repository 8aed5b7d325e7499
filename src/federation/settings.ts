// Everything the federation needs from the config (UCI section `federation`), in one place. Empty
// paths mean the files `x0tta6bl4 pki` tells the operator to put in state_dir; an empty trust
// domain is the fleet's default; an empty mDNS interface is the mesh interface.
import { join } from 'node:path';
import type { AgentConfig } from '../config/schema.ts';

/** A `pki setting` file is one small entry; anything bigger in fleet-settings/ is not one. */
export const MAX_SETTING_FILE = 64 * 1024;

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
  /** Directory of CA-signed fleet settings (`x0tta6bl4 pki setting` files) this node offers to the fleet. */
  settingsDir: string;
  mdns: boolean;
  /** Interface mDNS binds to (announces, listens, accepts peers on). */
  mdnsInterface: string;
  /** mDNS query period; UDP port (5353; tests may change it). */
  mdnsIntervalMs: number;
  mdnsPort: number;
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
  const f = config.federation;
  return {
    fleet: config.agent.fleet,
    nodeName,
    version,
    listen: [...f.listen],
    peers: [...f.peers],
    maxConnections: f.maxConnections,
    keyFile: f.keyFile || join(dir, 'federation.key'),
    caFile: f.caFile || join(dir, 'fleet-ca.pem'),
    certFile: f.certFile || join(dir, 'node-cert.pem'),
    ...fleetTrust(config),
    settingsDir: join(dir, 'fleet-settings'),
    mdns: f.mdns,
    mdnsInterface: f.mdnsInterface || config.agent.meshInterface,
    // libp2p's mDNS asks every 10 s; 20 s halves the airtime and a new router still finds its
    // neighbours at once (it asks on start, and everyone answers).
    mdnsIntervalMs: 20_000,
    mdnsPort: 5353,
    maxMessageBytes: f.maxMessageBytes,
    ratePerSecond: f.ratePerSecond,
    rateBurst: f.rateBurst,
    maxMessageAgeMs: 300_000,
    maxClockSkewMs: 30_000,
    quarantineQuorum: f.quarantineQuorum,
    entryTtlMs: 600_000,
    refreshMs: 60_000,
    // LibreMesh's shared-state syncs every 15 s; a digest costs 32 bytes when nothing changed.
    syncMs: 15_000,
    admissionTimeoutMs: 10_000,
    inboundPerHostPerSecond: 5,
    redialMs: 5_000,
    peerExchange: f.peerExchange,
  };
}

/**
 * The fleet's trust settings that more than the federation reads: telemetry checks command
 * signers against the same trust domain and CRL (the CRL the federation keeps up to date).
 */
export function fleetTrust(config: AgentConfig): Pick<FederationSettings, 'crlFile' | 'trustDomain'> {
  const f = config.federation;
  return {
    crlFile: f.crlFile || join(config.agent.stateDir, 'fleet.crl'),
    trustDomain: f.trustDomain || defaultTrustDomain(config.agent.fleet),
  };
}

/** SPIFFE trust domains are lowercase; fleet names may not be. */
export function defaultTrustDomain(fleet: string): string {
  return `${fleet.toLowerCase()}.x0tta6bl4`;
}
