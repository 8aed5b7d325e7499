// createTracer: the agent's one tracer. Off: the no-op tracer, no queue, no timer, no socket.
// On: new traces are sampled by ratio (decided from the trace id), children follow their
// parent's flag; sampled spans are recorded and, once ended, queued for OTLP/HTTP export.
import { NOOP_TRACER, type Span, type SpanContext, type SpanOptions, type Tracer } from './api.ts';
import { BatchExporter } from './batch-exporter.ts';
import { newSpanId, newTraceId, sampledByRatio } from './ids.ts';
import { isValidSpanContext } from './propagation.ts';
import { NonRecordingSpan, RecordingSpan } from './recording-span.ts';

export interface TracingSettings {
  enabled: boolean;
  /** OTLP/HTTP traces URL; a bare origin (http://host:4318) gets /v1/traces. */
  endpoint: string;
  headers: Record<string, string>;
  /** 0..1: the share of new traces recorded. */
  sampleRatio: number;
  /** Most spans held (waiting and being sent); more are dropped and counted. */
  queueLimit: number;
  caFile?: string;
}

export interface TracingStats { queued: number; exported: number; dropped: number; failedExports: number }

export interface TracingResource { serviceName: string; serviceVersion: string; hostName: string }

/** What /health shows for tracing. */
export interface TracingHealth { state: 'ok' | 'degraded' | 'disabled'; reason: string }

export type AgentTracer = Tracer & {
  stats(): TracingStats;
  health(): TracingHealth;
  shutdown(): Promise<void>;
};

/** Exporter tuning that tests shorten; the agent uses the defaults. */
export interface TracerTuning { maxBatch?: number; flushDelayMs?: number; timeoutMs?: number; firstRetryDelayMs?: number; maxRetryDelayMs?: number; maxAttempts?: number }

/** Drops this recent keep /health at degraded. */
const RECENT_DROP_MS = 5 * 60_000;

const ZERO_STATS: TracingStats = Object.freeze({ queued: 0, exported: 0, dropped: 0, failedExports: 0 });

const DISABLED: AgentTracer = Object.freeze({
  enabled: false,
  startSpan: NOOP_TRACER.startSpan,
  stats: () => ({ ...ZERO_STATS }),
  health: () => ({ state: 'disabled' as const, reason: 'tracing.enabled is off' }),
  shutdown: async () => {},
});

/**
 * startSpan of a live tracer: ids, the sampling decision, and a recording span for sampled
 * traces that hands itself to `onEnd` when ended. (The bench times this without an exporter.)
 */
export function spanStarter(ratio: number, onEnd: (span: RecordingSpan) => void): Tracer['startSpan'] {
  return (name: string, options?: SpanOptions): Span => {
    const parent = options?.parent && isValidSpanContext(options.parent) ? options.parent : undefined;
    const traceId = parent ? parent.traceId : newTraceId();
    const sampled = parent ? parent.sampled : sampledByRatio(traceId, ratio);
    const context: SpanContext = { traceId, spanId: newSpanId(), sampled };
    if (parent?.traceState) context.traceState = parent.traceState;
    if (!sampled) return new NonRecordingSpan(context);
    return new RecordingSpan(context, parent?.spanId, parent?.remote === true, String(name), options?.kind ?? 'internal',
      options?.startTimeMs, options?.attributes, options?.links, onEnd);
  };
}

export function createTracer(settings: TracingSettings, resource: TracingResource, tuning: TracerTuning = {}): AgentTracer {
  if (!settings.enabled) return DISABLED;
  const exporter = new BatchExporter({
    endpoint: settings.endpoint,
    headers: settings.headers,
    ...(settings.caFile ? { caFile: settings.caFile } : {}),
    queueLimit: settings.queueLimit,
    resource,
    scope: { name: 'x0tta6bl4', version: resource.serviceVersion },
    ...tuning,
  });
  return {
    enabled: true,
    startSpan: spanStarter(settings.sampleRatio, (s) => exporter.enqueue(s)),
    stats: () => exporter.stats(),
    health(): TracingHealth {
      const s = exporter.stats();
      const problem = exporter.problem();
      const counts = `${s.exported} spans exported, ${s.dropped} dropped, ${s.queued} queued`;
      if (problem) return { state: 'degraded', reason: `export failing (${problem}); ${counts}` };
      if (exporter.lastDrop() > Date.now() - RECENT_DROP_MS) return { state: 'degraded', reason: `spans dropped in the last ${RECENT_DROP_MS / 60_000} minutes (queue full); ${counts}` };
      return { state: 'ok', reason: `exporting to ${exporter.target}; ${counts}` };
    },
    shutdown: () => exporter.shutdown(),
  };
}
