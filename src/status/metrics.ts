// Prometheus text exposition (format 0.0.4) of a status report. Names follow the ones OpenWrt
// users already scrape: batman_* for what batman-adv itself reports, x0tta6bl4_* for the agent.
import type { StatusReport } from './types.ts';
import { MetricsText } from './metrics-text.ts';

// The builder has its own file: rooms below status (mapek) add their metrics with it without
// importing the status documents.
export { MetricsText };

export interface LoopCounters {
  polls: number;
  pollErrors: number;
  lastPollDurationMs: number;
  eventTotals: ReadonlyMap<string, number>;
}

export function renderMetrics(s: StatusReport, loop: LoopCounters): string {
  const m = new MetricsText();
  const node = { node: s.node.name };
  m.add('x0tta6bl4_build_info', 'gauge', 'Agent version.', 1, { ...node, version: s.node.version, core: s.node.core ?? 'none' });
  m.add('x0tta6bl4_uptime_seconds', 'gauge', 'Seconds since the agent started.', s.node.uptimeS, node);
  m.add('x0tta6bl4_up', 'gauge', '1 when overall health is ok, 0.5 degraded, 0 down.',
    s.health.overall === 'ok' ? 1 : s.health.overall === 'degraded' ? 0.5 : 0, node);
  for (const c of s.health.components)
    for (const state of ['ok', 'degraded', 'down', 'disabled'] as const)
      m.add('x0tta6bl4_component_state', 'gauge', 'Component health, one series per state (1 = current).',
        c.state === state ? 1 : 0, { ...node, component: c.name, state });
  m.add('batman_neighbour_count', 'gauge', 'Direct batman-adv neighbours.', s.mesh.neighbours.length, node);
  m.add('batman_originator_count', 'gauge', 'Distinct originators in the originator table.',
    new Set(s.mesh.originators.map((o) => o.originator)).size, node);
  m.add('batman_gateway_count', 'gauge', 'Gateways announced in the mesh.', s.mesh.gateways.length, node);
  for (const i of s.mesh.interfaces)
    m.add('batman_hardif_active', 'gauge', 'Hard interface active in the mesh.', i.active ? 1 : 0, { ...node, iface: i.ifname });
  for (const l of s.links) {
    if (l.metric === null) continue;
    const labels = { ...node, neighbour: l.neighbour, iface: l.hardIfname };
    if (l.metricKind === 'tq') m.add('batman_link_tq', 'gauge', 'TQ (0-255) of the direct link to a neighbour.', l.metric, labels);
    else m.add('batman_link_throughput_kbps', 'gauge', 'Throughput estimate of the direct link, kbit/s.', l.metric, labels);
  }
  m.add('x0tta6bl4_polls_total', 'counter', 'Mesh polls done.', loop.polls, node);
  m.add('x0tta6bl4_poll_errors_total', 'counter', 'Mesh polls that failed.', loop.pollErrors, node);
  m.add('x0tta6bl4_poll_duration_seconds', 'gauge', 'Duration of the last mesh poll.', loop.lastPollDurationMs / 1000, node);
  for (const kind of ['finding', 'action', 'rollback', 'fault', 'info'])
    m.add('x0tta6bl4_events_total', 'counter', 'Events recorded, by kind.', loop.eventTotals.get(kind) ?? 0, { ...node, kind });
  return m.toString();
}
