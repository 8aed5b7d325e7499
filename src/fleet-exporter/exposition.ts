// Prometheus text exposition (format 0.0.4) of the whole fleet. Written here rather than with
// src/status's MetricsText: that builder emits in call order, and a fleet of thousands of nodes
// must keep each metric family's samples together (one pass per family over the nodes).
// Names match the router's own /metrics where they mean the same (batman_*, x0tta6bl4_*), with
// `fleet` and `node` labels; what only the exporter knows is x0tta6bl4_fleet_exporter_*.
import type { FleetModel } from './fleet-model.ts';
import { escapeLabel, EVENT_KINDS, type NodeRecord, type NodeTelemetry } from './node-record.ts';

type Type = 'gauge' | 'counter';
type Sample = [labels: string, value: number];

export class Exposition {
  private readonly out: string[] = [];

  family(name: string, type: Type, help: string, samples: Iterable<Sample>): void {
    let head = false;
    for (const [labels, value] of samples) {
      if (!head) {
        this.out.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
        head = true;
      }
      this.out.push(`${name}${labels ? `{${labels}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}\n`);
    }
  }

  toString(): string {
    return this.out.join('');
  }
}

const lbl = (k: string, v: string) => `,${k}="${escapeLabel(v)}"`;

function* perNode(nodes: NodeRecord[], f: (n: NodeRecord) => number | null | undefined): Iterable<Sample> {
  for (const n of nodes) {
    const v = f(n);
    if (v !== null && v !== undefined) yield [n.labels, v];
  }
}

function* perTelemetry(nodes: NodeRecord[], f: (t: NodeTelemetry) => number | null): Iterable<Sample> {
  for (const n of nodes) {
    const v = n.telemetry ? f(n.telemetry) : null;
    if (v !== null) yield [n.labels, v];
  }
}

export function renderNodeState(e: Exposition, m: FleetModel, nodes: NodeRecord[], now: number): void {
  e.family('x0tta6bl4_node_online', 'gauge', 'Node connected to the broker (retained state, Last Will, and heard within the stale time): 1 or 0.', perNode(nodes, (n) => (m.online(n, now) ? 1 : 0)));
  e.family('x0tta6bl4_node_state', 'gauge', 'Why a node is online or not, one series per state (1 = current): online, stopped (clean shutdown), lost (Last Will), silent (nothing heard within the stale time).', (function* () {
    for (const n of nodes) {
      const cur = m.online(n, now) ? 'online' : n.state === 'stopped' || n.state === 'lost' ? n.state : 'silent';
      for (const s of ['online', 'stopped', 'lost', 'silent']) yield [n.labels + lbl('state', s), s === cur ? 1 : 0] as Sample;
    }
  })());
  e.family('x0tta6bl4_node_last_seen_timestamp_seconds', 'gauge', 'When the node was last heard (Unix time; a retained message counts from its own timestamp).', perNode(nodes, (n) => Math.round(n.lastSeenMs / 1000)));
  e.family('x0tta6bl4_build_info', 'gauge', 'Agent version the node reports.', (function* () {
    for (const n of nodes) if (n.version !== null) yield [n.labels + lbl('version', n.version), 1] as Sample;
  })());
  e.family('x0tta6bl4_uptime_seconds', 'gauge', 'Seconds since the agent started (from its last snapshot).', perTelemetry(nodes, (t) => t.uptimeS));
  e.family('x0tta6bl4_up', 'gauge', 'Overall health from the last snapshot: 1 ok, 0.5 degraded, 0 down.', perTelemetry(nodes, (t) => (t.overall === null ? null : t.overall === 'ok' ? 1 : t.overall === 'degraded' ? 0.5 : 0)));
  e.family('x0tta6bl4_component_state', 'gauge', 'Component health, one series per state (1 = current), for components a snapshot ever listed as degraded or down.', (function* () {
    for (const n of nodes)
      for (const [c, cur] of n.components)
        for (const s of ['ok', 'degraded', 'down']) yield [n.labels + lbl('component', c) + lbl('state', s), s === cur ? 1 : 0] as Sample;
  })());
  e.family('x0tta6bl4_dry_run', 'gauge', 'Agent in dry-run (plans, does not apply): 1 or 0.', perTelemetry(nodes, (t) => (t.dryRun === null ? null : t.dryRun ? 1 : 0)));
}

export function renderMesh(e: Exposition, m: FleetModel, nodes: NodeRecord[]): void {
  e.family('batman_hardifs_active', 'gauge', 'Hard interfaces active in the mesh.', perTelemetry(nodes, (t) => t.interfaces));
  e.family('batman_neighbour_count', 'gauge', 'Direct batman-adv neighbours.', perTelemetry(nodes, (t) => t.neighbours));
  e.family('batman_originator_count', 'gauge', 'Distinct originators in the originator table.', perTelemetry(nodes, (t) => t.originators));
  e.family('batman_gateway_count', 'gauge', 'Gateways announced in the mesh.', perTelemetry(nodes, (t) => t.gateways));
  e.family('x0tta6bl4_gateway_selected', 'gauge', 'A gateway is selected by batman-adv: 1 or 0.', perTelemetry(nodes, (t) => (t.gateway ? 1 : 0)));
  e.family('x0tta6bl4_gateway_info', 'gauge', 'The selected gateway (node name when known, else MAC).', (function* () {
    for (const n of nodes) if (n.telemetry?.gateway) yield [n.labels + lbl('gateway', m.nameOf(n.telemetry.gateway.mac)), 1] as Sample;
  })());
  e.family('batman_gateway_tq', 'gauge', 'TQ (0-255) towards the selected gateway.', perTelemetry(nodes, (t) => t.gateway?.tq ?? null));
  e.family('batman_gateway_throughput_kbps', 'gauge', 'Throughput towards the selected gateway, kbit/s.', perTelemetry(nodes, (t) => t.gateway?.throughputKbps ?? null));
  const link = (kind: 'tq' | 'throughput') =>
    (function* () {
      for (const n of nodes)
        for (const l of n.telemetry?.links ?? []) if (l.kind === kind) yield [n.labels + lbl('neighbour', m.nameOf(l.mac)) + lbl('iface', l.iface), l.metric] as Sample;
    })();
  e.family('batman_link_tq', 'gauge', 'TQ (0-255) of the direct link to a neighbour (neighbour: node name when known, else MAC).', link('tq'));
  e.family('batman_link_throughput_kbps', 'gauge', 'Throughput estimate of the direct link, kbit/s.', link('throughput'));
  e.family('x0tta6bl4_links_not_shown', 'gauge', 'Links of the last snapshot without a series (exporter cap, or truncated by the node).', perTelemetry(nodes, (t) => t.linksCapped));
}

export function renderNodeSystem(e: Exposition, nodes: NodeRecord[], now: number): void {
  e.family('x0tta6bl4_load1', 'gauge', '1-minute load average of the router.', perTelemetry(nodes, (t) => t.load1));
  e.family('x0tta6bl4_memory_total_bytes', 'gauge', 'Router memory.', perTelemetry(nodes, (t) => (t.memTotalKb === null ? null : t.memTotalKb * 1024)));
  e.family('x0tta6bl4_memory_available_bytes', 'gauge', 'Router memory free.', perTelemetry(nodes, (t) => (t.memFreeKb === null ? null : t.memFreeKb * 1024)));
  e.family('x0tta6bl4_agent_resident_memory_bytes', 'gauge', 'Agent RSS.', perTelemetry(nodes, (t) => (t.agentRssKb === null ? null : t.agentRssKb * 1024)));
  e.family('x0tta6bl4_learning_round', 'gauge', 'Federated learning round.', perTelemetry(nodes, (t) => t.learningRound));
  e.family('x0tta6bl4_learning_heldout_auc', 'gauge', 'AUC of the link-failure model on held-out local data.', perTelemetry(nodes, (t) => t.learningAuc));
  e.family('x0tta6bl4_learning_peers_heard', 'gauge', 'Peers whose update entered the last round.', perTelemetry(nodes, (t) => t.learningPeersHeard));
  e.family('x0tta6bl4_telemetry_events_queued', 'gauge', 'Events waiting on the node for a PUBACK.', perTelemetry(nodes, (t) => t.queued));
  e.family('x0tta6bl4_telemetry_events_dropped_total', 'counter', 'Events the node dropped from its full buffer (since the agent started).', perTelemetry(nodes, (t) => t.dropped));
  e.family('x0tta6bl4_telemetry_reconnects_total', 'counter', 'Broker reconnects of the node (since the agent started).', perTelemetry(nodes, (t) => t.reconnects));
  e.family('x0tta6bl4_telemetry_snapshot_age_seconds', 'gauge', 'Seconds since the last snapshot of the node arrived.', perTelemetry(nodes, (t) => Math.max(0, Math.round((now - t.receivedMs) / 1000))));
  e.family('x0tta6bl4_certificate_expiry_timestamp_seconds', 'gauge', "When the node's fleet certificate expires (only from nodes that report it; not in contract v1 yet).", perTelemetry(nodes, (t) => (t.certNotAfterMs === null ? null : Math.round(t.certNotAfterMs / 1000))));
  e.family('x0tta6bl4_federation_quarantined_peers', 'gauge', 'Federation peers quarantined by a quorum of votes (only from nodes that report it; not in contract v1 yet).', perTelemetry(nodes, (t) => t.quarantinedPeers));
}

export function renderEvents(e: Exposition, nodes: NodeRecord[]): void {
  e.family('x0tta6bl4_events_total', 'counter', 'Events received from the node, by kind (QoS 1 duplicates dropped).', (function* () {
    for (const n of nodes) for (const k of EVENT_KINDS) yield [n.labels + lbl('kind', k), n.events.get(k) ?? 0] as Sample;
  })());
  e.family('x0tta6bl4_healing_events_total', 'counter', 'Healing actions taken and rolled back, by action kind (from action and rollback events).', (function* () {
    for (const n of nodes)
      for (const [key, v] of n.healing) {
        const [kind, action] = key.split('/') as [string, string];
        yield [n.labels + lbl('kind', kind) + lbl('action', action), v] as Sample;
      }
  })());
  e.family('x0tta6bl4_events_duplicates_total', 'counter', 'Events received again (same boot and seq) and not counted.', perNode(nodes, (n) => n.ledger.duplicates));
  e.family('x0tta6bl4_events_missing_total', 'counter', 'Events never received: gaps in seq within a boot.', perNode(nodes, (n) => n.ledger.gaps));
}

export function renderFleet(m: FleetModel, now: number): Exposition {
  const e = new Exposition();
  const nodes = [...m.nodes.values()];
  renderNodeState(e, m, nodes, now);
  renderMesh(e, m, nodes);
  renderNodeSystem(e, nodes, now);
  renderEvents(e, nodes);
  return e;
}
