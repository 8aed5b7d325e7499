// nlmsghdr framing: splitting a datagram into messages, building requests, and reading the
// two control messages that end an exchange (NLMSG_ERROR, NLMSG_DONE). Layouts are from
// include/uapi/linux/netlink.h. Every length is checked against the buffer before it is used,
// and decoded payloads are views into the datagram, so a lying length never allocates.
import { NetlinkDecodeError } from './errors.ts';
import { HOST_LITTLE_ENDIAN as LE, align4, viewOf } from './host-order.ts';
import { forEachAttr } from './attributes.ts';

export const NLMSG_HDRLEN = 16;

export const NlmsgType = {
  NOOP: 1,
  ERROR: 2,
  DONE: 3,
  OVERRUN: 4,
  /** Types below this are netlink's own control messages. */
  MIN_TYPE: 0x10,
} as const;

export const NlmsgFlag = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  // GET requests
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  // NEW requests
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  // on NLMSG_ERROR / NLMSG_DONE
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

/** enum nlmsgerr_attrs: the extended-ack TLVs after an error or done status. */
export const NlmsgerrAttr = { MSG: 1, OFFS: 2, COOKIE: 3, POLICY: 4, MISS_TYPE: 5, MISS_NEST: 6 } as const;

export interface NetlinkHeader {
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export interface NetlinkMessage extends NetlinkHeader {
  /** The bytes after the 16-byte header, up to nlmsg_len: a view into the datagram. */
  payload: Uint8Array;
}

/** Builds one message: header (nlmsg_len filled in) followed by the payload. */
export function encodeMessage(header: NetlinkHeader, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + payload.length);
  const v = viewOf(out);
  v.setUint32(0, out.length, LE);
  v.setUint16(4, header.type, LE);
  v.setUint16(6, header.flags, LE);
  v.setUint32(8, header.seq >>> 0, LE);
  v.setUint32(12, header.pid >>> 0, LE);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

/**
 * Splits a datagram into its messages. Throws NetlinkDecodeError if a header is truncated or
 * an nlmsg_len is smaller than the header or runs past the end of the datagram.
 */
export function decodeDatagram(datagram: Uint8Array): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  const v = viewOf(datagram);
  let off = 0;
  while (off < datagram.length) {
    const left = datagram.length - off;
    if (left < NLMSG_HDRLEN) throw new NetlinkDecodeError(`truncated nlmsghdr: ${left} bytes left, need ${NLMSG_HDRLEN}`, off);
    const len = v.getUint32(off, LE);
    if (len < NLMSG_HDRLEN) throw new NetlinkDecodeError(`nlmsg_len ${len} is smaller than the header`, off);
    if (len > left) throw new NetlinkDecodeError(`nlmsg_len ${len} runs past the datagram (${left} bytes left)`, off);
    out.push({
      type: v.getUint16(off + 4, LE),
      flags: v.getUint16(off + 6, LE),
      seq: v.getUint32(off + 8, LE),
      pid: v.getUint32(off + 12, LE),
      payload: datagram.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** What the kernel says with an error code: extended ack (NETLINK_EXT_ACK) when it gave one. */
export interface ExtAck {
  message?: string;
  /** Offset into our request of the attribute the kernel blamed. */
  offset?: number;
  /** Type of a required attribute that was missing. */
  missingType?: number;
}

export interface ErrorReply {
  /** 0 for an ACK, else -errno. */
  error: number;
  /** Header of the request this answers (the kernel echoes it). */
  request: NetlinkHeader & { length: number };
  extAck: ExtAck;
}

/** Decodes the payload of an NLMSG_ERROR: int error, the echoed request header, maybe the request body, maybe TLVs. */
export function decodeErrorReply(msg: NetlinkMessage): ErrorReply {
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN) throw new NetlinkDecodeError(`NLMSG_ERROR payload of ${p.length} bytes, need ${4 + NLMSG_HDRLEN}`, 0);
  const v = viewOf(p);
  const error = v.getInt32(0, LE);
  const reqLen = v.getUint32(4, LE);
  const request = {
    length: reqLen,
    type: v.getUint16(8, LE),
    flags: v.getUint16(10, LE),
    seq: v.getUint32(12, LE),
    pid: v.getUint32(16, LE),
  };
  if (error > 0) throw new NetlinkDecodeError(`NLMSG_ERROR with positive error ${error}`, 0);
  let tlvStart = 4 + NLMSG_HDRLEN;
  if (!(msg.flags & NlmsgFlag.CAPPED)) {
    // The whole request is echoed: skip its body, whose length its own header states.
    if (reqLen < NLMSG_HDRLEN) throw new NetlinkDecodeError(`echoed request length ${reqLen} is smaller than a header`, 4);
    if (reqLen > p.length - 4) throw new NetlinkDecodeError(`echoed request length ${reqLen} runs past the error message`, 4);
    tlvStart = Math.min(p.length, 4 + align4(reqLen));
  }
  const extAck = msg.flags & NlmsgFlag.ACK_TLVS ? decodeExtAck(p, tlvStart) : {};
  return { error, request, extAck };
}

/** The int32 status that ends a dump (0 or -errno), with its ext-ack TLVs if any. */
export function decodeDoneStatus(msg: NetlinkMessage): { status: number; extAck: ExtAck } {
  const p = msg.payload;
  if (p.length < 4) throw new NetlinkDecodeError(`NLMSG_DONE payload of ${p.length} bytes, need 4`, 0);
  const status = viewOf(p).getInt32(0, LE);
  if (status > 0) throw new NetlinkDecodeError(`NLMSG_DONE with positive status ${status}`, 0);
  const extAck = msg.flags & NlmsgFlag.ACK_TLVS ? decodeExtAck(p, 4) : {};
  return { status, extAck };
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** NUL-terminated string attribute payload (NUL optional at the very end). */
export function decodeCString(payload: Uint8Array): string {
  const nul = payload.indexOf(0);
  return textDecoder.decode(nul === -1 ? payload : payload.subarray(0, nul));
}

function decodeExtAck(p: Uint8Array, start: number): ExtAck {
  const ack: ExtAck = {};
  forEachAttr(p.subarray(start), (type, payload, off) => {
    const v = viewOf(payload);
    if (type === NlmsgerrAttr.MSG) ack.message = decodeCString(payload);
    else if (type === NlmsgerrAttr.OFFS || type === NlmsgerrAttr.MISS_TYPE) {
      if (payload.length !== 4) throw new NetlinkDecodeError(`ext-ack attribute ${type} has ${payload.length} bytes, need 4`, start + off);
      if (type === NlmsgerrAttr.OFFS) ack.offset = v.getUint32(0, LE);
      else ack.missingType = v.getUint32(0, LE);
    }
  });
  return ack;
}
