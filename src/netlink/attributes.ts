// nlattr: the type-length-value records that carry everything after the fixed headers.
// u16 nla_len (header + payload, unpadded), u16 nla_type (two top bits are flags), payload
// padded to 4 bytes. Reading walks a buffer without copying; writing grows one buffer.
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.ts';
import { HOST_LITTLE_ENDIAN as LE, align4, viewOf } from './host-order.ts';

export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/**
 * Calls `visit` for every attribute in `buf` with its type (flag bits masked off), a view of
 * its payload and its offset in `buf`. Throws NetlinkDecodeError on a header that does not fit,
 * an nla_len below 4 or past the end, or stray bytes after the last attribute.
 */
export function forEachAttr(
  buf: Uint8Array,
  visit: (type: number, payload: Uint8Array, offset: number, rawType: number) => void,
): void {
  const v = viewOf(buf);
  let off = 0;
  while (off < buf.length) {
    const left = buf.length - off;
    if (left < NLA_HDRLEN) throw new NetlinkDecodeError(`${left} stray bytes after the last attribute`, off);
    const len = v.getUint16(off, LE);
    const rawType = v.getUint16(off + 2, LE);
    if (len < NLA_HDRLEN) throw new NetlinkDecodeError(`nla_len ${len} is smaller than the attribute header`, off);
    if (len > left) throw new NetlinkDecodeError(`nla_len ${len} of attribute ${rawType & NLA_TYPE_MASK} runs past the end (${left} bytes left)`, off);
    visit(rawType & NLA_TYPE_MASK, buf.subarray(off + NLA_HDRLEN, off + len), off, rawType);
    off += align4(len);
  }
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** "aa:bb:cc:dd:ee:ff" from 6 bytes. */
export function formatMac(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}

/** 6 bytes from "aa:bb:cc:dd:ee:ff"; NetlinkEncodeError for anything else. */
export function parseMac(mac: string): Uint8Array {
  if (!MAC_RE.test(mac)) throw new NetlinkEncodeError(`not a MAC address: '${mac}'`);
  return Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
}

const textEncoder = new TextEncoder();

function checkUint(value: number, bits: 8 | 16 | 32, what: number): number {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new NetlinkEncodeError(`attribute ${what}: ${value} is not an unsigned ${bits}-bit integer`);
  return value;
}

/** Builds a sequence of attributes (and nests) into one growing buffer. */
export class AttrWriter {
  private buf = new Uint8Array(128);
  private view = viewOf(this.buf);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private reserve(payloadLen: number, type: number): number {
    const total = NLA_HDRLEN + payloadLen;
    if (total > 0xffff) throw new NetlinkEncodeError(`attribute ${type & NLA_TYPE_MASK}: ${payloadLen} bytes do not fit nla_len`);
    this.grow(align4(total));
    const at = this.len;
    this.view.setUint16(at, total, LE);
    this.view.setUint16(at + 2, type, LE);
    this.buf.fill(0, at + total, at + align4(total)); // padding is zero, not stale bytes
    this.len += align4(total);
    return at + NLA_HDRLEN;
  }

  private grow(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = viewOf(next);
  }

  u8(type: number, value: number): this {
    const at = this.reserve(1, type); // reserve() may replace the buffer and its view
    this.view.setUint8(at, checkUint(value, 8, type));
    return this;
  }
  u16(type: number, value: number): this {
    const at = this.reserve(2, type);
    this.view.setUint16(at, checkUint(value, 16, type), LE);
    return this;
  }
  u32(type: number, value: number): this {
    const at = this.reserve(4, type);
    this.view.setUint32(at, checkUint(value, 32, type), LE);
    return this;
  }
  u64(type: number, value: bigint): this {
    if (value < 0n || value > 0xffffffffffffffffn) throw new NetlinkEncodeError(`attribute ${type}: ${value} is not an unsigned 64-bit integer`);
    const at = this.reserve(8, type);
    this.view.setBigUint64(at, value, LE);
    return this;
  }
  /** IPv4 address in network byte order (DAT cache). */
  ipv4(type: number, dotted: string): this {
    const parts = dotted.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255))
      throw new NetlinkEncodeError(`attribute ${type}: not an IPv4 address: '${dotted}'`);
    const at = this.reserve(4, type | NLA_F_NET_BYTEORDER);
    parts.forEach((p, i) => this.view.setUint8(at + i, Number(p)));
    return this;
  }
  string(type: number, value: string): this {
    const bytes = textEncoder.encode(value);
    if (bytes.includes(0)) throw new NetlinkEncodeError(`attribute ${type}: string contains NUL`);
    const at = this.reserve(bytes.length + 1, type);
    this.buf.set(bytes, at);
    this.buf[at + bytes.length] = 0;
    return this;
  }
  bytes(type: number, value: Uint8Array): this {
    const at = this.reserve(value.length, type);
    this.buf.set(value, at);
    return this;
  }
  mac(type: number, mac: string): this {
    return this.bytes(type, parseMac(mac));
  }
  flag(type: number): this {
    this.reserve(0, type);
    return this;
  }
  /** A nest: `fill` writes the inner attributes; the nest's length is patched afterwards. */
  nested(type: number, fill: (w: this) => void, markNested = false): this {
    this.grow(NLA_HDRLEN);
    const at = this.len;
    this.len += NLA_HDRLEN;
    fill(this);
    const total = this.len - at;
    if (total > 0xffff) throw new NetlinkEncodeError(`nested attribute ${type}: ${total} bytes do not fit nla_len`);
    this.view.setUint16(at, total, LE);
    this.view.setUint16(at + 2, type | (markNested ? NLA_F_NESTED : 0), LE);
    return this;
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
