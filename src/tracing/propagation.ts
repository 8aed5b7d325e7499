// Trace context in and out of carriers (MQTT envelopes, federation messages, HTTP-like header
// maps). Out: W3C traceparent/tracestate only. In: W3C first, then B3 single (`b3`), then B3
// multi (X-B3-*); keys are case-insensitive. Input comes from other routers and the broker, so
// anything odd yields undefined, never an exception.
import type { SpanContext } from './api.ts';

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
// version-traceid-parentid-flags; versions above 00 may append fields after another '-'.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const B3_TRACE_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
/** W3C: at most 32 list members; we also cap the length so a peer cannot bloat every span. */
const TRACESTATE_MAX_CHARS = 512;
const TRACESTATE_MEMBERS = 32;
const TRACESTATE_MEMBER = /^[a-z0-9][a-z0-9_\-*/@]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** True for ids a receiver will accept: right length, lowercase hex, not all zero. */
export function isValidSpanContext(ctx: SpanContext): boolean {
  return TRACE_ID.test(ctx.traceId) && SPAN_ID.test(ctx.spanId) && ctx.traceId !== ZERO_TRACE && ctx.spanId !== ZERO_SPAN;
}

/**
 * W3C headers for `ctx`. Check `tracer.enabled` or isValidSpanContext(ctx) first: the no-op
 * span's context has all-zero ids, which every receiver (and extractContext) refuses.
 */
export function injectContext(ctx: SpanContext): { traceparent: string; tracestate?: string } {
  const traceparent = `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
  return ctx.traceState ? { traceparent, tracestate: ctx.traceState } : { traceparent };
}

export function extractContext(carrier: Readonly<Record<string, unknown>>): SpanContext | undefined {
  try {
    if (carrier === null || typeof carrier !== 'object') return undefined;
    const get = headerReader(carrier);
    return fromW3C(get) ?? fromB3Single(get) ?? fromB3Multi(get);
  } catch {
    // A hostile carrier (throwing getter, Proxy) is just "no context".
    return undefined;
  }
}

type HeaderReader = (lowerName: string) => string | undefined;

/** Case-insensitive lookup; a header given several times (string[]) counts only if its values agree. */
function headerReader(carrier: Readonly<Record<string, unknown>>): HeaderReader {
  const byLower = new Map<string, unknown>();
  for (const key of Object.keys(carrier)) {
    const lower = key.toLowerCase();
    if (!byLower.has(lower)) byLower.set(lower, carrier[key]);
  }
  return (name) => {
    const v = byLower.get(name);
    if (typeof v === 'string') return v.trim();
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) {
      // tracestate may legally be split over several headers; the others must be single.
      if (name === 'tracestate') return v.map((x: string) => x.trim()).join(',');
      if (v.length === 1) return (v[0] as string).trim();
    }
    return undefined;
  };
}

function fromW3C(get: HeaderReader): SpanContext | undefined {
  const tp = get('traceparent');
  if (tp === undefined) return undefined;
  const m = TRACEPARENT.exec(tp);
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff') return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  const ctx: SpanContext = { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1, remote: true };
  const ts = validTraceState(get('tracestate'));
  if (ts !== undefined) ctx.traceState = ts;
  return ctx;
}

/** An invalid tracestate is dropped on its own; the traceparent still counts (W3C 3.3.1.1). */
function validTraceState(ts: string | undefined): string | undefined {
  if (ts === undefined || ts.length === 0 || ts.length > TRACESTATE_MAX_CHARS) return undefined;
  const members = ts.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (members.length === 0 || members.length > TRACESTATE_MEMBERS) return undefined;
  if (!members.every((s) => TRACESTATE_MEMBER.test(s))) return undefined;
  return members.join(',');
}

/** 64-bit B3 trace ids are left-padded to 128 bits, as the OpenTelemetry B3 propagator does. */
function b3TraceId(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const id = raw.toLowerCase();
  if (!B3_TRACE_ID.test(id)) return undefined;
  const full = id.padStart(32, '0');
  return full === ZERO_TRACE ? undefined : full;
}

function b3SpanId(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const id = raw.toLowerCase();
  return SPAN_ID.test(id) && id !== ZERO_SPAN ? id : undefined;
}

/**
 * B3 sampling state: '1' and 'd' (debug) sample, '0' does not. An absent ("deferred") decision
 * counts as not sampled, as in the OpenTelemetry B3 propagator; anything else is malformed.
 */
function b3Sampled(raw: string | undefined): boolean | undefined {
  if (raw === undefined) return false;
  switch (raw.toLowerCase()) {
    case '1': case 'd': case 'true': return true;
    case '0': case 'false': return false;
    default: return undefined;
  }
}

function fromB3Single(get: HeaderReader): SpanContext | undefined {
  const b3 = get('b3');
  if (b3 === undefined) return undefined;
  // {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]; a lone sampling state has no ids.
  const parts = b3.split('-');
  if (parts.length < 2 || parts.length > 4) return undefined;
  const traceId = b3TraceId(parts[0]);
  const spanId = b3SpanId(parts[1]);
  if (parts[2] === 'true' || parts[2] === 'false') return undefined; // only the multi form spells it out
  const sampled = b3Sampled(parts[2]);
  if (parts.length === 4 && b3SpanId(parts[3]) === undefined) return undefined;
  if (traceId === undefined || spanId === undefined || sampled === undefined) return undefined;
  return { traceId, spanId, sampled, remote: true };
}

function fromB3Multi(get: HeaderReader): SpanContext | undefined {
  const traceId = b3TraceId(get('x-b3-traceid'));
  const spanId = b3SpanId(get('x-b3-spanid'));
  if (traceId === undefined || spanId === undefined) return undefined;
  const rawSampled = get('x-b3-sampled');
  if (rawSampled?.toLowerCase() === 'd') return undefined; // 'd' belongs in X-B3-Flags
  let sampled = b3Sampled(rawSampled);
  if (sampled === undefined) return undefined;
  if (get('x-b3-flags') === '1') sampled = true; // debug implies sampled
  return { traceId, spanId, sampled, remote: true };
}
