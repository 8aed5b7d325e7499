// batman-adv's generic netlink protocol as data: commands, the attribute table (enum
// batadv_nl_attrs in include/uapi/linux/batman_adv.h), and for every query the command, whether
// it is a dump, and which attributes each reply must carry (batctl's "mandatory" lists).
// The client and the decoder are generic over these tables.
import type { AttrRecord, AttrTable, WithRequired } from './attr-schema.ts';

export const BATADV_FAMILY = 'batadv';
export const BATADV_GENL_VERSION = 1;
export const BATADV_CONFIG_GROUP = 'config';

export const BatadvCmd = {
  GET_MESH: 1,
  TP_METER: 2,
  TP_METER_CANCEL: 3,
  GET_ROUTING_ALGOS: 4,
  GET_HARDIF: 5,
  GET_TRANSTABLE_LOCAL: 6,
  GET_TRANSTABLE_GLOBAL: 7,
  GET_ORIGINATORS: 8,
  GET_NEIGHBORS: 9,
  GET_GATEWAYS: 10,
  GET_BLA_CLAIM: 11,
  GET_BLA_BACKBONE: 12,
  GET_DAT_CACHE: 13,
  GET_MCAST_FLAGS: 14,
  SET_MESH: 15,
  SET_HARDIF: 16,
  GET_VLAN: 17,
  SET_VLAN: 18,
} as const;

export const BATADV_CMD_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(BatadvCmd).map(([k, v]) => [v, k]),
);

export const BATADV_ATTRS = {
  version: { id: 1, kind: 'string' },
  algoName: { id: 2, kind: 'string' },
  meshIfindex: { id: 3, kind: 'u32' },
  meshIfname: { id: 4, kind: 'string' },
  meshAddress: { id: 5, kind: 'mac' },
  hardIfindex: { id: 6, kind: 'u32' },
  hardIfname: { id: 7, kind: 'string' },
  hardAddress: { id: 8, kind: 'mac' },
  origAddress: { id: 9, kind: 'mac' },
  tpmeterResult: { id: 10, kind: 'u8' },
  tpmeterTestTime: { id: 11, kind: 'u32' },
  tpmeterBytes: { id: 12, kind: 'u64' },
  tpmeterCookie: { id: 13, kind: 'u32' },
  // 14 PAD: alignment filler before u64 values, carries nothing.
  active: { id: 15, kind: 'flag' },
  ttAddress: { id: 16, kind: 'mac' },
  ttTtvn: { id: 17, kind: 'u8' },
  ttLastTtvn: { id: 18, kind: 'u8' },
  ttCrc32: { id: 19, kind: 'u32' },
  /** Bit 15 set: the entry has a VLAN tag. */
  ttVid: { id: 20, kind: 'u16' },
  ttFlags: { id: 21, kind: 'u32' },
  flagBest: { id: 22, kind: 'flag' },
  lastSeenMsecs: { id: 23, kind: 'u32' },
  neighAddress: { id: 24, kind: 'mac' },
  tq: { id: 25, kind: 'u8' },
  /** kbit/s in originator and neighbour dumps, but 100 kbit/s in the gateway dump. */
  throughput: { id: 26, kind: 'u32' },
  /** 100 kbit/s. */
  bandwidthUp: { id: 27, kind: 'u32' },
  /** 100 kbit/s. */
  bandwidthDown: { id: 28, kind: 'u32' },
  router: { id: 29, kind: 'mac' },
  blaOwn: { id: 30, kind: 'flag' },
  blaAddress: { id: 31, kind: 'mac' },
  blaVid: { id: 32, kind: 'u16' },
  blaBackbone: { id: 33, kind: 'mac' },
  blaCrc: { id: 34, kind: 'u16' },
  datCacheIp4address: { id: 35, kind: 'ipv4' },
  datCacheHwaddress: { id: 36, kind: 'mac' },
  datCacheVid: { id: 37, kind: 'u16' },
  mcastFlags: { id: 38, kind: 'u32' },
  mcastFlagsPriv: { id: 39, kind: 'u32' },
  /** u16 in requests, sent back as u32. */
  vlanid: { id: 40, kind: 'uint', width: 2 },
  aggregatedOgmsEnabled: { id: 41, kind: 'u8' },
  apIsolationEnabled: { id: 42, kind: 'u8' },
  isolationMark: { id: 43, kind: 'u32' },
  isolationMask: { id: 44, kind: 'u32' },
  bondingEnabled: { id: 45, kind: 'u8' },
  bridgeLoopAvoidanceEnabled: { id: 46, kind: 'u8' },
  distributedArpTableEnabled: { id: 47, kind: 'u8' },
  fragmentationEnabled: { id: 48, kind: 'u8' },
  /** 100 kbit/s. */
  gwBandwidthDown: { id: 49, kind: 'u32' },
  /** 100 kbit/s. */
  gwBandwidthUp: { id: 50, kind: 'u32' },
  /** 0 off, 1 client, 2 server. */
  gwMode: { id: 51, kind: 'u8' },
  gwSelClass: { id: 52, kind: 'u32' },
  hopPenalty: { id: 53, kind: 'u8' },
  logLevel: { id: 54, kind: 'u32' },
  multicastForcefloodEnabled: { id: 55, kind: 'u8' },
  networkCodingEnabled: { id: 56, kind: 'u8' },
  /** ms. */
  origInterval: { id: 57, kind: 'u32' },
  /** ms. */
  elpInterval: { id: 58, kind: 'u32' },
  /** 100 kbit/s, 0 = automatic. */
  throughputOverride: { id: 59, kind: 'u32' },
  multicastFanout: { id: 60, kind: 'u32' },
} as const satisfies AttrTable;

