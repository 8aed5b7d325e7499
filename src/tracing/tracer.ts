// createTracer: the agent's one tracer. STUB for the first commit (API only): always the no-op
// tracer with zero stats; span recording and OTLP export follow.
import { NOOP_TRACER, type Tracer } from './api.ts';

export interface TracingSettings {
  enabled: boolean;
  endpoint: string;
  headers: Record<string, string>;
  sampleRatio: number;
  queueLimit: number;
  caFile?: string;
}

export interface TracingStats { queued: number; exported: number; dropped: number; failedExports: number }

export interface TracingResource { serviceName: string; serviceVersion: string; hostName: string }

export type AgentTracer = Tracer & { stats(): TracingStats; shutdown(): Promise<void> };

export function createTracer(_settings: TracingSettings, _resource: TracingResource): AgentTracer {
  return {
    enabled: false,
    startSpan: NOOP_TRACER.startSpan,
    stats: () => ({ queued: 0, exported: 0, dropped: 0, failedExports: 0 }),
    shutdown: async () => {},
  };
}
