// One entry of the replicated fleet state, as it travels (gossip deltas, anti-entropy) and is
// stored. Binary with a fixed header, signed over a domain tag naming the fleet:
//
//   magic "XS" | version 1 | kind u8 | key length u16 | key | hlc wall u64 | hlc counter u32
//   | author ed25519 key (32) | ttl ms u32 | flags u8 (1 = tombstone) | value length u32 | value
//   | signature length u16 | signature
//
// kind 0: written by a node, signed with its libp2p key (registry entries, quarantine votes);
// kind 1: a fleet-wide setting signed by the fleet CA key (author is zero);
// kind 2: a CRL, which carries its own CA signature (author zero, no entry signature).
import { verifyEd25519, type Signer, PUBLIC_KEY_BYTES } from './ed25519.ts';
import type { HlcStamp } from './hlc.ts';

export const KIND_NODE = 0;
export const KIND_SETTING = 1;
export const KIND_CRL = 2;
export type EntryKind = typeof KIND_NODE | typeof KIND_SETTING | typeof KIND_CRL;

export const MAX_KEY_BYTES = 256;
export const MAX_VALUE_BYTES = 256 * 1024;
const MAX_SIG_BYTES = 1024;

export interface StateEntry {
  kind: EntryKind;
  key: string;
  stamp: HlcStamp;
  author: Uint8Array;
  ttlMs: number;
  tombstone: boolean;
  value: Uint8Array;
  signature: Uint8Array;
  /** The encoded entry, as received or made (re-sent as is). */
  bytes: Uint8Array;
  /** The signed part of `bytes`. */
  signed: Uint8Array;
}

export class EntryError extends Error {
  override readonly name = 'EntryError';
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const ZERO_KEY = new Uint8Array(PUBLIC_KEY_BYTES);

export function stateDomain(fleet: string): Uint8Array {
  return utf8.encode(`x0tta6bl4/state/v1/${fleet}\0`);
}

export function encodeEntry(
  e: { kind: EntryKind; key: string; stamp: HlcStamp; author?: Uint8Array; ttlMs: number; tombstone: boolean; value: Uint8Array },
  signWith: ((signed: Uint8Array) => Uint8Array) | null,
): StateEntry {
  const key = utf8.encode(e.key);
  if (key.length === 0 || key.length > MAX_KEY_BYTES) throw new EntryError(`key must be 1..${MAX_KEY_BYTES} bytes`);
  if (e.value.length > MAX_VALUE_BYTES) throw new EntryError(`value larger than ${MAX_VALUE_BYTES} bytes`);
  const author = e.author ?? ZERO_KEY;
  const n = 4 + 2 + key.length + 12 + PUBLIC_KEY_BYTES + 4 + 1 + 4 + e.value.length;
  const body = new Uint8Array(n);
  const dv = new DataView(body.buffer);
  body.set([0x58, 0x53, 1, e.kind]);
  dv.setUint16(4, key.length);
  body.set(key, 6);
  let at = 6 + key.length;
  dv.setBigUint64(at, BigInt(e.stamp.wall));
  dv.setUint32(at + 8, e.stamp.counter);
  body.set(author, at + 12);
  at += 12 + PUBLIC_KEY_BYTES;
  dv.setUint32(at, e.ttlMs);
  body[at + 4] = e.tombstone ? 1 : 0;
  dv.setUint32(at + 5, e.value.length);
  body.set(e.value, at + 9);
  const signature = signWith ? signWith(body) : new Uint8Array();
  const bytes = new Uint8Array(n + 2 + signature.length);
  bytes.set(body);
  new DataView(bytes.buffer).setUint16(n, signature.length);
  bytes.set(signature, n + 2);
  return decodeEntry(bytes);
}

/** A signer for kind-0 entries: the domain tag is prepended to what the key signs. */
export function nodeSigner(fleet: string, signer: Signer): (signed: Uint8Array) => Uint8Array {
  const d = stateDomain(fleet);
  return (body) => signer.sign(concat(d, body));
}

export function decodeEntry(bytes: Uint8Array): StateEntry {
  const fail = (why: string): never => {
    throw new EntryError(why);
  };
  if (bytes.length < 6) fail('shorter than an entry header');
  if (bytes[0] !== 0x58 || bytes[1] !== 0x53) fail('not a fleet state entry');
  if (bytes[2] !== 1) fail(`entry version ${bytes[2]}`);
  const kind = bytes[3]!;
  if (kind > 2) fail(`unknown entry kind ${kind}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keyLen = dv.getUint16(4);
  if (keyLen === 0 || keyLen > MAX_KEY_BYTES) fail('bad key length');
  let at = 6 + keyLen;
  const fixed = 12 + PUBLIC_KEY_BYTES + 9;
  if (at + fixed > bytes.length) fail('truncated entry');
  let key = '';
  try {
    key = utf8Strict.decode(bytes.subarray(6, at));
  } catch {
    fail('key is not UTF-8');
  }
  const wall = dv.getBigUint64(at);
  if (wall > BigInt(Number.MAX_SAFE_INTEGER)) fail('timestamp out of range');
  const stamp = { wall: Number(wall), counter: dv.getUint32(at + 8) };
  const author = bytes.subarray(at + 12, at + 12 + PUBLIC_KEY_BYTES);
  at += 12 + PUBLIC_KEY_BYTES;
  const ttlMs = dv.getUint32(at);
  const flags = bytes[at + 4]!;
  if (flags > 1) fail('unknown entry flags');
  const valueLen = dv.getUint32(at + 5);
  if (valueLen > MAX_VALUE_BYTES) fail('value too large');
  at += 9;
  if (at + valueLen + 2 > bytes.length) fail('truncated value');
  const value = bytes.subarray(at, at + valueLen);
  const signedEnd = at + valueLen;
  const sigLen = dv.getUint16(signedEnd);
  if (sigLen > MAX_SIG_BYTES || signedEnd + 2 + sigLen !== bytes.length) fail('signature length does not match the entry size');
  return {
    kind: kind as EntryKind,
    key,
    stamp,
    author,
    ttlMs,
    tombstone: flags === 1,
    value,
    signature: bytes.subarray(signedEnd + 2),
    bytes,
    signed: bytes.subarray(0, signedEnd),
  };
}

export function verifyNodeEntry(fleet: string, e: StateEntry): boolean {
  return verifyEd25519(e.author, concat(stateDomain(fleet), e.signed), e.signature);
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
