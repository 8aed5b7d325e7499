// The signed envelope, the replay guard and the persisted identity, without sockets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { decodeEnvelope, encodeEnvelope, EnvelopeError, verifyEnvelope } from '../../src/federation/envelope.ts';
import { signerFor } from '../../src/federation/ed25519.ts';
import { ReplayGuard, SequenceCounter } from '../../src/federation/replay-guard.ts';
import { IdentityError, loadOrCreateIdentity } from '../../src/federation/identity.ts';
import { PeerRateLimit } from '../../src/federation/rate-limit.ts';

const key = (await generateKeyPair('Ed25519')) as unknown as PrivateKey;
const signer = signerFor(key);
const base = { seq: 5n, round: 3, timestamp: 1_700_000_000_123, topic: 'learning/update', payload: Buffer.from('weights') };

test('round trip: every field, and the signature verifies for this fleet only', () => {
  const bytes = encodeEnvelope('lab', signer, base);
  const e = decodeEnvelope(bytes, 1 << 20);
  assert.is(e.seq, 5n);
  assert.is(e.round, 3);
  assert.is(e.timestamp, base.timestamp);
  assert.is(e.topic, base.topic);
  assert.is(Buffer.from(e.payload).toString(), 'weights');
  assert.ok(verifyEnvelope('lab', e));
  assert.not.ok(verifyEnvelope('other-fleet', e));
});

test('every single-bit flip is caught: decode error or failed signature', () => {
  const bytes = encodeEnvelope('lab', signer, base);
  for (let i = 0; i < bytes.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const t = bytes.slice();
      t[i] ^= bit;
      let ok = false;
      try {
        ok = verifyEnvelope('lab', decodeEnvelope(t, 1 << 20));
      } catch (e) {
        assert.instance(e, EnvelopeError);
      }
      assert.not.ok(ok, `flip at ${i}`);
    }
  }
});

test('size limit, bad topics and rounds are refused when encoding and decoding', () => {
  const bytes = encodeEnvelope('lab', signer, base);
  assert.throws(() => decodeEnvelope(bytes, bytes.length - 1), /more than/);
  assert.throws(() => encodeEnvelope('lab', signer, { ...base, topic: '' }), (e: Error) => e instanceof EnvelopeError);
  assert.throws(() => encodeEnvelope('lab', signer, { ...base, topic: 'x'.repeat(201) }), (e: Error) => e instanceof EnvelopeError);
  assert.throws(() => encodeEnvelope('lab', signer, { ...base, round: -1 }), (e: Error) => e instanceof EnvelopeError);
});

test('replay guard: window, duplicates, out-of-order, stale, future', () => {
  const g = new ReplayGuard(300_000, 30_000);
  const now = 1_000_000_000;
  assert.is(g.check('p', 't', 100n, now, now), 'ok');
  g.record('p', 't', 100n);
  assert.is(g.check('p', 't', 100n, now, now), 'duplicate');
  assert.is(g.check('p', 't', 99n, now, now), 'ok', 'late but unseen');
  g.record('p', 't', 99n);
  assert.is(g.check('p', 't', 99n, now, now), 'duplicate');
  g.record('p', 't', 200n);
  assert.is(g.check('p', 't', 100n, now, now), 'stale', 'fell out of the 64-wide window');
  assert.is(g.check('p', 't', 150n, now, now), 'ok');
  assert.is(g.check('p', 'other', 100n, now, now), 'ok', 'per topic');
  assert.is(g.check('q', 't', 1n, now - 300_001, now), 'stale');
  assert.is(g.check('q', 't', 1n, now + 30_001, now), 'future');
  assert.is(g.check('q', 't', 1n, now + 29_000, now), 'ok', 'small clock skew is fine');
});

test('sequence numbers keep rising across a restart (no state on disk)', () => {
  const t = 1_700_000_000_000;
  const a = new SequenceCounter(t);
  const s1 = a.next(t);
  const s2 = a.next(t);
  assert.ok(s2 > s1);
  for (let i = 0; i < 5000; i++) a.next(t);
  const restarted = new SequenceCounter(t + 10); // 10 ms later
  assert.ok(restarted.next(t + 10) > s1);
});

test('rate limit: burst, then the sustained rate', () => {
  const r = new PeerRateLimit(2, 3);
  const t = 0;
  assert.ok(r.take('p', t) && r.take('p', t) && r.take('p', t));
  assert.not.ok(r.take('p', t));
  assert.ok(r.take('q', t), 'per peer');
  assert.ok(r.take('p', t + 500));
  assert.not.ok(r.take('p', t + 500));
});

test('identity: made on first start with mode 0600, the same on the next; a damaged file is an error, not a new key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'x0-id-'));
  const file = join(dir, 'sub', 'federation.key');
  const first = await loadOrCreateIdentity(file);
  assert.ok(first.created);
  assert.is(statSync(file).mode & 0o777, 0o600);
  const again = await loadOrCreateIdentity(file);
  assert.not.ok(again.created);
  assert.is(signerFor(again.key).peerId, signerFor(first.key).peerId);
  const before = readFileSync(file);
  writeFileSync(file, 'garbage');
  try {
    await loadOrCreateIdentity(file);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, IdentityError);
    assert.match((e as Error).message, /not a libp2p private key/);
  }
  assert.is(readFileSync(file, 'utf8'), 'garbage', 'left for the operator');
  writeFileSync(file, before);
  const secp = await generateKeyPair('secp256k1');
  const { privateKeyToProtobuf } = await import('@libp2p/crypto/keys');
  writeFileSync(file, privateKeyToProtobuf(secp));
  try {
    await loadOrCreateIdentity(file);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /secp256k1 key/);
  }
});

test.run();
