// Prometheus text exposition (format 0.0.4) of the whole fleet. Written here rather than with
// src/status's MetricsText: that builder emits in call order, and a fleet of thousands of nodes
// must keep each metric family's samples together. Each node keeps its own lines per family
// (rebuilt only when a message about it arrived, or a MAC's name changed), so a scrape mostly
// joins cached strings; only what depends on the clock (online, state) is computed per scrape.
// Names match the router's own /metrics where they mean the same (batman_*, x0tta6bl4_*), with
// `fleet` and `node` labels; what only the exporter knows is x0tta6bl4_fleet_exporter_*.
import type { FleetModel } from './fleet-model.ts';
import { escapeLabel, EVENT_KINDS, type NodeRecord, type NodeTelemetry } from './node-record.ts';

type Type = 'gauge' | 'counter';
type Sample = [labels: string, value: number];

const fmt = (v: number) => (Number.isFinite(v) ? String(v) : 'NaN');
const lbl = (k: string, v: string) => `,${k}="${escapeLabel(v)}"`;

export class Exposition {
  private readonly out: string[] = [];

  family(name: string, type: Type, help: string, samples: Iterable<Sample>): void {
    let head = false;
    for (const [labels, value] of samples) {
      if (!head) {
        this.header(name, type, help);
        head = true;
      }
      this.out.push(`${name}${labels ? `{${labels}}` : ''} ${fmt(value)}\n`);
    }
  }

  header(name: string, type: Type, help: string): void {
    this.out.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
  }

  raw(text: string): void {
    this.out.push(text);
  }

  toString(): string {
    return this.out.join('');
  }

  /** The text in pieces of about `size` characters: a big fleet is sent without one huge string. */
  *chunks(size = 256 * 1024): Iterable<string> {
    let from = 0;
    let len = 0;
    for (let i = 0; i < this.out.length; i++) {
      len += this.out[i]!.length;
      if (len >= size) {
        yield this.out.slice(from, i + 1).join('');
        from = i + 1;
        len = 0;
      }
    }
    if (from < this.out.length) yield this.out.slice(from).join('');
  }
}

/** A family whose lines for one node depend only on what the node sent (and MAC names). */
interface NodeFamily {
  name: string;
  type: Type;
  help: string;
  lines(n: NodeRecord, m: FleetModel): string;
}

const one = (name: string, labels: string, v: number | null | undefined) => (v === null || v === undefined ? '' : `${name}{${labels}} ${fmt(v)}\n`);

function telemetryGauge(name: string, help: string, f: (t: NodeTelemetry) => number | null, type: Type = 'gauge'): NodeFamily {
  return { name, type, help, lines: (n) => (n.telemetry ? one(name, n.labels, f(n.telemetry)) : '') };
}

const kb = (v: number | null) => (v === null ? null : v * 1024);

