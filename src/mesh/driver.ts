// The mesh as the agent sees it. One interface, two implementations: the batman-adv driver
// (real kernel, over generic netlink) and the simulator (tests, demo, experiments at scale).
// Units are normalised here once so that no caller has to know batman-adv's own units:
// throughput and bandwidth in kbit/s, times in milliseconds, MACs as lower-case "aa:bb:..".

export type Mac = string;
export type RoutingAlgo = 'BATMAN_IV' | 'BATMAN_V';
export type GatewayMode = 'off' | 'client' | 'server';

export interface MeshInfo {
  meshIfname: string;
  meshIfindex: number;
  meshAddress: Mac;
  algo: RoutingAlgo;
  /** batman-adv version string as the kernel reports it ("2022.3"), or "sim-<n>". */
  version: string;
  /** Primary hard interface, when one is active. */
  primaryIfname?: string;
}

/** One (originator, next hop) pair, as GET_ORIGINATORS reports it. */
export interface Originator {
  originator: Mac;
  nextHop: Mac;
  hardIfname: string;
  hardIfindex: number;
  lastSeenMs: number;
  /** The router batman-adv currently uses for this originator. */
  best: boolean;
  /** BATMAN_IV: transmit quality 0..255. */
  tq?: number;
  /** BATMAN_V: path throughput in kbit/s. */
  throughputKbps?: number;
}

export interface Neighbour {
  neighbour: Mac;
  hardIfname: string;
  hardIfindex: number;
  lastSeenMs: number;
  /** BATMAN_V only: link throughput estimate in kbit/s. */
  throughputKbps?: number;
}

export interface Gateway {
  originator: Mac;
  router: Mac;
  hardIfname: string;
  hardIfindex: number;
  best: boolean;
  bandwidthDownKbps: number;
  bandwidthUpKbps: number;
  tq?: number;
  throughputKbps?: number;
}

export interface HardInterface {
  ifname: string;
  ifindex: number;
  address: Mac;
  active: boolean;
  hopPenalty: number;
  /** BATMAN_V only. */
  elpIntervalMs?: number;
  /** BATMAN_V only; 0 = automatic. */
  throughputOverrideKbps?: number;
}

export interface MeshSettings {
  aggregatedOgms: boolean;
  apIsolation: boolean;
  bonding: boolean;
  bridgeLoopAvoidance: boolean;
  distributedArpTable: boolean;
  fragmentation: boolean;
  gwMode: GatewayMode;
  gwBandwidthDownKbps: number;
  gwBandwidthUpKbps: number;
  gwSelClass: number;
  hopPenalty: number;
  isolationMark: number;
  isolationMask: number;
  logLevel: number;
  multicastForceflood: boolean;
  multicastFanout: number;
  origIntervalMs: number;
}

export type HardIfSettings = Pick<HardInterface, 'hopPenalty' | 'elpIntervalMs' | 'throughputOverrideKbps'>;

export type MeshErrorCode =
  | 'NO_MODULE' // batman-adv not loaded / family unknown
  | 'NO_MESH' // mesh interface does not exist or is not batadv
  | 'NO_PRIMARY' // no active primary interface (-ENOENT on dumps)
  | 'NO_DEVICE' // unknown ifindex / ifname
  | 'PERMISSION' // CAP_NET_ADMIN missing
  | 'INVALID' // bad argument, rejected before or by the kernel
  | 'TIMEOUT'
  | 'TRANSPORT' // the netlink bridge died or misbehaved
  | 'PROTOCOL'; // a reply we could not decode

/** Every driver failure is a MeshError: callers never see an empty table in place of an error. */
export class MeshError extends Error {
  override readonly name = 'MeshError';
  constructor(
    readonly code: MeshErrorCode,
    message: string,
    readonly errno?: number,
  ) {
    super(message);
  }
}

export interface MeshDriver {
  readonly kind: 'batman-adv' | 'simulator';
  mesh(): Promise<MeshInfo>;
  settings(): Promise<MeshSettings>;
  interfaces(): Promise<HardInterface[]>;
  originators(): Promise<Originator[]>;
  neighbours(): Promise<Neighbour[]>;
  gateways(): Promise<Gateway[]>;
  /** Writes the given settings, then reads them back: the result is what the kernel kept. */
  setMesh(changes: Partial<MeshSettings>): Promise<MeshSettings>;
  /** Writes hard-interface settings and returns the interface as read back. */
  setHardIf(ifname: string, changes: Partial<HardIfSettings>): Promise<HardInterface>;
  /** batman-adv multicasts the full settings after every SET_*; returns an unsubscribe. */
  onSettingsChanged(listener: (settings: MeshSettings) => void): () => void;
  close(): Promise<void>;
}

/** batman-adv's defaults (see shared/reference/batman-adv-netlink.md, "Settings"). */
export const DEFAULT_MESH_SETTINGS: Readonly<MeshSettings> = Object.freeze({
  aggregatedOgms: true,
  apIsolation: false,
  bonding: false,
  bridgeLoopAvoidance: true,
  distributedArpTable: true,
  fragmentation: true,
  gwMode: 'off',
  gwBandwidthDownKbps: 10_000,
  gwBandwidthUpKbps: 2_000,
  gwSelClass: 20,
  hopPenalty: 30,
  isolationMark: 0,
  isolationMask: 0,
  logLevel: 0,
  multicastForceflood: false,
  multicastFanout: 16,
  origIntervalMs: 1000,
});
