// Hand-built netlink bytes for the tests, written from the header layouts in
// include/uapi/linux/netlink.h and genetlink.h, deliberately independent of src/netlink's
// encoder: a test that built its expectations with the code under test could not fail.
// Little-endian, like every machine the tests run on.

export function u8(n: number): Buffer {
  return Buffer.from([n]);
}
export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
export function s32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}
export function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}
export function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}
export function mac(s: string): Buffer {
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

/** nlattr: u16 len (4 + payload, unpadded), u16 type, payload, zero padding to 4. */
export function attr(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const hdr = Buffer.alloc(4);
  hdr.writeUInt16LE(4 + payload.length, 0);
  hdr.writeUInt16LE(type, 2);
  const pad = Buffer.alloc((4 - (payload.length % 4)) % 4);
  return Buffer.concat([hdr, payload, pad]);
}
export function nest(type: number, ...inner: Buffer[]): Buffer {
  return attr(type, Buffer.concat(inner));
}

/** nlmsghdr: u32 len, u16 type, u16 flags, u32 seq, u32 pid; then payload. */
export function nlmsg(type: number, flags: number, seq: number, pid: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(16 + payload.length, 0);
  hdr.writeUInt16LE(type, 4);
  hdr.writeUInt16LE(flags, 6);
  hdr.writeUInt32LE(seq, 8);
  hdr.writeUInt32LE(pid, 12);
  return Buffer.concat([hdr, payload]);
}

/** genlmsghdr: u8 cmd, u8 version, u16 reserved. */
export function genl(cmd: number, version: number, ...attrs: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([cmd, version, 0, 0]), ...attrs]);
}

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_MULTI = 0x2;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

/** NLMSG_ERROR as the bridge's socket (NETLINK_CAP_ACK) gets it: capped, optional ext-ack text. */
export function errorMsg(seq: number, pid: number, errno: number, request: { type: number; flags: number; len?: number }, extAckMsg?: string): Buffer {
  const echoed = Buffer.alloc(16);
  echoed.writeUInt32LE(request.len ?? 20, 0);
  echoed.writeUInt16LE(request.type, 4);
  echoed.writeUInt16LE(request.flags, 6);
  echoed.writeUInt32LE(seq, 8);
  echoed.writeUInt32LE(0, 12);
  const tlvs = extAckMsg ? attr(1, cstr(extAckMsg)) : Buffer.alloc(0);
  return nlmsg(NLMSG_ERROR, NLM_F_CAPPED | (extAckMsg ? NLM_F_ACK_TLVS : 0), seq, pid, Buffer.concat([s32(-errno), echoed, tlvs]));
}

export function ackMsg(seq: number, pid: number, request: { type: number; flags: number }): Buffer {
  return errorMsg(seq, pid, 0, request);
}

export function doneMsg(seq: number, pid: number, status = 0, flags = 0, extAckMsg?: string): Buffer {
  const tlvs = extAckMsg ? attr(1, cstr(extAckMsg)) : Buffer.alloc(0);
  return nlmsg(NLMSG_DONE, NLM_F_MULTI | flags | (extAckMsg ? NLM_F_ACK_TLVS : 0), seq, pid, Buffer.concat([s32(status), tlvs]));
}

/** Reads the header of a request the code under test sent. */
export function readRequest(d: Uint8Array): { len: number; type: number; flags: number; seq: number; pid: number; payload: Buffer } {
  const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  const len = b.readUInt32LE(0);
  return { len, type: b.readUInt16LE(4), flags: b.readUInt16LE(6), seq: b.readUInt32LE(8), pid: b.readUInt32LE(12), payload: b.subarray(16, len) };
}

/** Walks the attributes of a request body into type -> payload (last wins). */
export function readAttrs(b: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= b.length) {
    const len = b.readUInt16LE(off);
    const type = b.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > b.length) throw new Error(`bad attribute in request at ${off}`);
    out.set(type, b.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}
