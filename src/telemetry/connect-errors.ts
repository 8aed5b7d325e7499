// Turns what Node and MQTT.js report on a failed connection into one line an operator can act
// on, and says whether it needs the operator (credentials, certificates) or just time (network).

export interface ConnectProblem {
  reason: string;
  /** Credentials or certificates are wrong: retrying alone will not fix it. */
  needsOperator: boolean;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused (broker down?)',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'cannot resolve the broker host name',
  EAI_AGAIN: 'DNS lookup failed (no uplink?)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'broker host unreachable',
  ENETUNREACH: 'network unreachable (no uplink?)',
  EPIPE: 'connection closed by the broker',
};

// OpenSSL's verification codes for a broker certificate we do not trust.
const UNTRUSTED_BROKER = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

export function describeConnectError(err: unknown): ConnectProblem {
  const e = err as { code?: unknown; message?: string };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = e?.message ?? String(err);
  if (code && NETWORK[code]) return { reason: `${NETWORK[code]} (${code})`, needsOperator: false };
  if (code && UNTRUSTED_BROKER.has(code))
    return { reason: `TLS: the broker's certificate is not trusted (${code}); check ca_file`, needsOperator: true };
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return { reason: `TLS: the broker's certificate is outside its validity period (${code}); check the clock and the broker`, needsOperator: true };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { reason: `TLS: the broker's certificate is for another host name (${message})`, needsOperator: true };
  if (code?.startsWith('ERR_SSL_') && /ALERT|CERTIFICATE/.test(code))
    return { reason: `TLS: the broker refused the handshake (${code}); check cert_file/key_file`, needsOperator: true };
  // MQTT 3.1.1 CONNACK return codes, as MQTT.js reports them.
  if (typeof e?.code === 'number') {
    if (e.code === 4) return { reason: 'broker refused: bad username or password', needsOperator: true };
    if (e.code === 5) return { reason: 'broker refused: not authorized', needsOperator: true };
    if (e.code === 2) return { reason: 'broker refused the client id', needsOperator: true };
    return { reason: `broker refused the connection (${message})`, needsOperator: false };
  }
  if (/connack timeout|timeout/i.test(message)) return { reason: 'no answer from the broker in time (connack timeout)', needsOperator: false };
  return { reason: code ? `${message} (${code})` : message, needsOperator: false };
}
