// The router bundle leaves out @noble/curves' secp256k1 and @noble/ciphers' ChaCha20-Poly1305
// (src/bundle/no-secp256k1.ts, no-js-chacha.ts, aliased in scripts/build-bundle.mjs). This checks
// the assumptions that makes safe against the real packages, so an upgrade that breaks them fails
// here rather than on a router, and that the stand-ins refuse with a clear message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
// Not in the package's exports: read from its files (the package's own layout is what the stand-in relies on).
import { defaultCrypto } from '../../node_modules/@chainsafe/libp2p-noise/dist/src/crypto/index.js';
import { pureJsCrypto } from '../../node_modules/@chainsafe/libp2p-noise/dist/src/crypto/js.js';
import { chacha20poly1305 } from '../../src/bundle/no-js-chacha.ts';
import { secp256k1 } from '../../src/bundle/no-secp256k1.ts';

test("libp2p-noise's Node crypto replaces both pure-JS cipher calls (the only users of @noble/ciphers/chacha)", () => {
  assert.is.not(defaultCrypto.chaCha20Poly1305Encrypt, pureJsCrypto.chaCha20Poly1305Encrypt);
  assert.is.not(defaultCrypto.chaCha20Poly1305Decrypt, pureJsCrypto.chaCha20Poly1305Decrypt);
  // What stays pure JS must not need the cipher: HKDF over SHA-256 only.
  assert.is(defaultCrypto.getHKDF, pureJsCrypto.getHKDF);
  assert.not.match(String(pureJsCrypto.getHKDF), /chacha/i);
});

test('the stand-ins refuse with a clear message', () => {
  assert.throws(() => chacha20poly1305(), /pure-JS ChaCha20-Poly1305/);
  for (const call of [() => secp256k1.sign(), () => secp256k1.verify(), () => secp256k1.getPublicKey(), () => secp256k1.ProjectivePoint.fromHex(), () => secp256k1.utils.randomPrivateKey()]) {
    assert.throws(call, /secp256k1 keys are not supported/);
  }
});

test.run();
