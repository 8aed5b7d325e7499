// The tracing exporter's counters in /metrics. Written whether tracing is on or off (zeros),
// so a dashboard's series exist before the first span.
import type { TracingStats } from '../tracing/tracer.ts';
import { MetricsText } from './metrics-text.ts';

export function renderTracingMetrics(node: string, enabled: boolean, s: TracingStats): string {
  const m = new MetricsText();
  const labels = { node };
  m.add('x0tta6bl4_tracing_enabled', 'gauge', '1 when spans are recorded and exported (tracing.enabled).', enabled ? 1 : 0, labels);
  m.add('x0tta6bl4_tracing_spans_exported_total', 'counter', 'Spans the OTLP collector accepted.', s.exported, labels);
  m.add('x0tta6bl4_tracing_spans_dropped_total', 'counter', 'Spans dropped: queue full, or given up after retries.', s.dropped, labels);
  m.add('x0tta6bl4_tracing_spans_queued', 'gauge', 'Spans waiting for export, including the batch being sent.', s.queued, labels);
  m.add('x0tta6bl4_tracing_export_failures_total', 'counter', 'Export attempts that failed (each retry counts).', s.failedExports, labels);
  return m.toString();
}
