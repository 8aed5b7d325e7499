// X.509 CRLs (RFC 5280 section 5), read and checked with node:crypto plus the DER reader in der.ts.
// Why a standard CRL and not a home-made signed serial list: fleets that already run a CA
// (openssl, step-ca, SPIRE's upstream) can revoke with the tools they have, and `openssl crl`
// shows what a node enforces. Reading one costs about 150 lines and no dependency.
import { verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { children, DerError, oidText, readTime, readTlv, readUnsigned } from './der.ts';
import { describeCert, keyUsageOf, type FleetCa } from './fleet-ca.ts';

export class CrlError extends Error {
  override readonly name = 'CrlError';
}

export interface Crl {
  der: Uint8Array;
  /** The anchor that signed it. */
  issuer: X509Certificate;
  /** cRLNumber extension, 0 when absent. */
  number: bigint;
  thisUpdate: number;
  nextUpdate: number | null;
  revoked: Set<bigint>;
}

export const MAX_CRL_BYTES = 256 * 1024;

// Signature algorithms a fleet CA key can have, and the digest node:crypto needs for each.
const SIG_ALGS: Record<string, string | null> = {
  '1.3.101.112': null, // Ed25519
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
};

/** PEM ("X509 CRL") or DER in, the DER out. */
export function crlDer(input: Uint8Array | string): Uint8Array {
  const text = typeof input === 'string' ? input : Buffer.from(input.subarray(0, 64)).toString('latin1');
  if (text.includes('-----BEGIN X509 CRL-----')) {
    const full = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
    const m = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/.exec(full);
    if (!m) throw new CrlError('unterminated PEM CRL');
    return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  }
  if (typeof input === 'string') throw new CrlError('not a PEM CRL');
  return input;
}

/** Parses a CRL and checks it was signed by one of the fleet's anchors (with cRLSign usage). */
export function verifyCrl(ca: FleetCa, input: Uint8Array | string): Crl {
  const der = crlDer(input);
  if (der.length > MAX_CRL_BYTES) throw new CrlError(`CRL of ${der.length} bytes, more than ${MAX_CRL_BYTES}`);
  let tbsBytes: Uint8Array, sigAlg: string, signature: Uint8Array, issuerDer: Uint8Array;
  let number = 0n;
  let thisUpdate: number;
  let nextUpdate: number | null = null;
  const revoked = new Set<bigint>();
  try {
    const outer = readTlv(der, 0, der.length, 0x30);
    if (outer.end !== der.length) throw new DerError('trailing bytes after the CRL');
    const [tbs, alg, sig] = children(der, outer);
    if (!tbs || !alg || !sig || tbs.tag !== 0x30 || alg.tag !== 0x30 || sig.tag !== 0x03) throw new DerError('not a CertificateList');
    tbsBytes = der.subarray(tbs.at, tbs.end);
    sigAlg = oidText(der, readTlv(der, alg.start, alg.end, 0x06));
    if (der[sig.start] !== 0) throw new DerError('signature BIT STRING with unused bits');
    signature = der.subarray(sig.start + 1, sig.end);
    const f = children(der, tbs);
    let i = 0;
    if (f[i]?.tag === 0x02) i++; // version v2
    const innerAlg = f[i++];
    if (!innerAlg || innerAlg.tag !== 0x30) throw new DerError('missing signature algorithm');
    if (oidText(der, readTlv(der, innerAlg.start, innerAlg.end, 0x06)) !== sigAlg) throw new DerError('inner and outer signature algorithms differ');
    const issuer = f[i++];
    if (!issuer || issuer.tag !== 0x30) throw new DerError('missing issuer');
    issuerDer = der.subarray(issuer.at, issuer.end);
    const tu = f[i++];
    if (!tu) throw new DerError('missing thisUpdate');
    thisUpdate = readTime(der, tu);
    if (f[i] && (f[i]!.tag === 0x17 || f[i]!.tag === 0x18)) nextUpdate = readTime(der, f[i++]!);
    if (f[i]?.tag === 0x30) {
      for (const entry of children(der, f[i++]!)) {
        const [serial] = children(der, entry);
        if (!serial) throw new DerError('empty revoked entry');
        revoked.add(readUnsigned(der, serial));
      }
    }
    if (f[i]?.tag === 0xa0) {
      const exts = readTlv(der, f[i]!.start, f[i]!.end, 0x30);
      for (const ext of children(der, exts)) {
        const parts = children(der, ext);
        if (oidText(der, parts[0]!) !== '2.5.29.20') continue; // cRLNumber
        const value = parts[parts.length - 1]!;
        number = readUnsigned(der, readTlv(der, value.start, value.end, 0x02));
      }
    }
  } catch (e) {
    if (e instanceof DerError) throw new CrlError(`malformed CRL: ${e.message}`);
    throw e;
  }
  if (!(sigAlg in SIG_ALGS)) throw new CrlError(`CRL signature algorithm ${sigAlg} is not supported`);
  const issuer = ca.anchors.find((a) => subjectDer(a).equals(issuerDer) && sigOk(sigAlg, tbsBytes, a, signature));
  if (!issuer) throw new CrlError('CRL is not signed by the fleet CA');
  const ku = keyUsageOf(issuer);
  if (ku && !ku.has('cRLSign')) throw new CrlError(`${describeCert(issuer)} may not sign CRLs (no cRLSign key usage)`);
  return { der, issuer, number, thisUpdate, nextUpdate, revoked };
}

function sigOk(alg: string, data: Uint8Array, anchor: X509Certificate, signature: Uint8Array): boolean {
  try {
    return cryptoVerify(SIG_ALGS[alg] ?? null, data, anchor.publicKey, signature);
  } catch {
    return false;
  }
}

/** The DER of a certificate's subject Name (node:crypto only gives it as text). */
export function subjectDer(cert: X509Certificate): Buffer {
  const raw = cert.raw;
  const c = readTlv(raw, 0, raw.length, 0x30);
  const tbs = readTlv(raw, c.start, c.end, 0x30);
  const f = children(raw, tbs);
  const i = f[0]?.tag === 0xa0 ? 1 : 0;
  // serial, signature, issuer, validity, subject
  const s = f[i + 4];
  if (!s) throw new CrlError(`${describeCert(cert)}: no subject`);
  return raw.subarray(s.at, s.end);
}

/** Is this certificate on the CRL? Only CRLs from the certificate's own issuer count. */
export function isRevoked(crl: Crl, cert: X509Certificate): boolean {
  if (cert.issuer !== crl.issuer.subject) return false;
  return crl.revoked.has(BigInt('0x' + cert.serialNumber));
}

/** The newer of two CRLs from the same issuer: higher cRLNumber, then later thisUpdate. */
export function newerCrl(a: Crl, b: Crl): Crl {
  if (a.number !== b.number) return a.number > b.number ? a : b;
  return a.thisUpdate >= b.thisUpdate ? a : b;
}
