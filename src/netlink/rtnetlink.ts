// Links over rtnetlink (NETLINK_ROUTE): look an interface up by name or index, create a
// batadv interface, enslave a hard interface to it or release it, bring links up or down,
// delete them. The test harness and the agent's own recovery actions use this instead of
// shelling out to `ip`. Layouts from include/uapi/linux/rtnetlink.h and if_link.h.
import { AttrWriter, formatMac } from './attributes.ts';
import { decodeAttrs, encodeAttrs, type AttrTable } from './attr-schema.ts';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.ts';
import { HOST_LITTLE_ENDIAN as LE, viewOf } from './host-order.ts';
import { NlmsgFlag, type NetlinkMessage } from './nlmsg.ts';
import type { NetlinkRequester } from './requester.ts';

export const RtmType = { NEWLINK: 16, DELLINK: 17, GETLINK: 18, SETLINK: 19 } as const;
export const IFF_UP = 0x1;
export const IFF_LOWER_UP = 0x10000;
const IFINFOMSG_LEN = 16;
const IFNAMSIZ = 16;

const LINKINFO_ATTRS = {
  kind: { id: 1, kind: 'string' },
  data: { id: 2, kind: 'binary' },
  slaveKind: { id: 4, kind: 'string' },
} as const satisfies AttrTable;

/** enum batadv_ifla_attrs (batman_adv.h): options for a new batadv link. */
const BATADV_LINK_DATA_ATTRS = {
  algoName: { id: 1, kind: 'string' },
} as const satisfies AttrTable;

export const IFLA_ATTRS = {
  address: { id: 1, kind: 'binary' },
  ifname: { id: 3, kind: 'string' },
  mtu: { id: 4, kind: 'u32' },
  link: { id: 5, kind: 'u32' },
  master: { id: 10, kind: 'u32' },
  operstate: { id: 16, kind: 'u8' },
  linkinfo: { id: 18, kind: 'nested', table: LINKINFO_ATTRS },
} as const satisfies AttrTable;

export interface LinkInfo {
  ifindex: number;
  ifname: string;
  /** IFF_* flags. */
  flags: number;
  up: boolean;
  /** Link kind from IFLA_INFO_KIND ("batadv", "veth"), absent for plain devices. */
  kind?: string;
  /** ifindex of the master (the batadv interface a hard interface is enslaved to). */
  master?: number;
  mtu?: number;
  /** Lower-case MAC when the link layer address is 6 bytes. */
  address?: string;
  operstate?: number;
}

