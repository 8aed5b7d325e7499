// Hand-built netlink bytes for the bridge tests, on purpose independent of the project's codec
// (src/netlink/): these tests prove the path to the kernel, not the codec.

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_NEWFAMILY = 1;
export const CTRL_CMD_GETFAMILY = 3;
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_GETADDR = 22;
export const IFLA_IFNAME = 3;

export interface Attr {
  type: number;
  value: Buffer;
}

export function attr(type: number, value: Buffer): Buffer {
  const len = 4 + value.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  value.copy(out, 4);
  return out;
}

export const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
export const u8 = (v: number): Buffer => Buffer.from([v & 0xff]);
export const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'latin1');

export function nlmsg(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const len = 16 + body.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(flags, 6);
  out.writeUInt32LE(seq >>> 0, 8);
  out.writeUInt32LE(0, 12);
  body.copy(out, 16);
  return out;
}

export function genlmsg(family: number, cmd: number, flags: number, seq: number, attrs: Buffer[]): Buffer {
  const genl = Buffer.from([cmd, 1, 0, 0]);
  return nlmsg(family, flags, seq, Buffer.concat([genl, ...attrs]));
}

export function getFamily(name: string, seq: number): Buffer {
  return genlmsg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_REQUEST, seq, [attr(2, cstr(name))]);
}

/** RTM_GETLINK: a dump of all links, or one link by index. */
export function getLink(seq: number, ifindex = 0): Buffer {
  const ifi = Buffer.alloc(16);
  ifi.writeInt32LE(ifindex, 4);
  return nlmsg(RTM_GETLINK, NLM_F_REQUEST | (ifindex ? 0 : NLM_F_DUMP), seq, ifi);
}

export interface Msg {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Buffer;
}

/** Splits a datagram into messages; throws on a length that does not fit. */
export function messages(d: Uint8Array): Msg[] {
  const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  const out: Msg[] = [];
  let off = 0;
  while (off + 16 <= b.length) {
    const len = b.readUInt32LE(off);
    if (len < 16 || off + len > b.length) throw new Error(`bad nlmsg_len ${len} at ${off}`);
    out.push({
      type: b.readUInt16LE(off + 4),
      flags: b.readUInt16LE(off + 6),
      seq: b.readUInt32LE(off + 8),
      pid: b.readUInt32LE(off + 12),
      payload: b.subarray(off + 16, off + len),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

export function attrs(b: Buffer): Attr[] {
  const out: Attr[] = [];
  let off = 0;
  while (off + 4 <= b.length) {
    const len = b.readUInt16LE(off);
    if (len < 4 || off + len > b.length) break;
    out.push({ type: b.readUInt16LE(off + 2) & 0x3fff, value: b.subarray(off + 4, off + len) });
    off += (len + 3) & ~3;
  }
  return out;
}

export const errnoOf = (m: Msg): number => m.payload.readInt32LE(0);

/** CTRL_CMD_NEWFAMILY reply -> id and multicast groups. */
export function parseNewFamily(m: Msg): { name: string; id: number; groups: Map<string, number> } {
  const top = attrs(m.payload.subarray(4));
  const get = (t: number) => top.find((a) => a.type === t)?.value;
  const name = get(2)?.toString('latin1').replace(/\0.*$/s, '') ?? '';
  const id = get(1)?.readUInt16LE(0) ?? 0;
  const groups = new Map<string, number>();
  for (const g of attrs(get(7) ?? Buffer.alloc(0))) {
    const inner = attrs(g.value);
    const gname = inner.find((a) => a.type === 1)?.value.toString('latin1').replace(/\0.*$/s, '');
    const gid = inner.find((a) => a.type === 2)?.value.readUInt32LE(0);
    if (gname !== undefined && gid !== undefined) groups.set(gname, gid);
  }
  return { name, id, groups };
}

/** IFLA_IFNAME of an RTM_NEWLINK message. */
export function linkName(m: Msg): string | undefined {
  return attrs(m.payload.subarray(16))
    .find((a) => a.type === IFLA_IFNAME)
    ?.value.toString('latin1')
    .replace(/\0.*$/s, '');
}
