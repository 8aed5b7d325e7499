// ExportTraceServiceRequest in protobuf (opentelemetry-proto, collector/trace/v1 and
// trace/v1): one ResourceSpans with our resource, one ScopeSpans, the spans. Field numbers are
// those of the .proto files; test/tracing decodes the output with the official definitions.
import type { AttrValue, Attributes, SpanKind } from './api.ts';
import { ProtobufWriter } from './protobuf-writer.ts';
import type { SpanData } from './span-data.ts';

export interface ResourceInfo { serviceName: string; serviceVersion: string; hostName: string }
export interface ScopeInfo { name: string; version: string }

const KIND: Record<SpanKind, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

// Span.flags / Link.flags: W3C trace flags in bits 0-7, then "is_remote is known" (0x100) and
// "is remote" (0x200) for the parent (span) or the linked context (link).
const FLAG_SAMPLED = 0x01;
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

// Milliseconds (with a fraction) to unix nanoseconds, exact to the microsecond, as two 32-bit
// halves without BigInt (a traced cycle writes ~14 timestamps): whole ms = wh·4096 + wl, so
// ns = (wh·10^6)·4096 + (wl·10^6 + µs·1000), each part exact in a double.
let nanosLo = 0;
let nanosHi = 0;
function nanos(ms: number): void {
  let whole = Math.floor(ms);
  let micros = Math.round((ms - whole) * 1000);
  if (micros === 1000) { whole += 1; micros = 0; }
  const a = Math.floor(whole / 4096) * 1_000_000;
  const b = (whole % 4096) * 1_000_000 + micros * 1000;
  const lo = (a % 1_048_576) * 4096 + b; // < 2^33
  nanosLo = lo % 4_294_967_296;
  nanosHi = Math.floor(a / 1_048_576) + Math.floor(lo / 4_294_967_296);
}

function fixed64Nanos(w: ProtobufWriter, field: number, ms: number): ProtobufWriter {
  nanos(ms);
  return w.fixed64(field, nanosLo, nanosHi);
}

// common/v1: KeyValue { key = 1; AnyValue value = 2 }, AnyValue { string 1, bool 2, int 3, double 4 }
function keyValue(w: ProtobufWriter, field: number, key: string, v: AttrValue): void {
  w.begin(field).string(1, key, true).begin(2);
  if (typeof v === 'string') w.string(1, v, true);
  else if (typeof v === 'boolean') w.bool(2, v);
  else if (Number.isSafeInteger(v)) w.int64(3, v);
  else w.double(4, v);
  w.end().end();
}

function attributes(w: ProtobufWriter, field: number, attrs: Attributes | undefined): void {
  if (!attrs) return;
  for (const key of Object.keys(attrs)) keyValue(w, field, key, attrs[key] as AttrValue);
}

function span(w: ProtobufWriter, s: SpanData): void {
  w.begin(2); // ScopeSpans.spans
  w.hexBytes(1, s.traceId).hexBytes(2, s.spanId).string(3, s.traceState ?? '').hexBytes(4, s.parentSpanId);
  w.string(5, s.name).uint(6, KIND[s.kind] ?? 1);
  fixed64Nanos(w, 7, s.startTimeMs);
  fixed64Nanos(w, 8, s.endTimeMs);
  attributes(w, 9, s.attributes);
  w.uint(10, s.droppedAttributes);
  for (const e of s.events) {
    fixed64Nanos(w.begin(11), 1, e.timeMs).string(2, e.name);
    attributes(w, 3, e.attributes);
    w.uint(4, e.droppedAttributes).end();
  }
  w.uint(12, s.droppedEvents);
  for (const l of s.links) {
    w.begin(13).hexBytes(1, l.traceId).hexBytes(2, l.spanId).string(3, l.traceState ?? '');
    attributes(w, 4, l.attributes);
    w.uint(5, l.droppedAttributes).fixed32(6, (l.sampled ? FLAG_SAMPLED : 0) | HAS_IS_REMOTE | (l.remote ? IS_REMOTE : 0)).end();
  }
  w.uint(14, s.droppedLinks);
  if (s.statusCode !== 0) w.begin(15).string(2, s.statusMessage).uint(3, s.statusCode).end();
  // Only sampled spans are recorded, so the sampled bit is always set; a root has no parent to be remote.
  w.fixed32(16, FLAG_SAMPLED | (s.parentSpanId ? HAS_IS_REMOTE | (s.parentRemote ? IS_REMOTE : 0) : 0));
  w.end();
}

export function encodeTraceRequest(resource: ResourceInfo, scope: ScopeInfo, spans: readonly SpanData[]): Uint8Array {
  const w = new ProtobufWriter(1024 + spans.length * 256);
  w.begin(1); // ExportTraceServiceRequest.resource_spans
  w.begin(1); // ResourceSpans.resource
  keyValue(w, 1, 'service.name', resource.serviceName);
  keyValue(w, 1, 'service.version', resource.serviceVersion);
  keyValue(w, 1, 'host.name', resource.hostName);
  w.end();
  w.begin(2); // ResourceSpans.scope_spans
  w.begin(1).string(1, scope.name).string(2, scope.version).end();
  for (const s of spans) span(w, s);
  w.end().end();
  return w.finish();
}
