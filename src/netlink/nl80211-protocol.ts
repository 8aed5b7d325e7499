// The small read-only part of nl80211 (include/uapi/linux/nl80211.h) the agent uses: the station
// dump and the per-station statistics in NL80211_ATTR_STA_INFO, as attr-schema tables. Only
// what we read is listed; everything else the kernel sends (it keeps adding) is skipped.
import type { AttrRecord, AttrTable } from './attr-schema.ts';

export const NL80211_FAMILY = 'nl80211';
/** The kernel ignores the genl version for nl80211; iw sends 0, so do we. */
export const NL80211_GENL_VERSION = 0;

export const Nl80211Cmd = {
  GET_STATION: 17,
  /** The kernel answers GET_STATION (dump or not) with NEW_STATION messages (nl80211_send_station). */
  NEW_STATION: 19,
} as const;

/** enum nl80211_sta_info: the members of the NL80211_ATTR_STA_INFO nest. */
export const NL80211_STA_INFO_ATTRS = {
  /** ms since the station was last heard. */
  inactiveTime: { id: 1, kind: 'u32' },
  rxBytes: { id: 2, kind: 'u32' },
  txBytes: { id: 3, kind: 'u32' },
  /** dBm as an s8 sent in a u8 (0xCE is -50). */
  signal: { id: 7, kind: 'u8' },
  rxPackets: { id: 9, kind: 'u32' },
  txPackets: { id: 10, kind: 'u32' },
  txRetries: { id: 11, kind: 'u32' },
  txFailed: { id: 12, kind: 'u32' },
  /** dBm, s8 in a u8, like `signal`. */
  signalAvg: { id: 13, kind: 'u8' },
  beaconLoss: { id: 18, kind: 'u32' },
  rxBytes64: { id: 23, kind: 'u64' },
  txBytes64: { id: 24, kind: 'u64' },
  /** kbit/s, as the driver's rate control estimates it. */
  expectedThroughput: { id: 27, kind: 'u32' },
} as const satisfies AttrTable;

/** enum nl80211_attrs: the top-level attributes of a station request and reply. */
export const NL80211_ATTRS = {
  ifindex: { id: 3, kind: 'u32' },
  mac: { id: 6, kind: 'mac' },
  staInfo: { id: 21, kind: 'nested', table: NL80211_STA_INFO_ATTRS },
} as const satisfies AttrTable;

export type Nl80211Record = AttrRecord<typeof NL80211_ATTRS>;
export type Nl80211StaInfo = AttrRecord<typeof NL80211_STA_INFO_ATTRS>;

/** A station reply is useless without these; mac80211 fills them for every station (sta_set_sinfo). */
export const STATION_REQUIRED = ['mac', 'staInfo'] as const;
export const STA_INFO_REQUIRED = ['inactiveTime', 'rxPackets', 'txPackets'] as const;