function ifinfomsg(index: number, flags = 0, change = 0): Uint8Array {
  const out = new Uint8Array(IFINFOMSG_LEN);
  const v = viewOf(out);
  // ifi_family AF_UNSPEC, ifi_type 0
  v.setInt32(4, index, LE);
  v.setUint32(8, flags, LE);
  v.setUint32(12, change, LE);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Decodes an RTM_NEWLINK message (a GETLINK reply or dump entry). */
export function decodeLink(msg: NetlinkMessage): LinkInfo {
  if (msg.type !== RtmType.NEWLINK) throw new NetlinkDecodeError(`expected RTM_NEWLINK, got message type ${msg.type}`, 4);
  const p = msg.payload;
  if (p.length < IFINFOMSG_LEN) throw new NetlinkDecodeError(`ifinfomsg of ${p.length} bytes, need ${IFINFOMSG_LEN}`, 16);
  const v = viewOf(p);
  const ifindex = v.getInt32(4, LE);
  const flags = v.getUint32(8, LE);
  const a = decodeAttrs(IFLA_ATTRS, p.subarray(IFINFOMSG_LEN), 16 + IFINFOMSG_LEN);
  if (a.ifname === undefined) throw new NetlinkDecodeError(`link ${ifindex} without IFLA_IFNAME`, 16);
  const link: LinkInfo = { ifindex, ifname: a.ifname, flags, up: (flags & IFF_UP) !== 0 };
  if (a.linkinfo?.kind !== undefined) link.kind = a.linkinfo.kind;
  if (a.master !== undefined && a.master !== 0) link.master = a.master;
  if (a.mtu !== undefined) link.mtu = a.mtu;
  if (a.address?.length === 6) link.address = formatMac(a.address);
  if (a.operstate !== undefined) link.operstate = a.operstate;
  return link;
}

function checkIfname(name: string): void {
  if (name.length === 0 || name.length >= IFNAMSIZ || /[\s/:\0]/.test(name) || name === '.' || name === '..')
    throw new NetlinkEncodeError(`not a valid interface name: '${name}'`);
}

export type LinkRef = string | number;

export class RtnetlinkClient {
  constructor(readonly requester: NetlinkRequester) {}

  /** One link by name or index; NetlinkKernelError ENODEV when there is none. */
  async getLink(ref: LinkRef): Promise<LinkInfo> {
    const what = `RTM_GETLINK ${ref}`;
    const replies = await this.requester.request(RtmType.GETLINK, this.linkRequest(ref), what);
    const links = replies.filter((m) => m.type === RtmType.NEWLINK).map(decodeLink);
    if (links.length !== 1) throw new NetlinkDecodeError(`${what}: ${links.length} links in the reply, expected 1`, 0);
    return links[0]!;
  }

  async listLinks(): Promise<LinkInfo[]> {
    const messages = await this.requester.dump(RtmType.GETLINK, ifinfomsg(0), 'RTM_GETLINK dump');
    return messages.filter((m) => m.type === RtmType.NEWLINK).map(decodeLink);
  }

  /** Creates a batadv mesh interface (optionally with a routing algorithm) and returns it. */
  async createBatadv(name: string, opts: { algo?: 'BATMAN_IV' | 'BATMAN_V' } = {}): Promise<LinkInfo> {
    checkIfname(name);
    const attrs = new AttrWriter().string(IFLA_ATTRS.ifname.id, name);
    attrs.nested(IFLA_ATTRS.linkinfo.id, (li) => {
      li.string(LINKINFO_ATTRS.kind.id, 'batadv');
      if (opts.algo) li.nested(LINKINFO_ATTRS.data.id, (d) => encodeAttrs(BATADV_LINK_DATA_ATTRS, { algoName: opts.algo }, d));
    });
    await this.requester.request(RtmType.NEWLINK, concat(ifinfomsg(0), attrs.finish()), `create batadv ${name}`, NlmsgFlag.CREATE | NlmsgFlag.EXCL);
    return this.getLink(name);
  }

  /** Enslaves `ref` to `master` (a hard interface to bat0), or releases it when master is null. */
  async setMaster(ref: LinkRef, master: LinkRef | null): Promise<LinkInfo> {
    const link = await this.getLink(ref);
    const masterIndex = master === null ? 0 : typeof master === 'number' ? master : (await this.getLink(master)).ifindex;
    const attrs = new AttrWriter().u32(IFLA_ATTRS.master.id, masterIndex).finish();
    const what = master === null ? `release ${link.ifname}` : `enslave ${link.ifname} to ${master}`;
    await this.requester.request(RtmType.SETLINK, concat(ifinfomsg(link.ifindex), attrs), what);
    return this.getLink(link.ifindex);
  }

  async setUp(ref: LinkRef, up: boolean): Promise<LinkInfo> {
    const link = await this.getLink(ref);
    await this.requester.request(RtmType.SETLINK, ifinfomsg(link.ifindex, up ? IFF_UP : 0, IFF_UP), `set ${link.ifname} ${up ? 'up' : 'down'}`);
    return this.getLink(link.ifindex);
  }

  async deleteLink(ref: LinkRef): Promise<void> {
    const link = await this.getLink(ref);
    await this.requester.request(RtmType.DELLINK, ifinfomsg(link.ifindex), `delete ${link.ifname}`);
  }

  private linkRequest(ref: LinkRef): Uint8Array {
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref <= 0 || ref > 0x7fffffff) throw new NetlinkEncodeError(`not an interface index: ${ref}`);
      return ifinfomsg(ref);
    }
    checkIfname(ref);
    return concat(ifinfomsg(0), new AttrWriter().string(IFLA_ATTRS.ifname.id, ref).finish());
  }
}
