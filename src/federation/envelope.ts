// The signed envelope every application message travels in. Binary, fixed header first, so a
// malformed message is rejected after a few length checks and before any signature work.
//
//   magic "X6" | version 1 | sender ed25519 key (32) | seq u64 | round u32 | timestamp u64 (ms)
//   | topic length u8 | topic (UTF-8) | payload length u32 | payload | ed25519 signature (64)
//
// The signature covers a domain tag naming the fleet, then every byte before it: a message
// cannot be moved to another topic, another fleet, or off this envelope format.
//
// Version 2 is version 1 with the sender's trace context after the topic (trace length u8 |
// W3C traceparent, then "\n" and the tracestate if any), signed with the rest. It is written only
// for a message sent inside a trace (tracing on); version 1 is still read, and still written
// otherwise, so a fleet with tracing off sends exactly what it sent before.
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verifyEd25519, type Signer } from './ed25519.ts';

export const ENVELOPE_VERSION = 1;
export const TRACED_ENVELOPE_VERSION = 2;
const MAX_TRACE_BYTES = 255;
const MAGIC0 = 0x58; // 'X'
const MAGIC1 = 0x36; // '6'
const HEADER = 3 + PUBLIC_KEY_BYTES + 8 + 4 + 8 + 1;
export const MAX_TOPIC_BYTES = 200;
export const ENVELOPE_OVERHEAD = HEADER + MAX_TOPIC_BYTES + 1 + MAX_TRACE_BYTES + 4 + SIGNATURE_BYTES;

/** The sender's trace context as it travelled (propagation.ts extractContext reads it). */
export interface EnvelopeTrace {
  traceparent: string;
  tracestate?: string;
}

export interface Envelope {
  sender: Uint8Array;
  seq: bigint;
  round: number;
  timestamp: number;
  topic: string;
  payload: Uint8Array;
  /** Version 2 only: the sender's trace context. */
  trace?: EnvelopeTrace;
  /** The signed bytes and the signature, kept for verification. */
  signed: Uint8Array;
  signature: Uint8Array;
}

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function domain(fleet: string): Uint8Array {
  return utf8.encode(`x0tta6bl4/msg/v1/${fleet}\0`);
}

export function encodeEnvelope(
  fleet: string,
  signer: Signer,
  m: { seq: bigint; round: number; timestamp: number; topic: string; payload: Uint8Array; trace?: EnvelopeTrace },
): Uint8Array {
  const topic = utf8.encode(m.topic);
  if (topic.length === 0 || topic.length > MAX_TOPIC_BYTES) throw new EnvelopeError(`topic must be 1..${MAX_TOPIC_BYTES} bytes`);
  if (!Number.isInteger(m.round) || m.round < 0 || m.round > 0xffffffff) throw new EnvelopeError('round must be an integer in 0..2^32-1');
  const trace = m.trace ? traceBytes(m.trace) : null;
  const traceLen = trace ? 1 + trace.length : 0;
  const len = HEADER + topic.length + traceLen + 4 + m.payload.length;
  const buf = new Uint8Array(len + SIGNATURE_BYTES);
  const dv = new DataView(buf.buffer);
  buf[0] = MAGIC0;
  buf[1] = MAGIC1;
  buf[2] = trace ? TRACED_ENVELOPE_VERSION : ENVELOPE_VERSION;
  buf.set(signer.publicKey, 3);
  let at = 3 + PUBLIC_KEY_BYTES;
  dv.setBigUint64(at, m.seq);
  dv.setUint32(at + 8, m.round);
  dv.setBigUint64(at + 12, BigInt(Math.floor(m.timestamp)));
  buf[at + 20] = topic.length;
  at = HEADER;
  buf.set(topic, at);
  at += topic.length;
  if (trace) {
    buf[at] = trace.length;
    buf.set(trace, at + 1);
    at += 1 + trace.length;
  }
  dv.setUint32(at, m.payload.length);
  buf.set(m.payload, at + 4);
  buf.set(signer.sign(concat(domain(fleet), buf.subarray(0, len))), len);
  return buf;
}

