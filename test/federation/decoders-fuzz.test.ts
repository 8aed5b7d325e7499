// Fuzzing every decoder a peer can reach (envelope, state entry, gossip batch, CRL, certificate
// chain, mDNS packet): random and mutated inputs must end in the decoder's own error or a value, never in
// another exception, and quickly (each input is bounded, no loop depends on untrusted counts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { decodeEnvelope, encodeEnvelope, EnvelopeError } from '../../src/federation/envelope.ts';
import { decodeEntry, EntryError } from '../../src/federation/state-entry.ts';
import { decodeBatch, encodeBatch, FrameError } from '../../src/federation/stream-frames.ts';
import { CrlError, verifyCrl } from '../../src/federation/crl.ts';
import { CertificateError, FleetCa } from '../../src/federation/fleet-ca.ts';
import { admit, AdmissionError } from '../../src/federation/admission.ts';
import { FleetState } from '../../src/federation/fleet-state.ts';
import { signerFor } from '../../src/federation/ed25519.ts';
import { loadOrCreateIdentity } from '../../src/federation/identity.ts';
import { TestFleet, FLEET, TRUST_DOMAIN } from './fleet-harness.ts';
import { decodePacket, encodeQuery, encodeResponse, MdnsPacketError } from '../../src/federation/mdns-packet.ts';

const ITER = Number(process.env.FUZZ_ITER ?? 4000);
let seed = 0x9e3779b9;
const rnd = (n: number) => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};

function mutate(src: Uint8Array): Uint8Array {
  let b = Buffer.from(src);
  const ops = 1 + rnd(4);
  for (let k = 0; k < ops; k++) {
    switch (rnd(5)) {
      case 0:
        if (b.length) b[rnd(b.length)] = rnd(256);
        break;
      case 1:
        b = b.subarray(0, rnd(b.length + 1));
        break;
      case 2: {
        const at = rnd(b.length + 1);
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + rnd(8) }, () => rnd(256))), b.subarray(at)]);
        break;
      }
      case 3:
        if (b.length > 4) b.writeUInt32BE(rnd(2) ? 0xffffffff : rnd(1 << 20), rnd(b.length - 3));
        break;
      default:
        b = Buffer.from(Array.from({ length: rnd(300) }, () => rnd(256)));
    }
  }
  return b;
}

function fuzz(name: string, seedInput: Uint8Array, run: (b: Uint8Array) => unknown, allowed: (e: unknown) => boolean): void {
  let ok = 0;
  for (let i = 0; i < ITER; i++) {
    const input = mutate(seedInput);
    try {
      if (run(input) !== false) ok++;
    } catch (e) {
      if (!allowed(e)) throw new Error(`${name}: unexpected ${(e as Error)?.name}: ${(e as Error)?.message} on ${Buffer.from(input).toString('hex').slice(0, 200)}`);
    }
  }
  assert.ok(ok < ITER, `${name}: the mutations should break most inputs`);
}

const fleet = new TestFleet('fuzz');
const ca = FleetCa.fromPem(fleet.ca.pem);
const key = (await generateKeyPair('Ed25519')) as unknown as PrivateKey;
const signer = signerFor(key);

test('envelope decoder', () => {
  const env = encodeEnvelope(FLEET, signer, { seq: 1n, round: 1, timestamp: Date.now(), topic: 'learning/update', payload: Buffer.alloc(64, 7) });
  fuzz('envelope', env, (b) => decodeEnvelope(b, 1 << 20), (e) => e instanceof EnvelopeError);
});

test('state entry decoder and merge (the whole validation path)', async () => {
  const p = await fleet.prepare('f');
  const { key: k } = await loadOrCreateIdentity(p.settings.keyFile);
  const state = new FleetState({ fleet: FLEET, trustDomain: TRUST_DOMAIN, ca, signer: signerFor(k), certPem: readFileSync(p.settings.certFile, 'utf8'), quorum: 3, entryTtlMs: 600_000, maxSkewMs: 30_000 });
  const entry = state.announce({ name: 'f', addrs: ['/ip4/1.2.3.4/tcp/1'], version: '1', capabilities: [] }).bytes;
  fuzz('entry', entry, (b) => decodeEntry(b), (e) => e instanceof EntryError);
  const target = new FleetState({ fleet: FLEET, trustDomain: TRUST_DOMAIN, ca, signer, certPem: '', quorum: 3, entryTtlMs: 600_000, maxSkewMs: 30_000 });
  // merge never throws: every failure is a result
  fuzz('merge', entry, (b) => target.merge(b).ok, () => false);
  fuzz('merge crl', Buffer.from(fleet.revoke(5n)), (b) => target.merge(b).ok, () => false);
});

test('gossip batch decoder', () => {
  const batch = encodeBatch([Buffer.alloc(10, 1), Buffer.alloc(0), Buffer.alloc(100, 2)]);
  fuzz('batch', batch, (b) => decodeBatch(b), (e) => e instanceof FrameError);
});

test('CRL reader', () => {
  const pem = fleet.revoke(77n);
  const der = Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64');
  fuzz('crl', der, (b) => verifyCrl(ca, b), (e) => e instanceof CrlError);
});

test('admission: certificate chains (PEM and raw)', async () => {
  const p = await fleet.prepare('g');
  const pem = readFileSync(p.settings.certFile);
  const allowed = (e: unknown) => e instanceof AdmissionError || e instanceof CertificateError;
  fuzz('chain pem', pem, (b) => admit(ca, b, p.peerId, { trustDomain: TRUST_DOMAIN, revoked: () => false }), allowed);
  // mutate inside the base64 body too, where the DER lives
  const body = pem.toString().split('\n').slice(1, -2).join('');
  const der = Buffer.from(body, 'base64');
  fuzz(
    'chain der',
    der,
    (b) => admit(ca, `-----BEGIN CERTIFICATE-----\n${Buffer.from(b).toString('base64')}\n-----END CERTIFICATE-----\n`, p.peerId, { trustDomain: TRUST_DOMAIN, revoked: () => false }),
    allowed,
  );
});

test('mDNS packet decoder (queries and answers, from anyone on the mesh link)', () => {
  const svc = 'test._x0tta6bl4._udp.local';
  const id = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
  fuzz('mdns query', encodeQuery(7, svc), (b) => decodePacket(Buffer.from(b)), (e) => e instanceof MdnsPacketError);
  const answer = encodeResponse(svc, `${id}.${svc}`, [`dnsaddr=/ip4/10.0.0.1/tcp/4001/p2p/${id}`, `dnsaddr=/ip4/10.0.0.2/tcp/4001/p2p/${id}`]);
  fuzz('mdns answer', answer, (b) => decodePacket(Buffer.from(b)), (e) => e instanceof MdnsPacketError);
});

test.run();
