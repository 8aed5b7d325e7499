// A read-only nl80211 client: the station dump of one Wi-Fi interface, i.e. what the radio
// itself knows about each neighbour (signal, retries, failed frames, inactivity). A fading
// radio link shows here before batman-adv misses its OGMs.
import { decodeAttrs, encodeAttrs, requireAttrs } from './attr-schema.ts';
import { resolveFamily, type GenlFamily } from './controller.ts';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.ts';
import { decodeGenl, encodeGenlPayload } from './genl.ts';
import {
  NL80211_ATTRS,
  NL80211_FAMILY,
  NL80211_GENL_VERSION,
  Nl80211Cmd,
  STA_INFO_REQUIRED,
  STATION_REQUIRED,
} from './nl80211-protocol.ts';
import type { NetlinkMessage } from './nlmsg.ts';
import { NetlinkRequester, type DatagramLink, type RequesterOptions } from './requester.ts';

/** One neighbour as the radio sees it; null where the driver did not report the value. */
export interface StationStats {
  /** Lower-case "aa:bb:cc:dd:ee:ff". */
  mac: string;
  ifindex: number;
  inactiveMs: number;
  signalDbm: number | null;
  signalAvgDbm: number | null;
  rxPackets: number;
  txPackets: number;
  txRetries: number | null;
  txFailed: number | null;
  expectedThroughputKbps: number | null;
  beaconLoss: number | null;
}

const WHAT = 'NL80211_CMD_GET_STATION';
/** genlmsghdr + nlmsghdr: added to attribute offsets so error offsets point into the message. */
const ATTRS_AT = 20;

/** The kernel sends dBm as an s8 in a u8 attribute. */
function signedDbm(v: number | undefined): number | null {
  return v === undefined ? null : v > 127 ? v - 256 : v;
}

/** Decodes one NEW_STATION message; `ifindex` is what was asked, used if the reply omits it. */
export function decodeStation(msg: NetlinkMessage, familyId: number, ifindex: number): StationStats {
  if (msg.type !== familyId) throw new NetlinkDecodeError(`${WHAT}: message type ${msg.type} is not the nl80211 family (${familyId})`, 4);
  const g = decodeGenl(msg);
  if (g.cmd !== Nl80211Cmd.NEW_STATION) throw new NetlinkDecodeError(`${WHAT}: reply has command ${g.cmd}, expected NEW_STATION`, 16);
  const a = requireAttrs(decodeAttrs(NL80211_ATTRS, g.attrs, ATTRS_AT), STATION_REQUIRED, WHAT);
  const s = requireAttrs(a.staInfo, STA_INFO_REQUIRED, `${WHAT} ${a.mac} STA_INFO`);
  return {
    mac: a.mac, // formatMac writes lower-case hex
    ifindex: a.ifindex ?? ifindex,
    inactiveMs: s.inactiveTime,
    signalDbm: signedDbm(s.signal),
    signalAvgDbm: signedDbm(s.signalAvg),
    rxPackets: s.rxPackets,
    txPackets: s.txPackets,
    txRetries: s.txRetries ?? null,
    txFailed: s.txFailed ?? null,
    expectedThroughputKbps: s.expectedThroughput ?? null,
    beaconLoss: s.beaconLoss ?? null,
  };
}

export class Nl80211Client {
  constructor(
    readonly requester: NetlinkRequester,
    readonly family: GenlFamily,
  ) {}

  /** Resolves the nl80211 family over `link` (NetlinkKernelError ENOENT: no cfg80211 in the kernel). */
  static async open(link: DatagramLink, opts: RequesterOptions = {}): Promise<Nl80211Client> {
    const requester = new NetlinkRequester(link, opts);
    try {
      return new Nl80211Client(requester, await resolveFamily(requester, NL80211_FAMILY));
    } catch (e) {
      requester.close();
      throw e;
    }
  }

  /** Every station (peer) of the Wi-Fi interface `ifindex`, from one GET_STATION dump. */
  async stations(ifindex: number): Promise<StationStats[]> {
    if (!Number.isInteger(ifindex) || ifindex <= 0) throw new NetlinkEncodeError(`${WHAT}: bad ifindex ${ifindex}`);
    const attrs = encodeAttrs(NL80211_ATTRS, { ifindex }).finish();
    const messages = await this.requester.dump(this.family.id, encodeGenlPayload(Nl80211Cmd.GET_STATION, NL80211_GENL_VERSION, attrs), WHAT);
    return messages.map((m) => decodeStation(m, this.family.id, ifindex));
  }

  close(): void {
    this.requester.close();
  }
}
