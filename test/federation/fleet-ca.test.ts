// Fleet CA verification against certificates made by the openssl CLI (not by the code under test).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CertificateError,
  FleetCa,
  keyUsageOf,
  parseCertificates,
  uriSans,
  verifyNodeCertificate,
  type CertificateErrorCode,
} from '../../src/federation/fleet-ca.ts';
import { TestPki } from '../telemetry/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-fleetca-'));
const pki = new TestPki(dir);
const DAY = 86_400_000;

const root = pki.issue('fleet-root', { ca: true });
const other = pki.issue('other-root', { ca: true });
const operator = pki.issue('ops-alice', { issuer: root, keyType: 'ed25519' });
const stranger = pki.issue('ops-mallory', { issuer: other, keyType: 'ed25519' });
const inter = pki.issue('site-ca', { issuer: root, ca: true });
const siteOperator = pki.issue('ops-bob', { issuer: inter, keyType: 'rsa' });
const notCa = pki.issue('not-a-ca', { issuer: root, keyUsage: 'critical,digitalSignature,keyCertSign' });
const underNotCa = pki.issue('under-not-ca', { issuer: notCa });
const encryptOnly = pki.issue('encrypt-only', { issuer: root, keyUsage: 'critical,keyEncipherment' });
const noKeyUsage = pki.issue('no-ku', { issuer: root, keyUsage: '' });
const signOnlyCa = pki.issue('sign-only-ca', { ca: true, keyUsage: 'critical,keyCertSign,cRLSign' });
const node1 = pki.issue('node1', { issuer: root, san: 'URI:spiffe://mesh.example/node/12D3KooWAbc123' });
const nodeTwoUris = pki.issue('node2', { issuer: root, san: 'URI:spiffe://mesh.example/node/a1, URI:spiffe://mesh.example/node/b2' });
const nodeOtherDomain = pki.issue('node3', { issuer: root, san: 'URI:spiffe://elsewhere/node/a1' });
const nodeNoSan = pki.issue('node4', { issuer: root });
const shortRoot = pki.issue('short-root', { ca: true, days: 1 });
const longLeaf = pki.issue('long-leaf', { issuer: shortRoot, days: 30 });

const ca = FleetCa.fromPem(root.certPem);
const certs = (...issued: { certPem: string }[]) => issued.map((i) => new X509Certificate(i.certPem));

function rejects(code: CertificateErrorCode, fn: () => unknown, text?: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CertificateError);
    assert.is((e as CertificateError).code, code, (e as Error).message);
    if (text) assert.match((e as Error).message, text);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('an operator certificate issued by the fleet CA verifies, with the path to the anchor', () => {
  const v = ca.verify(certs(operator));
  assert.is(v.path.length, 2);
  assert.is(v.path[1]!.fingerprint256, new X509Certificate(root.certPem).fingerprint256);
  assert.is(v.leaf.subject, 'CN=ops-alice');
});

test('a certificate from another CA, or from an impostor CA with the same name, is untrusted', () => {
  rejects('UNTRUSTED', () => ca.verify(certs(stranger)), 'not issued by the fleet CA');
  const collide = new TestPki(mkdtempSync(join(dir, 'c-')));
  const fakeRoot = collide.issue('fleet-root', { ca: true });
  const fakeLeaf = collide.issue('ops-alice', { issuer: fakeRoot, keyType: 'ed25519' });
  rejects('UNTRUSTED', () => ca.verify(certs(fakeLeaf)));
  // Offering the impostor root as an "intermediate" does not help either.
  rejects('UNTRUSTED', () => ca.verify(certs(fakeLeaf, fakeRoot)));
});

test('a tampered signature is untrusted (names and key ids still match, only the signature check catches it)', () => {
  const raw = Buffer.from(new X509Certificate(operator.certPem).raw);
  raw[raw.length - 3] ^= 0x01;
  const tampered = new X509Certificate(raw);
  assert.ok(tampered.checkIssued(new X509Certificate(root.certPem)));
  rejects('UNTRUSTED', () => ca.verify([tampered]));
});

test('intermediates: verified in any order, required when the leaf needs them, must be CAs', () => {
  const v = ca.verify(certs(siteOperator, inter));
  assert.equal(v.path.map((c) => c.subject), ['CN=ops-bob', 'CN=site-ca', 'CN=fleet-root']);
  assert.is(ca.verify(certs(siteOperator, stranger, inter)).path.length, 3);
  rejects('UNTRUSTED', () => ca.verify(certs(siteOperator)));
  rejects('NOT_A_CA', () => ca.verify(certs(underNotCa, notCa)), 'not a CA');
});

