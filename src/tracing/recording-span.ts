// The spans a live tracer hands out. A sampled span records what it is told and, once ended,
// goes to the exporter's queue; an unsampled one only carries its context (so children and
// other routers keep the trace id and the "not sampled" decision) and records nothing.
import type { AttrValue, Attributes, Span, SpanContext, SpanKind } from './api.ts';
import { isValidSpanContext } from './propagation.ts';
import { LIMITS, type EventData, type LinkData, type SpanData } from './span-data.ts';

/** Wall-clock milliseconds with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function cleanValue(v: AttrValue): AttrValue | undefined {
  if (typeof v === 'string') return v.length > LIMITS.stringChars ? v.slice(0, LIMITS.stringChars) : v;
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : v;
  if (typeof v === 'boolean') return v;
  return undefined; // a caller in plain JS passed an object: left out rather than exported wrong
}

/** Copies up to `limit` valid attributes; returns how many were left out. */
function copyAttributes(into: Attributes, from: Attributes | undefined, limit: number): number {
  if (!from) return 0;
  let dropped = 0;
  let count = Object.keys(into).length;
  for (const key of Object.keys(from)) {
    const v = cleanValue(from[key] as AttrValue);
    if (v === undefined) { dropped++; continue; }
    if (!(key in into) && count >= limit) { dropped++; continue; }
    if (!(key in into)) count++;
    into[key] = v;
  }
  return dropped;
}

function validTime(ms: number | undefined, fallback: number): number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : fallback;
}

export class NonRecordingSpan implements Span {
  constructor(readonly context: SpanContext) {}
  setAttribute(): void {}
  addEvent(): void {}
  addLink(): void {}
  setStatus(): void {}
  end(): void {}
}

export class RecordingSpan implements Span, SpanData {
  readonly attributes: Attributes = {};
  droppedAttributes = 0;
  readonly events: EventData[] = [];
  droppedEvents = 0;
  readonly links: LinkData[] = [];
  droppedLinks = 0;
  statusCode: 0 | 1 | 2 = 0;
  statusMessage = '';
  endTimeMs = 0;
  private ended = false;

  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string | undefined;
  readonly startTimeMs: number;

  constructor(
    readonly context: SpanContext,
    readonly parentSpanId: string | undefined,
    readonly parentRemote: boolean,
    readonly name: string,
    readonly kind: SpanKind,
    startTimeMs: number | undefined,
    attributes: Attributes | undefined,
    links: SpanContext[] | undefined,
    private readonly onEnd: (span: RecordingSpan) => void,
  ) {
    this.traceId = context.traceId;
    this.spanId = context.spanId;
    this.traceState = context.traceState;
    this.startTimeMs = validTime(startTimeMs, nowMs());
    this.droppedAttributes = copyAttributes(this.attributes, attributes, LIMITS.attributes);
    if (links) for (const l of links) this.addLink(l);
  }

  setAttribute(key: string, value: AttrValue): void {
    if (this.ended) return;
    this.droppedAttributes += copyAttributes(this.attributes, { [key]: value }, LIMITS.attributes);
  }

  addEvent(name: string, attributes?: Attributes, timeMs?: number): void {
    if (this.ended) return;
    if (this.events.length >= LIMITS.events) { this.droppedEvents++; return; }
    let attrs: Attributes | undefined;
    let dropped = 0;
    if (attributes) { attrs = {}; dropped = copyAttributes(attrs, attributes, LIMITS.attributes); }
    this.events.push({ name: String(name), timeMs: validTime(timeMs, nowMs()), attributes: attrs, droppedAttributes: dropped });
  }

  addLink(ctx: SpanContext, attributes?: Attributes): void {
    // The no-op span's all-zero context (tracing off somewhere) links to nothing.
    if (this.ended || !ctx || !isValidSpanContext(ctx)) return;
    if (this.links.length >= LIMITS.links) { this.droppedLinks++; return; }
    let attrs: Attributes | undefined;
    let dropped = 0;
    if (attributes) { attrs = {}; dropped = copyAttributes(attrs, attributes, LIMITS.attributes); }
    this.links.push({
      traceId: ctx.traceId, spanId: ctx.spanId, traceState: ctx.traceState, sampled: ctx.sampled,
      remote: ctx.remote === true, attributes: attrs, droppedAttributes: dropped,
    });
  }

  setStatus(code: 'ok' | 'error', message?: string): void {
    // OpenTelemetry: Ok is final; an error's message is kept, an ok's is not (it has none).
    if (this.ended || this.statusCode === 1) return;
    if (code === 'ok') { this.statusCode = 1; this.statusMessage = ''; }
    else if (code === 'error') { this.statusCode = 2; this.statusMessage = message === undefined ? '' : String(message).slice(0, LIMITS.stringChars); }
  }

  end(endTimeMs?: number): void {
    if (this.ended) return;
    this.ended = true;
    this.endTimeMs = Math.max(this.startTimeMs, validTime(endTimeMs, nowMs()));
    this.onEnd(this);
  }
}