export type BatadvRecord = AttrRecord<typeof BATADV_ATTRS>;
export type BatadvAttrName = keyof typeof BATADV_ATTRS;

interface QuerySpec {
  readonly cmd: number;
  readonly dump: boolean;
  /** Attributes the request must carry. */
  readonly needs: readonly BatadvAttrName[];
  /** Attributes every reply message must carry. */
  readonly required: readonly BatadvAttrName[];
}

export const BATADV_QUERIES = {
  mesh: { cmd: BatadvCmd.GET_MESH, dump: false, needs: ['meshIfindex'], required: ['version', 'algoName', 'meshIfindex', 'meshIfname', 'meshAddress'] },
  hardif: { cmd: BatadvCmd.GET_HARDIF, dump: false, needs: ['meshIfindex', 'hardIfindex'], required: ['hardIfindex', 'hardIfname', 'hardAddress'] },
  hardifs: { cmd: BatadvCmd.GET_HARDIF, dump: true, needs: ['meshIfindex'], required: ['hardIfindex', 'hardIfname', 'hardAddress'] },
  originators: { cmd: BatadvCmd.GET_ORIGINATORS, dump: true, needs: ['meshIfindex'], required: ['origAddress', 'neighAddress', 'hardIfindex', 'lastSeenMsecs'] },
  neighbours: { cmd: BatadvCmd.GET_NEIGHBORS, dump: true, needs: ['meshIfindex'], required: ['neighAddress', 'hardIfindex', 'lastSeenMsecs'] },
  gateways: { cmd: BatadvCmd.GET_GATEWAYS, dump: true, needs: ['meshIfindex'], required: ['origAddress', 'router', 'hardIfname', 'bandwidthDown', 'bandwidthUp'] },
  transtableLocal: { cmd: BatadvCmd.GET_TRANSTABLE_LOCAL, dump: true, needs: ['meshIfindex'], required: ['ttAddress', 'ttVid', 'ttCrc32', 'ttFlags'] },
  transtableGlobal: {
    cmd: BatadvCmd.GET_TRANSTABLE_GLOBAL,
    dump: true,
    needs: ['meshIfindex'],
    required: ['ttAddress', 'origAddress', 'ttVid', 'ttTtvn', 'ttLastTtvn', 'ttCrc32', 'ttFlags'],
  },
  routingAlgos: { cmd: BatadvCmd.GET_ROUTING_ALGOS, dump: true, needs: [], required: ['algoName'] },
  vlan: { cmd: BatadvCmd.GET_VLAN, dump: false, needs: ['meshIfindex', 'vlanid'], required: ['vlanid', 'apIsolationEnabled'] },
} as const satisfies Record<string, QuerySpec>;

export type BatadvQueryName = keyof typeof BATADV_QUERIES;
export type BatadvReply<Q extends BatadvQueryName> = WithRequired<BatadvRecord, (typeof BATADV_QUERIES)[Q]['required'][number]>;

/** What SET_MESH / SET_HARDIF / SET_VLAN accept (net/batman-adv/netlink.c); anything else is refused before sending. */
export const BATADV_SETTABLE = {
  mesh: [
    'aggregatedOgmsEnabled',
    'apIsolationEnabled',
    'isolationMark',
    'isolationMask',
    'bondingEnabled',
    'bridgeLoopAvoidanceEnabled',
    'distributedArpTableEnabled',
    'fragmentationEnabled',
    'gwBandwidthDown',
    'gwBandwidthUp',
    'gwMode',
    'gwSelClass',
    'hopPenalty',
    'logLevel',
    'multicastForcefloodEnabled',
    'multicastFanout',
    'networkCodingEnabled',
    'origInterval',
  ],
  hardif: ['hopPenalty', 'elpInterval', 'throughputOverride'],
  vlan: ['apIsolationEnabled'],
} as const satisfies Record<string, readonly BatadvAttrName[]>;

export type BatadvMeshChanges = Pick<BatadvRecord, (typeof BATADV_SETTABLE.mesh)[number]>;
export type BatadvHardifChanges = Pick<BatadvRecord, (typeof BATADV_SETTABLE.hardif)[number]>;
export type BatadvVlanChanges = Pick<BatadvRecord, (typeof BATADV_SETTABLE.vlan)[number]>;

/** The `config` multicast: the full settings after each SET_* (sequence 0). */
export type BatadvConfigEvent =
  | { kind: 'mesh'; attrs: BatadvRecord }
  | { kind: 'hardif'; attrs: BatadvRecord }
  | { kind: 'vlan'; attrs: BatadvRecord };
