// The tracing API the agent codes against. Types and NOOP_TRACER only, no Node imports, so that
// code which traces can be loaded anywhere (tests, the LuCI page build) and costs nothing when
// tracing is off: NOOP_TRACER hands out one shared span whose methods do nothing.

export type AttrValue = string | number | boolean;
export type Attributes = Record<string, AttrValue>;

export interface SpanContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId: string;
  sampled: boolean;
  /** W3C tracestate, passed on unchanged. */
  traceState?: string;
  /** True when the context came from another process (extractContext). */
  remote?: boolean;
}

export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface Span {
  readonly context: SpanContext;
  setAttribute(key: string, value: AttrValue): void;
  addEvent(name: string, attributes?: Attributes, timeMs?: number): void;
  addLink(context: SpanContext, attributes?: Attributes): void;
  setStatus(code: 'ok' | 'error', message?: string): void;
  end(endTimeMs?: number): void;
}

export interface SpanOptions {
  parent?: SpanContext;
  kind?: SpanKind;
  attributes?: Attributes;
  links?: SpanContext[];
  startTimeMs?: number;
}

export interface Tracer {
  /** false: every call is a cheap no-op. */
  readonly enabled: boolean;
  /** No parent = new trace, sampled by the configured ratio; with a parent, the parent's flag. */
  startSpan(name: string, options?: SpanOptions): Span;
}

/** All-zero ids: invalid by the W3C spec, so nobody mistakes the no-op span for a real one. */
const NOOP_CONTEXT: SpanContext = Object.freeze({
  traceId: '00000000000000000000000000000000',
  spanId: '0000000000000000',
  sampled: false,
});

const NOOP_SPAN: Span = Object.freeze({
  context: NOOP_CONTEXT,
  setAttribute() {},
  addEvent() {},
  addLink() {},
  setStatus() {},
  end() {},
});

export const NOOP_TRACER: Tracer = Object.freeze({
  enabled: false,
  startSpan: () => NOOP_SPAN,
});
