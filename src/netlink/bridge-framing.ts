// The record framing between the agent and the bridge process (native/README.md, "Framing"):
// u32 payload length, u16 kind, u16 reserved, payload; little-endian. This file only turns
// bytes into typed records and back; it never trusts a length it has not bounds-checked.
import { MeshError } from '../mesh/driver.ts';
import type { BridgeFamily, BridgeReady } from './transport.ts';

export const RecordKind = {
  NL: 1,
  JOIN: 2,
  LEAVE: 3,
  READY: 16,
  RESULT: 17,
  REFUSED: 18,
  ERROR: 19,
} as const;

export const RECORD_HEADER = 8;
/** Largest datagram the agent may send (the bridge refuses more). */
export const MAX_SEND = 16384;
/** Largest payload the bridge can write (its receive buffer). */
export const MAX_RECEIVE = 65536;

const NLMSG_HDRLEN = 16;
const NLMSG_ERROR = 2;
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;

export interface BridgeRecord {
  kind: number;
  payload: Buffer;
}

export function encodeRecord(kind: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(RECORD_HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt16LE(kind, 4);
  out.set(payload, RECORD_HEADER);
  return out;
}

export function encodeGroupRecord(kind: typeof RecordKind.JOIN | typeof RecordKind.LEAVE, group: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32LE(group >>> 0, 0);
  return encodeRecord(kind, p);
}

/** Reassembles records from the bridge's stdout, which arrives in arbitrary chunks. */
export class RecordReader {
  private buf: Buffer = Buffer.alloc(0);

  /** Returns every record completed by this chunk; throws MeshError 'PROTOCOL' on garbage. */
  push(chunk: Buffer): BridgeRecord[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: BridgeRecord[] = [];
    let off = 0;
    while (this.buf.length - off >= RECORD_HEADER) {
      const len = this.buf.readUInt32LE(off);
      const kind = this.buf.readUInt16LE(off + 4);
      const reserved = this.buf.readUInt16LE(off + 6);
      if (reserved !== 0 || len > MAX_RECEIVE) {
        this.buf = Buffer.alloc(0);
        throw new MeshError('PROTOCOL', `netlink bridge wrote a bad record header (length ${len}, reserved ${reserved})`);
      }
      if (this.buf.length - off - RECORD_HEADER < len) break;
      // Copy: the chunk buffer is reused by the stream and listeners may keep the bytes.
      out.push({ kind, payload: Buffer.from(this.buf.subarray(off + RECORD_HEADER, off + RECORD_HEADER + len)) });
      off += RECORD_HEADER + len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return out;
  }

  /** Bytes of an incomplete record still waiting for the rest. */
  get pending(): number {
    return this.buf.length;
  }
}

function need(p: Buffer, n: number, what: string): void {
  if (p.length < n) throw new MeshError('PROTOCOL', `netlink bridge ${what} record too short (${p.length} < ${n} bytes)`);
}

function cString(p: Buffer, off: number, max: number): string {
  const end = p.indexOf(0, off);
  return p.toString('latin1', off, end < 0 || end > off + max ? off + max : end);
}

export function parseReady(p: Buffer): BridgeReady {
  need(p, 16, 'READY');
  const version = p.readUInt32LE(0);
  const portId = p.readUInt32LE(4);
  const proto = p.readUInt32LE(8);
  const count = p.readUInt32LE(12);
  if (proto !== 0 && proto !== 16) throw new MeshError('PROTOCOL', `netlink bridge READY names protocol ${proto}`);
  const families = new Map<string, BridgeFamily>();
  let off = 16;
  for (let i = 0; i < count; i++) {
    need(p, off + 24, 'READY');
    const name = cString(p, off, 16);
    const errno = p.readInt32LE(off + 16);
    const id = p.readUInt16LE(off + 20);
    const ngroups = p.readUInt16LE(off + 22);
    off += 24;
    const groups = new Map<string, number>();
    for (let g = 0; g < ngroups; g++) {
      need(p, off + 20, 'READY');
      groups.set(cString(p, off + 4, 16), p.readUInt32LE(off));
      off += 20;
    }
    families.set(name, { name, id, errno, groups });
  }
  return { version, portId, protocol: proto === 16 ? 'generic' : 'route', families };
}

export interface MembershipResult {
  kind: number;
  group: number;
  errno: number;
}

export function parseResult(p: Buffer): MembershipResult {
  need(p, 12, 'RESULT');
  return { kind: p.readUInt16LE(0), group: p.readUInt32LE(4), errno: p.readInt32LE(8) };
}

export interface Refusal {
  errno: number;
  /** The 16-byte nlmsghdr of each message of the refused datagram. */
  headers: Buffer[];
  reason: string;
}

export function parseRefused(p: Buffer): Refusal {
  need(p, 8, 'REFUSED');
  const errno = p.readInt32LE(0);
  const n = p.readUInt32LE(4);
  need(p, 8 + n * NLMSG_HDRLEN, 'REFUSED');
  const headers: Buffer[] = [];
  for (let i = 0; i < n; i++) headers.push(Buffer.from(p.subarray(8 + i * 16, 8 + (i + 1) * 16)));
  return { errno, headers, reason: p.toString('utf8', 8 + n * NLMSG_HDRLEN) };
}

export interface BridgeErrorReport {
  errno: number;
  fatal: boolean;
  text: string;
}

export function parseError(p: Buffer): BridgeErrorReport {
  need(p, 8, 'ERROR');
  return { errno: p.readInt32LE(0), fatal: p.readUInt32LE(4) !== 0, text: p.toString('utf8', 8) };
}

/**
 * One NLMSG_ERROR per refused message, as the kernel would have answered it (capped, with the
 * reason as an extended-ack MSG attribute), so a client waiting on that sequence number fails
 * with the bridge's errno instead of timing out.
 */
export function refusalToNetlinkErrors(r: Refusal, portId: number): Uint8Array {
  const msg = Buffer.from(`x0tta6bl4-nlbridge: ${r.reason}\0`, 'utf8');
  const attrLen = 4 + msg.length;
  const one = NLMSG_HDRLEN + 4 + NLMSG_HDRLEN + ((attrLen + 3) & ~3);
  const out = Buffer.alloc(one * r.headers.length);
  r.headers.forEach((h, i) => {
    const o = i * one;
    out.writeUInt32LE(one, o);
    out.writeUInt16LE(NLMSG_ERROR, o + 4);
    out.writeUInt16LE(NLM_F_CAPPED | NLM_F_ACK_TLVS, o + 6);
    out.writeUInt32LE(h.readUInt32LE(8), o + 8); // the refused message's seq
    out.writeUInt32LE(portId >>> 0, o + 12);
    out.writeInt32LE(-Math.abs(r.errno || 1), o + 16);
    h.copy(out, o + 20);
    out.writeUInt16LE(attrLen, o + 36);
    out.writeUInt16LE(NLMSGERR_ATTR_MSG, o + 38);
    msg.copy(out, o + 40);
  });
  return out;
}
