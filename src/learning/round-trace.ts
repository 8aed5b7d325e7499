// Spans of one federated learning round: learning.round with train → publish → collect →
// aggregate (in the WASM core) → apply under it. Each peer's update is an event of collect,
// and a link to the sender's round when its update carried a trace context (envelope version
// 2, signed with the update). Nothing is made while tracing is off.
import type { Span, SpanContext, Tracer } from '../tracing/api.ts';

export class RoundTrace {
  readonly root: Span;
  private collect: Span | null = null;

  private constructor(
    private readonly tracer: Tracer,
    round: number,
    parent: SpanContext | undefined,
    mode: string,
  ) {
    this.root = tracer.startSpan('learning.round', { ...(parent ? { parent } : {}), attributes: { 'x0tta6bl4.learning.round': round, 'x0tta6bl4.learning.mode': mode } });
  }

  static begin(tracer: Tracer | undefined, round: number, parent: SpanContext | undefined, mode: string): RoundTrace | null {
    return tracer?.enabled ? new RoundTrace(tracer, round, parent, mode) : null;
  }

  /** A phase that runs synchronously (train, aggregate, apply). */
  phase<T>(name: string, fn: () => T, attributes: (r: T) => Record<string, string | number | boolean> = () => ({})): T {
    const span = this.tracer.startSpan(name, { parent: this.root.context });
    try {
      const r = fn();
      for (const [k, v] of Object.entries(attributes(r))) span.setAttribute(k, v);
      return r;
    } catch (e) {
      span.setStatus('error', (e as Error).message);
      throw e;
    } finally {
      span.end();
    }
  }

  /** The publish span, open while the update is sent (its context travels with the update). */
  startPublish(): Span {
    return this.tracer.startSpan('learning.publish', { parent: this.root.context, kind: 'producer' });
  }

  startCollect(quorum: number): void {
    this.collect = this.tracer.startSpan('learning.collect', { parent: this.root.context, kind: 'consumer', attributes: { 'x0tta6bl4.learning.quorum': quorum } });
  }

  /** One peer's update counted in this round. */
  heard(peer: string, from?: SpanContext): void {
    const c = this.collect;
    if (!c) return;
    c.addEvent('update', { 'x0tta6bl4.peer': peer, ...(from ? { 'x0tta6bl4.peer.trace_id': from.traceId } : {}) });
    if (from) c.addLink(from, { 'x0tta6bl4.peer': peer });
  }

  endCollect(closedBy: string, heard: number): void {
    this.collect?.setAttribute('x0tta6bl4.learning.closed_by', closedBy);
    this.collect?.setAttribute('x0tta6bl4.learning.heard', heard);
    this.collect?.end();
    this.collect = null;
  }

  finish(o: { applied: boolean; heard: number; skipped?: string; modelVersion: number }): void {
    this.root.setAttribute('x0tta6bl4.learning.applied', o.applied);
    this.root.setAttribute('x0tta6bl4.learning.heard', o.heard);
    this.root.setAttribute('x0tta6bl4.learning.model_version', o.modelVersion);
    if (o.skipped) this.root.setAttribute('x0tta6bl4.learning.skipped', o.skipped);
    this.root.end();
  }
}
