// Trust in the fleet CA, checked with node:crypto alone: the one place that decides whether a
// certificate speaks for the fleet. Signed MQTT commands (operator certificates, SPIFFE path
// /operator/<name>) and peer admission (node certificates, /node/<peer-id>) both verify here, so
// the two cannot drift apart. node:crypto does not expose the keyUsage bits, so they are read
// from the raw certificate with der.ts.
import { X509Certificate } from 'node:crypto';
import { children, DerError, oidText, readTlv, type Tlv } from './der.ts';

export type CertificateErrorCode =
  | 'MALFORMED' // not PEM, not X.509, too big
  | 'UNTRUSTED' // no path to the fleet CA
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'KEY_USAGE' // the certificate may not be used for this
  | 'NOT_A_CA' // an issuer in the chain is not a CA
  | 'IDENTITY'; // no or wrong SPIFFE identity

export class CertificateError extends Error {
  override readonly name = 'CertificateError';
  constructor(
    readonly code: CertificateErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type KeyUsage =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

// Bit order of the KeyUsage BIT STRING (RFC 5280, 4.2.1.3).
const KEY_USAGE_BITS: KeyUsage[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

const MAX_PEM_BYTES = 64 * 1024;
const MAX_CERTS = 8;
// Leaf, at most two intermediates, anchor: a fleet needs no deeper hierarchy.
const MAX_PATH = 4;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----/g;

/** Every certificate in a PEM text, in order. */
export function parseCertificates(pem: string | Uint8Array, what: string): X509Certificate[] {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('latin1');
  if (text.length > MAX_PEM_BYTES) throw new CertificateError('MALFORMED', `${what}: more than ${MAX_PEM_BYTES} bytes of PEM`);
  const certs: X509Certificate[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (certs.length === MAX_CERTS) throw new CertificateError('MALFORMED', `${what}: more than ${MAX_CERTS} certificates`);
    try {
      certs.push(new X509Certificate(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
    } catch (e) {
      throw new CertificateError('MALFORMED', `${what}: certificate ${certs.length + 1} is not valid X.509 (${(e as Error).message})`);
    }
  }
  if (certs.length === 0) throw new CertificateError('MALFORMED', `${what}: no PEM certificate found`);
  return certs;
}

/** The keyUsage extension's bits, or null when the certificate has none (then any use is allowed). */
export function keyUsageOf(cert: X509Certificate): Set<KeyUsage> | null {
  const der = cert.raw;
  try {
    const tbs = readTlv(der, readTlv(der, 0, der.length, 0x30).start, der.length, 0x30);
    const extensions = children(der, tbs).find((field) => field.tag === 0xa3); // [3] extensions
    if (!extensions) return null;
    for (const ext of children(der, readTlv(der, extensions.start, extensions.end, 0x30))) {
      if (ext.tag !== 0x30) throw new DerError(`DER tag 0x${ext.tag.toString(16)} where 0x30 was expected`);
      const [id, ...rest] = children(der, ext);
      if (!id || oidText(der, id) !== KEY_USAGE_OID) continue;
      const value = rest[0]?.tag === 0x01 ? rest[1] : rest[0]; // after the critical flag, if any
      if (value?.tag !== 0x04) throw new DerError('keyUsage value is not an OCTET STRING');
      return usageBits(der, readTlv(der, value.start, value.end, 0x03));
    }
  } catch (e) {
    throw new CertificateError('MALFORMED', `${describeCert(cert)}: cannot read extensions (${(e as Error).message})`);
  }
  return null;
}

const KEY_USAGE_OID = '2.5.29.15'; // id-ce-keyUsage

function usageBits(der: Uint8Array, bits: Tlv): Set<KeyUsage> {
  const out = new Set<KeyUsage>();
  // bits.start holds the count of unused bits; the flags follow.
  for (let i = 0; i < KEY_USAGE_BITS.length; i++) {
    const byte = bits.start + 1 + (i >> 3);
    if (byte < bits.end && der[byte]! & (0x80 >> (i & 7))) out.add(KEY_USAGE_BITS[i]!);
  }
  return out;
}

/** "CN=ops-alice (sha256 AB:CD:EF:01)": enough to tell certificates apart in a log line. */
export function describeCert(cert: X509Certificate): string {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? cert.subject.replace(/\n/g, ', ');
  return `CN=${cn} (sha256 ${cert.fingerprint256.slice(0, 11)})`;
}

function checkValidity(cert: X509Certificate, now: number, role: string): void {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new CertificateError('MALFORMED', `${role} ${describeCert(cert)}: unreadable validity period`);
  if (now < from) throw new CertificateError('NOT_YET_VALID', `${role} ${describeCert(cert)} is not valid before ${new Date(from).toISOString()} (check the clock)`);
  if (now > to) throw new CertificateError('EXPIRED', `${role} ${describeCert(cert)} expired ${new Date(to).toISOString()}`);
}

function requireUsage(cert: X509Certificate, usage: KeyUsage, role: string): void {
  const ku = keyUsageOf(cert);
  if (ku && !ku.has(usage))
    throw new CertificateError('KEY_USAGE', `${role} ${describeCert(cert)} has key usage ${[...ku].join(', ') || 'none'}, not ${usage}`);
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

export interface VerifiedChain {
  leaf: X509Certificate;
  /** Leaf first, trust anchor last (a single element when the anchor itself signed). */
  path: X509Certificate[];
}

export interface VerifyOptions {
  /** Milliseconds since the epoch; default now. */
  now?: number;
}

/** The fleet's trust anchors (more than one while a CA is being rolled over). */
export class FleetCa {
  private constructor(readonly anchors: readonly X509Certificate[]) {}

  static fromPem(pem: string | Uint8Array, what = 'fleet CA'): FleetCa {
    const anchors = parseCertificates(pem, what);
    for (const a of anchors) {
      if (!a.ca) throw new CertificateError('NOT_A_CA', `${what}: ${describeCert(a)} is not a CA certificate (basicConstraints CA:TRUE missing)`);
      requireUsage(a, 'keyCertSign', what);
    }
    return new FleetCa(anchors);
  }

  /**
   * Checks that chain[0] (the leaf) may sign, and leads to an anchor through the other
   * certificates of the chain (intermediates, any order), every one within its validity period.
   * The leaf may be an anchor itself: the fleet CA signing with its own key.
   */
  verify(chain: readonly X509Certificate[], opts: VerifyOptions = {}): VerifiedChain {
    const now = opts.now ?? Date.now();
    const leaf = chain[0];
    if (!leaf) throw new CertificateError('MALFORMED', 'empty certificate chain');
    checkValidity(leaf, now, 'certificate');
    requireUsage(leaf, 'digitalSignature', 'certificate');
    const path = [leaf];
    const spare = chain.slice(1);
    let current = leaf;
    for (;;) {
      if (this.anchors.some((a) => a.raw.equals(current.raw))) return { leaf, path };
      const anchor = this.anchors.find((a) => issuedBy(current, a));
      if (anchor) {
        checkValidity(anchor, now, 'fleet CA');
        path.push(anchor);
        return { leaf, path };
      }
      if (path.length >= MAX_PATH - 1)
        throw new CertificateError('UNTRUSTED', `${describeCert(leaf)}: no path to the fleet CA within ${MAX_PATH} certificates`);
      const i = spare.findIndex((c) => issuedBy(current, c));
      if (i === -1) throw new CertificateError('UNTRUSTED', `${describeCert(current)} is not issued by the fleet CA (issuer ${current.issuer.replace(/\n/g, ', ')})`);
      const issuer = spare.splice(i, 1)[0]!;
      if (!issuer.ca) throw new CertificateError('NOT_A_CA', `intermediate ${describeCert(issuer)} is not a CA certificate`);
      requireUsage(issuer, 'keyCertSign', 'intermediate');
      checkValidity(issuer, now, 'intermediate');
      path.push(issuer);
      current = issuer;
    }
  }
}

/** The URI SANs of a certificate, unquoted. */
export function uriSans(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (!san) return [];
  const out: string[] = [];
  // Node writes "URI:a, DNS:b" and JSON-quotes a value that holds a comma or quote.
  const re = /(?:^|, )URI:("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const m of san.matchAll(re)) {
    const v = m[1]!;
    try {
      out.push(v.startsWith('"') ? (JSON.parse(v) as string) : v);
    } catch {
      throw new CertificateError('MALFORMED', `${describeCert(cert)}: unreadable URI SAN ${v}`);
    }
  }
  return out;
}

const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const PEER_ID = /^[A-Za-z0-9]{1,128}$/;

/**
 * What node and operator certificates share: a valid trust domain, a chain to the fleet CA, a
 * leaf that is no CA (`isCa` says what to tell the holder of one), and the leaf's URI SANs.
 */
function verifySpiffeLeaf(
  ca: FleetCa,
  chain: readonly X509Certificate[],
  opts: VerifyOptions & { trustDomain: string },
  isCa: string,
): { verified: VerifiedChain; leaf: X509Certificate; uris: string[] } {
  if (!TRUST_DOMAIN.test(opts.trustDomain)) throw new CertificateError('IDENTITY', `bad trust domain '${opts.trustDomain}'`);
  const verified = ca.verify(chain, opts);
  const leaf = verified.leaf;
  if (leaf.ca) throw new CertificateError('IDENTITY', `${describeCert(leaf)} ${isCa}`);
  return { verified, leaf, uris: uriSans(leaf) };
}

export interface NodeIdentity extends VerifiedChain {
  peerId: string;
  spiffeId: string;
}

/**
 * A node certificate: chains to the fleet CA, may sign, is not a CA, and names exactly one
 * SPIFFE ID of the form spiffe://<trustDomain>/node/<peer-id> (the X509-SVID rule: one URI SAN).
 */
export function verifyNodeCertificate(
  ca: FleetCa,
  chain: readonly X509Certificate[],
  opts: VerifyOptions & { trustDomain: string },
): NodeIdentity {
  const { verified, leaf, uris } = verifySpiffeLeaf(ca, chain, opts, 'is a CA certificate, not a node certificate');
  if (uris.length !== 1) throw new CertificateError('IDENTITY', `${describeCert(leaf)} has ${uris.length} URI SANs; a node certificate has exactly one SPIFFE ID`);
  const prefix = `spiffe://${opts.trustDomain}/node/`;
  const uri = uris[0]!;
  if (!uri.startsWith(prefix)) throw new CertificateError('IDENTITY', `${describeCert(leaf)}: SPIFFE ID ${uri} is not under ${prefix}`);
  const peerId = uri.slice(prefix.length);
  if (!PEER_ID.test(peerId)) throw new CertificateError('IDENTITY', `${describeCert(leaf)}: '${peerId}' is not a peer id`);
  return { ...verified, peerId, spiffeId: uri };
}

const OPERATOR_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

/** An operator name as `pki issue-operator` takes it: it becomes a SPIFFE path segment and a file name. */
export function operatorNameProblem(name: string): string | null {
  return OPERATOR_NAME.test(name) ? null : `'${name.slice(0, 80)}' is not an operator name (1 to 64 letters, digits, '.', '_' or '-', not starting with '.')`;
}

export interface OperatorIdentity extends VerifiedChain {
  operator: string;
  spiffeId: string;
}

/**
 * An operator certificate, the only kind that may sign fleet commands: chains to the fleet CA,
 * is not a CA, and names exactly one SPIFFE ID spiffe://<trustDomain>/operator/<name>. The fleet
 * CA's own key does not sign commands (it stays offline, on the operator's machine), and a node
 * certificate does not either (a router taken over must not command the rest of the fleet).
 */
export function verifyOperatorCertificate(
  ca: FleetCa,
  chain: readonly X509Certificate[],
  opts: VerifyOptions & { trustDomain: string },
): OperatorIdentity {
  const { verified, leaf, uris } = verifySpiffeLeaf(
    ca,
    chain,
    opts,
    'is a CA certificate; commands are signed by an operator certificate (x0tta6bl4 pki issue-operator), never by a CA key',
  );
  const prefix = `spiffe://${opts.trustDomain}/operator/`;
  if (uris.length === 1 && uris[0]!.startsWith(`spiffe://${opts.trustDomain}/node/`))
    throw new CertificateError('IDENTITY', `${describeCert(leaf)} is a node certificate (${uris[0]}); commands are signed by an operator certificate (x0tta6bl4 pki issue-operator)`);
  if (uris.length !== 1 || !uris[0]!.startsWith(prefix))
    throw new CertificateError('IDENTITY', `${describeCert(leaf)} is not an operator certificate: it needs exactly one SPIFFE ID under ${prefix} (x0tta6bl4 pki issue-operator)`);
  const operator = uris[0]!.slice(prefix.length);
  if (operatorNameProblem(operator)) throw new CertificateError('IDENTITY', `${describeCert(leaf)}: '${operator.slice(0, 80)}' is not an operator name`);
  return { ...verified, operator, spiffeId: uris[0]! };
}
