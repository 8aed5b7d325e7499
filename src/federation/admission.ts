// Fleet admission: the check a node runs on the certificate chain a peer presents right after
// the noise handshake. The peer is who the fleet CA says only if the chain verifies, the SPIFFE
// ID names exactly the noise-authenticated peer id, and the certificate is not revoked.
import { X509Certificate } from 'node:crypto';
import { CertificateError, parseCertificates, verifyNodeCertificate, type FleetCa, type NodeIdentity } from './fleet-ca.ts';
import { publicKeyOfPeerId } from './ed25519.ts';

export type AdmissionCode = 'MALFORMED' | 'UNTRUSTED' | 'EXPIRED' | 'NOT_YET_VALID' | 'KEY_USAGE' | 'NOT_A_CA' | 'IDENTITY' | 'PEER_MISMATCH' | 'REVOKED';

export class AdmissionError extends Error {
  override readonly name = 'AdmissionError';
  constructor(
    readonly code: AdmissionCode,
    message: string,
  ) {
    super(message);
  }
}

export function admit(
  ca: FleetCa,
  chainPem: Uint8Array | string,
  remotePeerId: string,
  o: { trustDomain: string; now?: number; revoked: (leaf: X509Certificate) => boolean },
): NodeIdentity {
  let id: NodeIdentity;
  try {
    id = verifyNodeCertificate(ca, parseCertificates(chainPem, `certificate of ${remotePeerId}`), { trustDomain: o.trustDomain, now: o.now });
  } catch (e) {
    if (e instanceof CertificateError) throw new AdmissionError(e.code, e.message);
    throw e;
  }
  if (id.peerId !== remotePeerId) throw new AdmissionError('PEER_MISMATCH', `certificate names ${id.peerId}, but the connection is authenticated as ${remotePeerId}`);
  // Certificates made by `x0tta6bl4 pki` carry the libp2p key itself; then it must be that key.
  // (An X509-SVID from SPIRE has its own key and binds the peer only through the SPIFFE ID.)
  if (id.leaf.publicKey.asymmetricKeyType === 'ed25519') {
    const spki = id.leaf.publicKey.export({ type: 'spki', format: 'der' });
    const peerKey = publicKeyOfPeerId(remotePeerId);
    if (!peerKey || !Buffer.from(peerKey).equals(spki.subarray(spki.length - 32)))
      throw new AdmissionError('PEER_MISMATCH', `certificate key is not the libp2p key of ${remotePeerId}`);
  }
  if (o.revoked(id.leaf)) throw new AdmissionError('REVOKED', `certificate serial ${id.leaf.serialNumber} of ${remotePeerId} is revoked`);
  return id;
}

export { X509Certificate };
