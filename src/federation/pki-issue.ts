// The operator's side of the fleet PKI: a self-signed Ed25519 fleet CA, node certificates whose
// key is the node's libp2p key (read out of its peer id, so no CSR travels) and whose URI SAN is
// its SPIFFE ID, and CRLs. DER is written by hand (der.ts) and signed with node:crypto;
// `openssl verify -crl_check` accepts the results (test/federation/pki.test.ts).
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { bits, bool, der, octets, oid, seq, time, uint, utf8String } from './der.ts';
import { subjectDer } from './crl.ts';
import { concat, encodeEntry, KIND_SETTING, stateDomain } from './state-entry.ts';

const ED25519 = '1.3.101.112';
const algId = () => seq(oid(ED25519));

function name(cn: string): Uint8Array {
  return seq(der(0x31, seq(oid('2.5.4.3'), utf8String(cn))));
}

function spkiOfRaw(raw: Uint8Array): Uint8Array {
  return seq(algId(), bits(raw));
}

function ext(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** Positive 127-bit serial: unique without a registry (RFC 5280 allows up to 20 octets). */
export function randomSerial(): bigint {
  const b = randomBytes(16);
  b[0]! &= 0x7f;
  b[0]! |= 0x01;
  return BigInt('0x' + b.toString('hex'));
}

function keyId(spkiRaw: Uint8Array): Uint8Array {
  return createHash('sha1').update(spkiRaw).digest(); // RFC 5280 4.2.1.2 method (1)
}

function certificate(tbs: Uint8Array, signer: KeyObject): Uint8Array {
  return seq(tbs, algId(), bits(sign(null, tbs, signer)));
}

const KU_CA = bits(Uint8Array.of(0x86), 1); // digitalSignature, keyCertSign, cRLSign
const KU_LEAF = bits(Uint8Array.of(0x80), 7); // digitalSignature

export interface NewCa {
  certPem: string;
  keyPem: string;
}

export function createFleetCa(commonName: string, days: number, now = Date.now()): NewCa {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = rawEd25519(publicKey);
  const n = name(commonName);
  const kid = keyId(raw);
  const tbs = seq(
    der(0xa0, uint(2n)),
    uint(randomSerial()),
    algId(),
    n,
    seq(time(now - 60_000), time(now + days * 86_400_000)),
    n,
    spkiOfRaw(raw),
    der(
      0xa3,
      seq(
        ext('2.5.29.19', true, seq(bool(true))),
        ext('2.5.29.15', true, KU_CA),
        ext('2.5.29.14', false, octets(kid)),
      ),
    ),
  );
  return { certPem: pem('CERTIFICATE', certificate(tbs, privateKey)), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

export interface NodeCertSpec {
  ca: X509Certificate;
  caKey: KeyObject;
  /** Raw Ed25519 public key of the node (from its peer id). */
  nodeKey: Uint8Array;
  spiffeId: string;
  commonName: string;
  days: number;
  serial?: bigint;
  now?: number;
}

/** A node certificate: the node's libp2p key, SAN spiffe://<td>/node/<peer-id>. */
export function issueNodeCertificate(s: NodeCertSpec): { pem: string; serial: bigint; notAfter: number } {
  return issueLeaf(s);
}

export interface OperatorCertSpec extends Omit<NodeCertSpec, 'nodeKey'> {
  /** Raw Ed25519 public key of the operator (a fresh key made by `pki issue-operator`). */
  operatorKey: Uint8Array;
}

/** An operator certificate (signs fleet commands): SAN spiffe://<td>/operator/<name>. */
export function issueOperatorCertificate(s: OperatorCertSpec): { pem: string; serial: bigint; notAfter: number } {
  if (!/^spiffe:\/\/[^/]+\/operator\/[^/]+$/.test(s.spiffeId)) throw new Error(`${s.spiffeId} is not an operator SPIFFE ID`);
  return issueLeaf({ ...s, nodeKey: s.operatorKey });
}

function issueLeaf(s: NodeCertSpec): { pem: string; serial: bigint; notAfter: number } {
  const now = s.now ?? Date.now();
  const serial = s.serial ?? randomSerial();
  const notAfter = now + s.days * 86_400_000;
  const tbs = seq(
    der(0xa0, uint(2n)),
    uint(serial),
    algId(),
    subjectDer(s.ca),
    seq(time(now - 60_000), time(notAfter)),
    name(s.commonName),
    spkiOfRaw(s.nodeKey),
    der(
      0xa3,
      seq(
        ext('2.5.29.19', true, seq()),
        ext('2.5.29.15', true, KU_LEAF),
        // SAN: one URI (tag [6]); the X509-SVID profile marks it critical only with an empty subject.
        ext('2.5.29.17', false, seq(der(0x86, Buffer.from(s.spiffeId, 'latin1')))),
        ext('2.5.29.14', false, octets(keyId(s.nodeKey))),
        ext('2.5.29.35', false, seq(der(0x80, keyId(rawEd25519(s.ca.publicKey))))),
      ),
    ),
  );
  return { pem: pem('CERTIFICATE', certificate(tbs, s.caKey)), serial, notAfter };
}

export function createCrl(s: { ca: X509Certificate; caKey: KeyObject; number: bigint; revoked: { serial: bigint; at: number }[]; days: number; now?: number }): string {
  const now = s.now ?? Date.now();
  const entries = s.revoked.map((r) => seq(uint(r.serial), time(r.at)));
  const tbs = seq(
    uint(1n), // v2
    algId(),
    subjectDer(s.ca),
    time(now - 60_000),
    time(now + s.days * 86_400_000),
    ...(entries.length ? [seq(...entries)] : []),
    der(0xa0, seq(ext('2.5.29.20', false, uint(s.number)), ext('2.5.29.35', false, seq(der(0x80, keyId(rawEd25519(s.ca.publicKey))))))),
  );
  return pem('X509 CRL', seq(tbs, algId(), bits(sign(null, tbs, s.caKey))));
}

/**
 * A fleet-wide setting entry signed by the fleet CA key (any node relays it; none can forge it).
 * `unset` makes the tombstone that withdraws it. The newest signature time wins fleet-wide.
 */
export function signSetting(s: { caKey: KeyObject; fleet: string; name: string; value: string; unset?: boolean; now?: number }): Uint8Array {
  const alg = s.caKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return encodeEntry(
    { kind: KIND_SETTING, key: `setting/${s.name}`, stamp: { wall: s.now ?? Date.now(), counter: 0 }, ttlMs: 0, tombstone: s.unset === true, value: Buffer.from(s.unset ? '' : s.value, 'utf8') },
    (body) => sign(alg, concat(stateDomain(s.fleet), body), s.caKey),
  ).bytes;
}

export function rawEd25519(key: KeyObject): Uint8Array {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the fleet CA key is ${key.asymmetricKeyType}; pki issues with Ed25519 CAs only`);
  const spki = key.export({ type: 'spki', format: 'der' });
  return spki.subarray(spki.length - 32);
}

function pem(label: string, body: Uint8Array): string {
  const b64 = Buffer.from(body).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
