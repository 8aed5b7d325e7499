// The value of a quarantine vote entry (key vote/<target>/<voter>): JSON `{reason}`, and, only
// for a vote an operator's command cast with tracing on, the command's trace context
// `{reason, trace: {traceparent, tracestate?}}`. The value is inside the entry's signature, so
// the trace context is signed by the voter. Routers before this field never read a vote's value
// (they count keys and tombstones only), so they still accept traced votes; and a vote cast with
// tracing off is byte for byte what it was before. A withdrawal (tombstone) is empty, or
// `{trace}` when traced.
import type { EnvelopeTrace } from './envelope.ts';

const utf8 = new TextEncoder();
/** Same bound as the federation envelope's trace field. */
const MAX_TRACE_BYTES = 255;
const PRINTABLE = /^[\x20-\x7e]+$/;
/** Anything bigger is not a vote this node wrote; not worth parsing. */
const MAX_VOTE_VALUE = 2048;

export function encodeVoteValue(on: boolean, reason: string, trace?: EnvelopeTrace): Uint8Array {
  const t = trace && validTrace(trace) ? { trace: tidy(trace) } : {};
  if (on) return utf8.encode(JSON.stringify({ reason: reason.slice(0, 200), ...t }));
  return 'trace' in t ? utf8.encode(JSON.stringify(t)) : new Uint8Array();
}

/** The trace context a vote carries; undefined for none or anything malformed (it comes from another router). */
export function voteTrace(value: Uint8Array): EnvelopeTrace | undefined {
  if (value.length === 0 || value.length > MAX_VOTE_VALUE) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(value).toString('utf8'));
  } catch {
    return undefined;
  }
  const t = typeof v === 'object' && v !== null ? (v as { trace?: unknown }).trace : undefined;
  if (typeof t !== 'object' || t === null) return undefined;
  const { traceparent, tracestate } = t as Record<string, unknown>;
  if (typeof traceparent !== 'string' || (tracestate !== undefined && typeof tracestate !== 'string')) return undefined;
  const out: EnvelopeTrace = tracestate ? { traceparent, tracestate } : { traceparent };
  return validTrace(out) ? out : undefined;
}

function validTrace(t: EnvelopeTrace): boolean {
  return PRINTABLE.test(t.traceparent) && t.traceparent.length <= MAX_TRACE_BYTES;
}

/** The tracestate is dropped when it is not printable or does not fit, as in the envelope. */
function tidy(t: EnvelopeTrace): EnvelopeTrace {
  return t.tracestate && PRINTABLE.test(t.tracestate) && t.tracestate.length <= MAX_TRACE_BYTES ? { traceparent: t.traceparent, tracestate: t.tracestate } : { traceparent: t.traceparent };
}