test('key usage: read from the DER; the signer needs digitalSignature, an anchor keyCertSign', () => {
  assert.equal([...keyUsageOf(new X509Certificate(operator.certPem))!], ['digitalSignature']);
  assert.equal([...keyUsageOf(new X509Certificate(root.certPem))!].sort(), ['cRLSign', 'digitalSignature', 'keyCertSign']);
  assert.equal([...keyUsageOf(new X509Certificate(encryptOnly.certPem))!], ['keyEncipherment']);
  assert.is(keyUsageOf(new X509Certificate(noKeyUsage.certPem)), null);
  rejects('KEY_USAGE', () => ca.verify(certs(encryptOnly)), 'keyEncipherment, not digitalSignature');
  // No keyUsage extension means no restriction (RFC 5280).
  assert.is(ca.verify(certs(noKeyUsage)).path.length, 2);
  rejects('NOT_A_CA', () => FleetCa.fromPem(operator.certPem));
});

test('the chain check alone accepts the CA itself when its key usage allows it (commands add the operator-certificate rule on top)', () => {
  assert.is(ca.verify(certs(root)).path.length, 1);
  const strict = FleetCa.fromPem(signOnlyCa.certPem);
  rejects('KEY_USAGE', () => strict.verify(certs(signOnlyCa)), 'not digitalSignature');
});

test('validity period of the leaf, the intermediates and the anchor', () => {
  const leaf = new X509Certificate(operator.certPem);
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  assert.is(ca.verify([leaf], { now: from + 1000 }).path.length, 2);
  rejects('EXPIRED', () => ca.verify([leaf], { now: to + 1000 }), 'expired');
  rejects('NOT_YET_VALID', () => ca.verify([leaf], { now: from - DAY }), 'check the clock');
  const shortCa = FleetCa.fromPem(shortRoot.certPem);
  assert.is(shortCa.verify(certs(longLeaf)).path.length, 2);
  rejects('EXPIRED', () => shortCa.verify(certs(longLeaf), { now: Date.now() + 2 * DAY }), /fleet CA .*expired/);
});

test('a bundle of two anchors (CA rollover) trusts both', () => {
  const both = FleetCa.fromPem(root.certPem + other.certPem);
  assert.is(both.anchors.length, 2);
  assert.is(both.verify(certs(stranger)).path.length, 2);
  assert.is(both.verify(certs(operator)).path.length, 2);
});

test('malformed input is a typed error, never a crash', () => {
  rejects('MALFORMED', () => FleetCa.fromPem('hello'), 'no PEM certificate');
  rejects('MALFORMED', () => parseCertificates('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'x'), 'not valid X.509');
  rejects('MALFORMED', () => parseCertificates('x'.repeat(70_000), 'x'), 'more than');
  rejects('MALFORMED', () => parseCertificates(operator.certPem.repeat(9), 'x'), 'more than 8');
  rejects('MALFORMED', () => ca.verify([]));
  assert.is(parseCertificates(Buffer.from(operator.certPem + root.certPem), 'x').length, 2);
});

test('node certificates: exactly one SPIFFE ID under the trust domain gives the peer id', () => {
  const id = verifyNodeCertificate(ca, certs(node1), { trustDomain: 'mesh.example' });
  assert.is(id.peerId, '12D3KooWAbc123');
  assert.is(id.spiffeId, 'spiffe://mesh.example/node/12D3KooWAbc123');
  assert.equal(uriSans(new X509Certificate(nodeTwoUris.certPem)), ['spiffe://mesh.example/node/a1', 'spiffe://mesh.example/node/b2']);
  rejects('IDENTITY', () => verifyNodeCertificate(ca, certs(nodeTwoUris), { trustDomain: 'mesh.example' }), '2 URI SANs');
  rejects('IDENTITY', () => verifyNodeCertificate(ca, certs(nodeOtherDomain), { trustDomain: 'mesh.example' }), 'not under');
  rejects('IDENTITY', () => verifyNodeCertificate(ca, certs(nodeNoSan), { trustDomain: 'mesh.example' }), '0 URI SANs');
  rejects('IDENTITY', () => verifyNodeCertificate(ca, certs(root), { trustDomain: 'mesh.example' }), 'is a CA');
  rejects('IDENTITY', () => verifyNodeCertificate(ca, certs(node1), { trustDomain: 'Bad Domain' }));
  rejects('UNTRUSTED', () => verifyNodeCertificate(FleetCa.fromPem(other.certPem), certs(node1), { trustDomain: 'mesh.example' }));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
