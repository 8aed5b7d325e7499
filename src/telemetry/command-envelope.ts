// The signed-command envelope: what an operator publishes on .../cmd/<name>. It names one node of
// one fleet, is fresh (ts) and unique (nonce), and carries the signer's certificate so that a
// node needs nothing but the fleet CA to check it. The signature covers a canonical byte string
// (a JSON array in fixed order), never the JSON text as received, so whitespace or key order in
// transit cannot matter. An optional `trace` carries the operator's trace context (W3C
// traceparent/tracestate, or B3 on input): when present it is signed too, as the array's last
// element, so an envelope without it signs the same bytes as before tracing existed.
import { createPrivateKey, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { PAYLOAD_VERSION } from './topics.ts';

export const COMMAND_NAMES = ['status', 'dry-run', 'run-action', 'set', 'learning-round', 'quarantine-vote'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export interface CommandEnvelope {
  v: typeof PAYLOAD_VERSION;
  fleet: string;
  node: string;
  cmd: string;
  args: string[];
  /** ISO 8601 UTC, e.g. 2026-01-31T12:00:00.000Z. */
  ts: string;
  /** 16..64 characters of [A-Za-z0-9_-]; base64url of 16 random bytes by default. */
  nonce: string;
  /** PEM: the signer's certificate first, then any intermediates up to the fleet CA. */
  cert: string;
  /** base64 signature over signedBytes(). */
  sig: string;
  /** Trace context headers (keys lowercase, TRACE_KEYS), signed with the rest. */
  trace?: Record<string, string>;
}

/** The trace context headers an envelope may carry (propagation.ts reads them). */
export const TRACE_KEYS: readonly string[] = ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'];
const MAX_TRACE_VALUE = 512;

export const MAX_ENVELOPE_BYTES = 32 * 1024;
const MAX_ARGS = 8;
const MAX_ARG_LENGTH = 512;
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;
const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const CONTROL = /[\x00-\x1f\x7f]/;
const DOMAIN = 'x0tta6bl4-command-v1\n';

/** A reason why an envelope is not acceptable, with a stable code for scripts. */
export class CommandRejected extends Error {
  override readonly name = 'CommandRejected';
  constructor(
    readonly code: RejectCode,
    message: string,
  ) {
    super(message);
  }
}

export type RejectCode =
  | 'too-large'
  | 'malformed'
  | 'version'
  | 'wrong-topic'
  | 'wrong-node'
  | 'stale'
  | 'untrusted'
  | 'bad-signature'
  | 'replay'
  | 'busy'
  | 'unknown-command'
  | 'bad-args'
  | 'disabled'
  | 'failed';

export function signedBytes(e: Pick<CommandEnvelope, 'v' | 'fleet' | 'node' | 'cmd' | 'args' | 'ts' | 'nonce' | 'trace'>): Buffer {
  const fields: unknown[] = [e.v, e.fleet, e.node, e.cmd, e.args, e.ts, e.nonce];
  // Sorted pairs: the order the keys arrived in cannot matter.
  if (e.trace && Object.keys(e.trace).length) fields.push(Object.entries(e.trace).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return Buffer.from(DOMAIN + JSON.stringify(fields), 'utf8');
}

// Ed25519/Ed448 sign the message itself; RSA and ECDSA sign its SHA-256.
function digestFor(key: KeyObject): string | null {
  const t = key.asymmetricKeyType;
  return t === 'ed25519' || t === 'ed448' ? null : 'sha256';
}

/** Checks the signature with the public key of the envelope's first certificate. */
export function signatureValid(e: CommandEnvelope, signer: X509Certificate): boolean {
  const key = signer.publicKey;
  try {
    return verify(digestFor(key), signedBytes(e), key, Buffer.from(e.sig, 'base64'));
  } catch {
    return false; // a key type that cannot verify this signature at all
  }
}

export interface SignRequest {
  fleet: string;
  node: string;
  cmd: string;
  args?: string[];
  /** PEM private key (or a KeyObject) matching the first certificate of `cert`. */
  key: string | KeyObject;
  cert: string;
  now?: number;
  nonce?: string;
  /** Trace context to carry (e.g. injectContext(span.context)); keys from TRACE_KEYS. */
  trace?: Record<string, string>;
}

/** Builds and signs an envelope; refuses a key that does not match the certificate. */
export function signCommand(r: SignRequest): CommandEnvelope {
  const key = typeof r.key === 'string' ? createPrivateKey(r.key) : r.key;
  const env: Omit<CommandEnvelope, 'sig'> = {
    v: PAYLOAD_VERSION,
    fleet: r.fleet,
    node: r.node,
    cmd: r.cmd,
    args: r.args ?? [],
    ts: new Date(r.now ?? Date.now()).toISOString(),
    nonce: r.nonce ?? randomBytes(16).toString('base64url'),
    cert: r.cert,
    ...(r.trace && Object.keys(r.trace).length ? { trace: normalizeTrace(r.trace) } : {}),
  };
  const sig = sign(digestFor(key), signedBytes(env), key).toString('base64');
  const signed = { ...env, sig };
  const leaf = new X509Certificate(r.cert);
  if (!signatureValid(signed, leaf)) throw new Error(`the signing key does not match the certificate ${leaf.subject.replace(/\n/g, ', ')}`);
  // Catches what the node would reject for shape, before it travels.
  parseEnvelope(Buffer.from(JSON.stringify(signed)));
  return signed;
}

/** Shape checks only (no trust, no freshness): the first line of defence for anything received. */
export function parseEnvelope(raw: Uint8Array): CommandEnvelope {
  if (raw.length > MAX_ENVELOPE_BYTES) throw new CommandRejected('too-large', `command of ${raw.length} bytes; at most ${MAX_ENVELOPE_BYTES}`);
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    throw new CommandRejected('malformed', 'not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CommandRejected('malformed', 'not a JSON object');
  const o = doc as Record<string, unknown>;
  if (o.v !== PAYLOAD_VERSION) throw new CommandRejected('version', `envelope version ${JSON.stringify(o.v)}; this agent reads v${PAYLOAD_VERSION}`);
  const str = (k: string, max: number, re?: RegExp): string => {
    const v = o[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new CommandRejected('malformed', `'${k}' must be a string of 1..${max} characters`);
    if (re && !re.test(v)) throw new CommandRejected('malformed', `'${k}' has the wrong format`);
    return v;
  };
  const fleet = str('fleet', 64);
  const node = str('node', 64);
  const cmd = str('cmd', 64);
  const ts = str('ts', 30, TS);
  const nonce = str('nonce', 64, NONCE);
  const cert = str('cert', 16 * 1024);
  const sig = str('sig', 2048, BASE64);
  const args = o.args;
  if (!Array.isArray(args) || args.length > MAX_ARGS) throw new CommandRejected('malformed', `'args' must be an array of at most ${MAX_ARGS} strings`);
  for (const a of args)
    if (typeof a !== 'string' || a.length > MAX_ARG_LENGTH || CONTROL.test(a))
      throw new CommandRejected('malformed', `every arg must be a string of at most ${MAX_ARG_LENGTH} printable characters`);
  for (const k of [fleet, node, cmd]) if (CONTROL.test(k)) throw new CommandRejected('malformed', 'control characters in a name');
  if (!Number.isFinite(Date.parse(ts))) throw new CommandRejected('malformed', `'ts' is not a date`);
  const env: CommandEnvelope = { v: PAYLOAD_VERSION, fleet, node, cmd, args: args as string[], ts, nonce, cert, sig };
  if (o.trace !== undefined) env.trace = normalizeTrace(o.trace);
  return env;
}

/** The `trace` object checked and its keys lowercased; a bad one is refused (it is signed, not ignorable). */
function normalizeTrace(t: unknown): Record<string, string> {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new CommandRejected('malformed', `'trace' must be an object of trace context headers`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(t)) {
    const key = k.toLowerCase();
    if (!TRACE_KEYS.includes(key)) throw new CommandRejected('malformed', `'trace' may hold only ${TRACE_KEYS.join(', ')}; got '${k.slice(0, 40)}'`);
    if (Object.hasOwn(out, key)) throw new CommandRejected('malformed', `'trace' has '${key}' twice`);
    if (typeof v !== 'string' || v.length > MAX_TRACE_VALUE || CONTROL.test(v)) throw new CommandRejected('malformed', `'trace.${key}' must be a string of at most ${MAX_TRACE_VALUE} printable characters`);
    out[key] = v;
  }
  return out;
}