const NODE_FAMILIES: NodeFamily[] = [
  { name: 'x0tta6bl4_node_last_seen_timestamp_seconds', type: 'gauge', help: 'When the node was last heard (Unix time; a retained message counts from its own timestamp).', lines: (n) => one('x0tta6bl4_node_last_seen_timestamp_seconds', n.labels, Math.round(n.lastSeenMs / 1000)) },
  { name: 'x0tta6bl4_build_info', type: 'gauge', help: 'Agent version the node reports.', lines: (n) => (n.version === null ? '' : one('x0tta6bl4_build_info', n.labels + lbl('version', n.version), 1)) },
  telemetryGauge('x0tta6bl4_uptime_seconds', 'Seconds since the agent started (from its last snapshot).', (t) => t.uptimeS),
  telemetryGauge('x0tta6bl4_up', 'Overall health from the last snapshot: 1 ok, 0.5 degraded, 0 down.', (t) => (t.overall === null ? null : t.overall === 'ok' ? 1 : t.overall === 'degraded' ? 0.5 : 0)),
  {
    name: 'x0tta6bl4_component_state', type: 'gauge', help: 'Component health, one series per state (1 = current), for components a snapshot ever listed as degraded or down.',
    lines: (n) => [...n.components].map(([c, cur]) => ['ok', 'degraded', 'down'].map((s) => one('x0tta6bl4_component_state', n.labels + lbl('component', c) + lbl('state', s), s === cur ? 1 : 0)).join('')).join(''),
  },
  telemetryGauge('x0tta6bl4_dry_run', 'Agent in dry-run (plans, does not apply): 1 or 0.', (t) => (t.dryRun === null ? null : t.dryRun ? 1 : 0)),
  telemetryGauge('batman_neighbour_count', 'Direct batman-adv neighbours.', (t) => t.neighbours),
  telemetryGauge('batman_originator_count', 'Distinct originators in the originator table.', (t) => t.originators),
  telemetryGauge('batman_gateway_count', 'Gateways announced in the mesh.', (t) => t.gateways),
  telemetryGauge('x0tta6bl4_gateway_selected', 'A gateway is selected by batman-adv: 1 or 0.', (t) => (t.gateway ? 1 : 0)),
  { name: 'x0tta6bl4_gateway_info', type: 'gauge', help: 'The selected gateway (node name when known, else MAC).', lines: (n, m) => (n.telemetry?.gateway ? one('x0tta6bl4_gateway_info', n.labels + lbl('gateway', m.nameOf(n.telemetry.gateway.mac)), 1) : '') },
  telemetryGauge('batman_gateway_tq', 'TQ (0-255) towards the selected gateway.', (t) => t.gateway?.tq ?? null),
  telemetryGauge('batman_gateway_throughput_kbps', 'Throughput towards the selected gateway, kbit/s.', (t) => t.gateway?.throughputKbps ?? null),
  linkFamily('batman_link_tq', 'tq', 'TQ (0-255) of the direct link to a neighbour (neighbour: node name when known, else MAC).'),
  linkFamily('batman_link_throughput_kbps', 'throughput', 'Throughput estimate of the direct link, kbit/s.'),
  telemetryGauge('x0tta6bl4_links_not_shown', 'Links of the last snapshot without a series (exporter cap, or truncated by the node); absent when none.', (t) => t.linksCapped || null),
  telemetryGauge('x0tta6bl4_load1', '1-minute load average of the router.', (t) => t.load1),
  telemetryGauge('x0tta6bl4_memory_total_bytes', 'Router memory.', (t) => kb(t.memTotalKb)),
  telemetryGauge('x0tta6bl4_memory_available_bytes', 'Router memory free.', (t) => kb(t.memFreeKb)),
  telemetryGauge('x0tta6bl4_learning_round', 'Federated learning round.', (t) => t.learningRound),
  telemetryGauge('x0tta6bl4_learning_heldout_auc', 'AUC of the link-failure model on held-out local data.', (t) => t.learningAuc),
  telemetryGauge('x0tta6bl4_telemetry_events_queued', 'Events waiting on the node for a PUBACK.', (t) => t.queued),
  telemetryGauge('x0tta6bl4_telemetry_events_dropped_total', 'Events the node dropped from its full buffer (since the agent started).', (t) => t.dropped, 'counter'),
  telemetryGauge('x0tta6bl4_telemetry_reconnects_total', 'Broker reconnects of the node (since the agent started).', (t) => t.reconnects, 'counter'),
  telemetryGauge('x0tta6bl4_certificate_expiry_timestamp_seconds', "When the node's fleet certificate expires (from snapshots of nodes with the federation on).", (t) => (t.certNotAfterMs === null ? null : Math.round(t.certNotAfterMs / 1000))),
  telemetryGauge('x0tta6bl4_federation_quarantined_peers', 'Federation peers quarantined by a quorum of votes (from snapshots of nodes with the federation on).', (t) => t.quarantinedPeers),
  {
    name: 'x0tta6bl4_events_total', type: 'counter', help: 'Events received from the node, by kind (QoS 1 duplicates dropped).',
    // finding, action and rollback from 0 (alerts take increase() of them); the rarer kinds once seen.
    lines: (n) => EVENT_KINDS.map((k) => one('x0tta6bl4_events_total', n.labels + lbl('kind', k), n.events.get(k) ?? (ALWAYS_SHOWN_KINDS.has(k) ? 0 : null))).join(''),
  },
  {
    name: 'x0tta6bl4_healing_events_total', type: 'counter', help: 'Healing actions taken and rolled back, by action kind (from action and rollback events).',
    lines: (n) => [...n.healing].map(([key, v]) => {
      const [kind, action] = key.split('/') as [string, string];
      return one('x0tta6bl4_healing_events_total', n.labels + lbl('kind', kind) + lbl('action', action), v);
    }).join(''),
  },
  { name: 'x0tta6bl4_events_duplicates_total', type: 'counter', help: 'Events received again (same boot and seq) and not counted; absent until the first.', lines: (n) => one('x0tta6bl4_events_duplicates_total', n.labels, n.ledger.duplicates || null) },
  { name: 'x0tta6bl4_events_missing_total', type: 'counter', help: 'Events never received: gaps in seq within a boot.', lines: (n) => one('x0tta6bl4_events_missing_total', n.labels, n.ledger.gaps) },
];

