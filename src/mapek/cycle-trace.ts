// Spans of one MAPE-K cycle. A cycle is traced only when it finds something new or acts: the
// decision is taken after plan, and the monitor, analyze and plan spans are then written
// back-dated from the times the loop noted, so a healthy router (and a finding that merely
// persists from poll to poll with nothing to do) creates no span at all. Execute spans are
// children of the cycle; verify, keep, roll back and restore happen in later polls and find
// their trace through the traceparent kept in the journal entry (journal.ts).
import type { Attributes, Span, SpanContext, Tracer } from '../tracing/api.ts';
import { extractContext, injectContext } from '../tracing/propagation.ts';
import type { Connectivity, Finding } from './findings.ts';
import type { JournalEntry } from './journal.ts';
import type { PlannedStep } from './plan.ts';
import type { ActionTarget } from './actions/index.ts';

/** Wall-clock marks (ms) of one turn of the loop, noted only while tracing is on. */
export interface CycleMarks {
  pollStartedAt: number;
  analyzeAt: number;
  analyzedAt: number;
  planAt: number;
  plannedAt: number;
}

/** x0tta6bl4.link: "ifname/neighbour", "ifname", or absent for a mesh-wide subject. */
export function linkAttrs(t: ActionTarget | { ifname?: string; neighbour?: string }): Attributes {
  if (t.ifname === undefined) return {};
  return {
    'x0tta6bl4.link': t.neighbour !== undefined ? `${t.ifname}/${t.neighbour}` : t.ifname,
    'network.interface.name': t.ifname,
    ...(t.neighbour !== undefined ? { 'network.peer.address': t.neighbour } : {}),
  };
}

function connectivityAttrs(prefix: string, c: Connectivity | null): Attributes {
  if (!c) return {};
  return {
    [`${prefix}.reachable`]: c.reachable,
    [`${prefix}.live_neighbours`]: c.liveNeighbours,
    [`${prefix}.gateway`]: c.gateway,
    [`${prefix}.quality`]: c.quality,
  };
}

/**
 * Writes the spans of a cycle that is worth a trace and returns its root (still open: the
 * execute spans go under it); null when the cycle is quiet.
 */
export function traceCycle(
  tracer: Tracer,
  marks: CycleMarks,
  findings: readonly Finding[],
  newKeys: ReadonlySet<string>,
  planned: readonly PlannedStep[],
  connectivity: Connectivity,
): Span | null {
  const acts = planned.some((p) => p.status === 'go');
  if (!acts && newKeys.size === 0) return null;
  const root = tracer.startSpan('mapek.cycle', {
    startTimeMs: marks.pollStartedAt,
    attributes: {
      'x0tta6bl4.findings': findings.length,
      'x0tta6bl4.findings.new': newKeys.size,
      'x0tta6bl4.actions': planned.filter((p) => p.status === 'go').length,
    },
  });
  const parent = root.context;
  tracer.startSpan('mapek.monitor', { parent, startTimeMs: marks.pollStartedAt }).end(marks.analyzeAt);
  const analyze = tracer.startSpan('mapek.analyze', { parent, startTimeMs: marks.analyzeAt, attributes: connectivityAttrs('x0tta6bl4.connectivity', connectivity) });
  for (const f of findings) {
    analyze.addEvent('finding', {
      'x0tta6bl4.rule': f.kind,
      'x0tta6bl4.finding.key': f.key,
      'x0tta6bl4.finding.new': newKeys.has(f.key),
      message: f.message,
      ...linkAttrs(f.subject),
    }, marks.analyzedAt);
  }
  analyze.end(marks.analyzedAt);
  const plan = tracer.startSpan('mapek.plan', { parent, startTimeMs: marks.planAt });
  for (const p of planned) {
    plan.addEvent('step', {
      'x0tta6bl4.rule': p.finding?.kind ?? p.findingKey,
      'x0tta6bl4.action': p.action ?? 'none',
      'x0tta6bl4.step.status': p.status,
      ...(p.note ? { note: p.note } : {}),
      ...linkAttrs(p.target),
    }, marks.plannedAt);
  }
  plan.end(marks.plannedAt);
  return root;
}

/** The execute span of one action (under a cycle, an operator command, or a trace of its own). */
export function startExecuteSpan(tracer: Tracer, step: PlannedStep, parent: SpanContext | undefined): Span | null {
  if (!tracer.enabled) return null;
  return tracer.startSpan('mapek.execute', {
    ...(parent ? { parent } : {}),
    attributes: {
      'x0tta6bl4.action': step.action!,
      'x0tta6bl4.rule': step.finding?.kind ?? step.findingKey,
      'x0tta6bl4.rung': step.rung,
      'x0tta6bl4.disruptive': step.disruptive,
      ...linkAttrs(step.target),
    },
  });
}

/** What the journal keeps of an action's span: its W3C traceparent (persisted with the entry). */
export function entryTrace(span: Span | null): { trace?: string } {
  return span ? { trace: injectContext(span.context).traceparent } : {};
}

/**
 * A span in the trace of an action decided in a later poll (verify, keep, roll back, restore);
 * null when tracing is off or the entry has no trace (made with tracing off, or an old journal).
 */
export function startEntrySpan(tracer: Tracer, name: string, entry: JournalEntry, attributes: Attributes = {}, parent?: SpanContext): Span | null {
  if (!tracer.enabled) return null;
  const ctx = parent ?? (typeof entry.trace === 'string' ? extractContext({ traceparent: entry.trace }) : undefined);
  if (!ctx) return null;
  return tracer.startSpan(name, {
    parent: ctx,
    attributes: { 'x0tta6bl4.action': entry.action, 'x0tta6bl4.journal.id': entry.id, 'x0tta6bl4.rule': entry.finding, ...linkAttrs(entry.target), ...attributes },
  });
}
