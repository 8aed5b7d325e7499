// What an ended span hands to the exporter, and the limits that keep one span's memory bounded
// on a router (a runaway loop adding events must not grow the queue without end).
import type { Attributes, SpanKind } from './api.ts';

export const LIMITS = {
  attributes: 64,
  events: 64,
  links: 32,
  /** Longer string values are cut (UTF-16 units); collectors truncate too, we only do it earlier. */
  stringChars: 1024,
} as const;

export interface EventData {
  name: string;
  timeMs: number;
  attributes: Attributes | undefined;
  droppedAttributes: number;
}

export interface LinkData {
  traceId: string;
  spanId: string;
  traceState: string | undefined;
  sampled: boolean;
  remote: boolean;
  attributes: Attributes | undefined;
  droppedAttributes: number;
}

export interface SpanData {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string | undefined;
  /** undefined for a root span. */
  readonly parentSpanId: string | undefined;
  readonly parentRemote: boolean;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startTimeMs: number;
  readonly endTimeMs: number;
  readonly attributes: Attributes;
  readonly droppedAttributes: number;
  readonly events: readonly EventData[];
  readonly droppedEvents: number;
  readonly links: readonly LinkData[];
  readonly droppedLinks: number;
  /** 0 unset, 1 ok, 2 error (the OTLP StatusCode numbers). */
  readonly statusCode: 0 | 1 | 2;
  readonly statusMessage: string;
}