function linkFamily(name: string, kind: 'tq' | 'throughput', help: string): NodeFamily {
  return {
    name, type: 'gauge', help,
    lines: (n, m) => (n.telemetry?.links ?? []).filter((l) => l.kind === kind).map((l) => one(name, n.labels + lbl('neighbour', m.nameOf(l.mac)) + lbl('iface', l.iface), l.metric)).join(''),
  };
}

const ONLINE_HELP = 'Node connected to the broker (retained state, Last Will, and heard within the stale time): 1 or 0.';
const STATE_HELP = "Why a node is online or not: one series, value 1, labelled with the current state: online, stopped (clean shutdown), lost (Last Will), silent (nothing heard within the stale time).";
/** Shown from 0 for every node; the other kinds only once one arrived (fewer series per node at scale). */
const ALWAYS_SHOWN_KINDS: ReadonlySet<string> = new Set(['finding', 'action', 'rollback']);

/** The families that depend on the clock (is the node online now?): cached per node by its current state. */
function renderLiveState(e: Exposition, m: FleetModel, nodes: NodeRecord[], now: number): void {
  for (const n of nodes) {
    const cur = m.online(n, now) ? 'online' : n.state === 'stopped' || n.state === 'lost' ? n.state : 'silent';
    if (n.live?.state === cur) continue;
    n.live = {
      state: cur,
      online: one('x0tta6bl4_node_online', n.labels, cur === 'online' ? 1 : 0),
      // One series, not one per state: 3 fewer series per node, and count by (state) still works.
      states: one('x0tta6bl4_node_state', n.labels + lbl('state', cur), 1),
    };
  }
  if (!nodes.length) return;
  e.header('x0tta6bl4_node_online', 'gauge', ONLINE_HELP);
  for (const n of nodes) e.raw(n.live!.online);
  e.header('x0tta6bl4_node_state', 'gauge', STATE_HELP);
  for (const n of nodes) e.raw(n.live!.states);
}

/**
 * Builds a node's lines if they are out of date. The exporter calls it when a message changed the
 * node, so that a scrape finds them ready (the work is spread over time, not done in the scrape).
 */
export function cacheNode(n: NodeRecord, m: FleetModel): void {
  if (n.cache && n.cacheNames === m.namesVersion) return;
  n.cache = NODE_FAMILIES.map((f) => f.lines(n, m));
  n.cacheNames = m.namesVersion;
}

/** One of `count` disjoint parts of the fleet (nodes by hash), scraped as separate targets. */
export interface Shard {
  index: number;
  count: number;
}

export function renderFleet(m: FleetModel, now: number, shard: Shard = { index: 0, count: 1 }): Exposition {
  const e = new Exposition();
  const all = [...m.nodes.values()];
  const nodes = shard.count === 1 ? all : all.filter((n) => n.hash % shard.count === shard.index);
  renderLiveState(e, m, nodes, now);
  for (const n of nodes) cacheNode(n, m);
  NODE_FAMILIES.forEach((f, i) => {
    let head = false;
    for (const n of nodes) {
      const text = n.cache![i]!;
      if (!text) continue;
      if (!head) {
        e.header(f.name, f.type, f.help);
        head = true;
      }
      e.raw(text);
    }
  });
  return e;
}
