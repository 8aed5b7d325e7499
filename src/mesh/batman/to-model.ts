// batman-adv's records in the kernel's units -> the agent's model (src/mesh/driver.ts) in
// kbit/s and ms. The unit traps, all from net/batman-adv: THROUGHPUT is kbit/s in originator
// and neighbour dumps but 100 kbit/s in the gateway dump (BATMAN_V); gateway BANDWIDTH_*,
// GW_BANDWIDTH_* and THROUGHPUT_OVERRIDE are 100 kbit/s everywhere.
import type { BatadvReply } from '../../netlink/batadv-protocol.ts';
import { MeshError, type Gateway, type GatewayMode, type HardInterface, type MeshInfo, type MeshSettings, type Neighbour, type Originator, type RoutingAlgo } from '../driver.ts';

export const KBPS_PER_BATADV_UNIT = 100;

export const GW_MODES: readonly GatewayMode[] = ['off', 'client', 'server'];

/** Interface names by ifindex, for replies from kernels that send only HARD_IFINDEX (batman-adv < 2021.2). */
export type IfnameByIndex = ReadonlyMap<number, string>;

export function toRoutingAlgo(name: string): RoutingAlgo {
  if (name === 'BATMAN_IV' || name === 'BATMAN_V') return name;
  throw new MeshError('PROTOCOL', `the mesh uses routing algorithm '${name}', which this agent does not know`);
}

export function toMeshInfo(r: BatadvReply<'mesh'>): MeshInfo {
  const info: MeshInfo = {
    meshIfname: r.meshIfname,
    meshIfindex: r.meshIfindex,
    meshAddress: r.meshAddress,
    algo: toRoutingAlgo(r.algoName),
    version: r.version,
  };
  if (r.hardIfname !== undefined) info.primaryIfname = r.hardIfname;
  return info;
}

/**
 * Settings a kernel built without a feature does not report (BLA, DAT, multicast, debug log,
 * GW selection for algorithms without the GW API) read as "off"/0: the feature is not there.
 */
export function toMeshSettings(r: BatadvReply<'mesh'>): MeshSettings {
  return {
    aggregatedOgms: r.aggregatedOgmsEnabled === 1,
    apIsolation: r.apIsolationEnabled === 1,
    bonding: r.bondingEnabled === 1,
    bridgeLoopAvoidance: r.bridgeLoopAvoidanceEnabled === 1,
    distributedArpTable: r.distributedArpTableEnabled === 1,
    fragmentation: r.fragmentationEnabled === 1,
    gwMode: GW_MODES[r.gwMode ?? 0] ?? 'off',
    gwBandwidthDownKbps: (r.gwBandwidthDown ?? 0) * KBPS_PER_BATADV_UNIT,
    gwBandwidthUpKbps: (r.gwBandwidthUp ?? 0) * KBPS_PER_BATADV_UNIT,
    gwSelClass: r.gwSelClass ?? 0,
    hopPenalty: r.hopPenalty ?? 0,
    isolationMark: r.isolationMark ?? 0,
    isolationMask: r.isolationMask ?? 0,
    logLevel: r.logLevel ?? 0,
    multicastForceflood: r.multicastForcefloodEnabled === 1,
    multicastFanout: r.multicastFanout ?? 0,
    origIntervalMs: r.origInterval ?? 0,
  };
}

export function toHardInterface(r: BatadvReply<'hardif'> | BatadvReply<'hardifs'>, algo: RoutingAlgo): HardInterface {
  const hi: HardInterface = {
    ifname: r.hardIfname,
    ifindex: r.hardIfindex,
    address: r.hardAddress,
    active: r.active === true,
    hopPenalty: r.hopPenalty ?? 0,
  };
  // The kernel sends the BATMAN_V knobs whenever it was built with BATMAN_V; the model has them only on V meshes.
  if (algo === 'BATMAN_V') {
    if (r.elpInterval !== undefined) hi.elpIntervalMs = r.elpInterval;
    if (r.throughputOverride !== undefined) hi.throughputOverrideKbps = r.throughputOverride * KBPS_PER_BATADV_UNIT;
  }
  return hi;
}

export function toOriginator(r: BatadvReply<'originators'>, names: IfnameByIndex): Originator {
  const o: Originator = {
    originator: r.origAddress,
    nextHop: r.neighAddress,
    hardIfname: r.hardIfname ?? names.get(r.hardIfindex) ?? '',
    hardIfindex: r.hardIfindex,
    lastSeenMs: r.lastSeenMsecs,
    best: r.flagBest === true,
  };
  if (r.tq !== undefined) o.tq = r.tq;
  if (r.throughput !== undefined) o.throughputKbps = r.throughput; // already kbit/s here
  return o;
}

export function toNeighbour(r: BatadvReply<'neighbours'>, names: IfnameByIndex): Neighbour {
  const n: Neighbour = {
    neighbour: r.neighAddress,
    hardIfname: r.hardIfname ?? names.get(r.hardIfindex) ?? '',
    hardIfindex: r.hardIfindex,
    lastSeenMs: r.lastSeenMsecs,
  };
  if (r.throughput !== undefined) n.throughputKbps = r.throughput; // already kbit/s here
  return n;
}

export function toGateway(r: BatadvReply<'gateways'>, indexes: ReadonlyMap<string, number>): Gateway {
  const g: Gateway = {
    originator: r.origAddress,
    router: r.router,
    hardIfname: r.hardIfname,
    hardIfindex: r.hardIfindex ?? indexes.get(r.hardIfname) ?? 0,
    best: r.flagBest === true,
    bandwidthDownKbps: r.bandwidthDown * KBPS_PER_BATADV_UNIT,
    bandwidthUpKbps: r.bandwidthUp * KBPS_PER_BATADV_UNIT,
  };
  if (r.tq !== undefined) g.tq = r.tq;
  if (r.throughput !== undefined) g.throughputKbps = r.throughput * KBPS_PER_BATADV_UNIT; // 100 kbit/s in this dump
  return g;
}
