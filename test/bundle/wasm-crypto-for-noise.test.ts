// The bundle's node:crypto stand-in for libp2p-noise's WASM ChaCha20-Poly1305 and SHA-256
// (src/bundle/wasm-crypto-for-noise.ts) against the real packages, byte for byte.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { ChaCha20Poly1305 as Real, newInstance } from '@chainsafe/as-chacha20poly1305';
import { digest as realDigest } from '@chainsafe/as-sha256';
import { ChaCha20Poly1305 as Shim, digest } from '../../src/bundle/wasm-crypto-for-noise.ts';

const real = new Real(newInstance());
const shim = new Shim(null);
// Lengths around noise's 1200-byte switch, zero, and odd sizes.
const SIZES = [0, 1, 15, 16, 17, 63, 64, 65, 255, 1199, 1200, 4096, 65519];

test('seal: identical ciphertext and tag; open: identical plaintext, with and without associated data', () => {
  for (const n of SIZES) {
    for (const adLen of [0, 32]) {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const text = randomBytes(n);
      const ad = adLen ? randomBytes(adLen) : new Uint8Array(0);
      const a = real.seal(key, nonce, text, ad);
      const b = shim.seal(key, nonce, text, ad);
      assert.is(Buffer.compare(Buffer.from(a), Buffer.from(b)), 0, `seal ${n}/${adLen}`);
      assert.is(Buffer.compare(Buffer.from(shim.open(key, nonce, a, ad)!), text), 0, `open ${n}/${adLen}`);
      assert.is(Buffer.compare(Buffer.from(real.open(key, nonce, b, ad)!), text), 0, `real opens shim ${n}/${adLen}`);
    }
  }
});

test('open: a flipped bit, a wrong key, wrong associated data or a short input give null, as the WASM one', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const ad = randomBytes(32);
  const sealed = shim.seal(key, nonce, randomBytes(100), ad);
  for (const i of [0, 50, sealed.length - 1]) {
    const bad = Uint8Array.from(sealed);
    bad[i]! ^= 1;
    assert.is(shim.open(key, nonce, bad, ad), null);
    assert.is(real.open(key, nonce, bad, ad), null);
  }
  assert.is(shim.open(randomBytes(32), nonce, sealed, ad), null);
  assert.is(shim.open(key, nonce, sealed, randomBytes(32)), null);
  assert.is(shim.open(key, nonce, sealed.subarray(0, 10), ad), null);
});

test('digest: SHA-256 equal to the WASM one', () => {
  for (const n of SIZES) {
    const data = randomBytes(n);
    assert.is(Buffer.compare(Buffer.from(digest(data)), Buffer.from(realDigest(data))), 0, `digest ${n}`);
  }
});

test.run();
