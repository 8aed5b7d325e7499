// Ed25519 through node:crypto (OpenSSL), which is several times faster than the JS
// implementation in @libp2p/crypto; libp2p keys and peer ids convert to and from raw bytes here.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { peerIdFromString, peerIdFromPublicKey } from '@libp2p/peer-id';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

export interface Signer {
  publicKey: Uint8Array;
  peerId: string;
  sign(data: Uint8Array): Uint8Array;
}

export function signerFor(key: PrivateKey): Signer {
  if (key.type !== 'Ed25519') throw new Error(`identity key is ${key.type}, not Ed25519`);
  const raw = key.raw; // seed (32) followed by the public key (32)
  const publicKey = key.publicKey.raw;
  const ko = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64u(raw.subarray(0, 32)), x: b64u(publicKey) }, format: 'jwk' });
  const peerId = peerIdFromPublicKey(key.publicKey as Parameters<typeof peerIdFromPublicKey>[0]).toString();
  return { publicKey, peerId, sign: (data) => sign(null, data, ko) };
}

// Peer ids and KeyObjects of the few dozen senders a fleet has, so each message costs one verify.
const keyCache = new Map<string, { ko: KeyObject; peerId: string }>();
const MAX_CACHED = 4096;

function entryFor(publicKey: Uint8Array): { ko: KeyObject; peerId: string } {
  const hex = Buffer.from(publicKey).toString('hex');
  let e = keyCache.get(hex);
  if (!e) {
    const ko = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(publicKey) }, format: 'jwk' });
    const peerId = peerIdFromPublicKey(publicKeyFromRaw(publicKey) as never as Parameters<typeof peerIdFromPublicKey>[0]).toString();
    if (keyCache.size >= MAX_CACHED) keyCache.delete(keyCache.keys().next().value!);
    e = { ko, peerId };
    keyCache.set(hex, e);
  }
  return e;
}

export function verifyEd25519(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    return verify(null, data, entryFor(publicKey).ko, signature);
  } catch {
    return false; // a point that is not on the curve
  }
}

export function peerIdOfKey(publicKey: Uint8Array): string {
  return entryFor(publicKey).peerId;
}

/** The raw ed25519 key a peer id embeds, or null for ids of other key types / malformed ids. */
export function publicKeyOfPeerId(peerId: string): Uint8Array | null {
  try {
    const id = peerIdFromString(peerId);
    if (id.type !== 'Ed25519' || !id.publicKey) return null;
    return id.publicKey.raw;
  } catch {
    return null;
  }
}