/** Structure only: no signature check (that is verifyEnvelope, after the cheap checks). */
export function decodeEnvelope(buf: Uint8Array, maxBytes: number): Envelope {
  if (buf.length > maxBytes) throw new EnvelopeError(`${buf.length} bytes, more than ${maxBytes}`);
  if (buf.length < HEADER + 4 + SIGNATURE_BYTES) throw new EnvelopeError('shorter than an envelope header');
  if (buf[0] !== MAGIC0 || buf[1] !== MAGIC1) throw new EnvelopeError('not an x0tta6bl4 envelope');
  const version = buf[2];
  if (version !== ENVELOPE_VERSION && version !== TRACED_ENVELOPE_VERSION) throw new EnvelopeError(`envelope version ${version} (this node reads ${ENVELOPE_VERSION} and ${TRACED_ENVELOPE_VERSION})`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const k = 3 + PUBLIC_KEY_BYTES;
  const ts = dv.getBigUint64(k + 12);
  if (ts > BigInt(Number.MAX_SAFE_INTEGER)) throw new EnvelopeError('timestamp out of range');
  const topicLen = buf[k + 20]!;
  if (topicLen === 0 || topicLen > MAX_TOPIC_BYTES) throw new EnvelopeError('bad topic length');
  let pAt = HEADER + topicLen;
  let trace: EnvelopeTrace | undefined;
  if (version === TRACED_ENVELOPE_VERSION) {
    if (pAt + 1 > buf.length) throw new EnvelopeError('truncated topic');
    const n = buf[pAt]!;
    if (n === 0 || pAt + 1 + n > buf.length) throw new EnvelopeError('bad trace context length');
    trace = parseTrace(buf.subarray(pAt + 1, pAt + 1 + n));
    pAt += 1 + n;
  }
  if (pAt + 4 > buf.length) throw new EnvelopeError('truncated topic');
  const payloadLen = dv.getUint32(pAt);
  const sigAt = pAt + 4 + payloadLen;
  if (sigAt + SIGNATURE_BYTES !== buf.length) throw new EnvelopeError('payload length does not match the envelope size');
  let topic: string;
  try {
    topic = utf8Strict.decode(buf.subarray(HEADER, HEADER + topicLen));
  } catch {
    throw new EnvelopeError('topic is not UTF-8');
  }
  return {
    sender: buf.subarray(3, k),
    seq: dv.getBigUint64(k),
    round: dv.getUint32(k + 8),
    timestamp: Number(ts),
    topic,
    payload: buf.subarray(pAt + 4, sigAt),
    ...(trace ? { trace } : {}),
    signed: buf.subarray(0, sigAt),
    signature: buf.subarray(sigAt),
  };
}

export function verifyEnvelope(fleet: string, e: Envelope): boolean {
  return verifyEd25519(e.sender, concat(domain(fleet), e.signed), e.signature);
}

const PRINTABLE = /^[\x20-\x7e]+$/;

/** traceparent, then "\n" and the tracestate when it fits (the tracestate is optional, the parent is not). */
function traceBytes(t: EnvelopeTrace): Uint8Array {
  if (!PRINTABLE.test(t.traceparent) || t.traceparent.length > MAX_TRACE_BYTES) throw new EnvelopeError('traceparent must be printable ASCII of at most 255 bytes');
  const full = t.tracestate && PRINTABLE.test(t.tracestate) ? `${t.traceparent}\n${t.tracestate}` : t.traceparent;
  return utf8.encode(full.length <= MAX_TRACE_BYTES ? full : t.traceparent);
}

function parseTrace(b: Uint8Array): EnvelopeTrace {
  const text = String.fromCharCode(...b);
  const [traceparent, tracestate, extra] = text.split('\n');
  if (!traceparent || extra !== undefined || !PRINTABLE.test(text.replace('\n', ' '))) throw new EnvelopeError('trace context is not printable ASCII');
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
