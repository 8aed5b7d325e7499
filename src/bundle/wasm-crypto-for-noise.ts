// Stands in for @chainsafe/as-chacha20poly1305 and @chainsafe/as-sha256 in the bundle only
// (scripts/build-bundle.mjs aliases both here). libp2p-noise uses those WASM builds for small
// packets; on a router they cost ~85 KB of flash for what node:crypto (OpenSSL) already does.
// Only the calls libp2p-noise makes are provided; test/federation/noise-crypto-shim.test.ts
// checks them against the real packages.
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

const TAG = 16;

export function newInstance(): null {
  return null;
}

export class ChaCha20Poly1305 {
  constructor(_ctx: unknown) {}

  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad?: Uint8Array): Uint8Array {
    const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
    if (ad) c.setAAD(ad, { plaintextLength: plaintext.byteLength });
    const body = c.update(plaintext);
    c.final();
    return Buffer.concat([body, c.getAuthTag()]);
  }

  /** null when the tag does not match, as the WASM version answers. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad?: Uint8Array): Uint8Array | null {
    if (sealed.byteLength < TAG) return null;
    const text = sealed.subarray(0, sealed.byteLength - TAG);
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
    d.setAuthTag(sealed.subarray(sealed.byteLength - TAG));
    if (ad) d.setAAD(ad, { plaintextLength: text.byteLength });
    const out = d.update(text);
    try {
      d.final();
    } catch {
      return null;
    }
    return out;
  }
}

export function digest(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}
