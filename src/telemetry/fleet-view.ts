// The operator's view of a fleet, built from the retained state and telemetry topics: one row per
// node with what an operator looks at first. Anything on the bus that is not a valid v1 payload
// is counted and ignored, never trusted and never a crash (the bus is shared).
import type { StatePayload, TelemetryPayload } from './payloads.ts';
import { parseTopic, PAYLOAD_VERSION } from './topics.ts';

export interface FleetNode {
  fleet: string;
  node: string;
  /** null until the node's state topic was seen. */
  online: boolean | null;
  /** 'connected', 'stopped' (clean shutdown) or 'lost' (Last Will). */
  stateReason: string | null;
  version: string | null;
  gateway: string | null;
  neighbours: number | null;
  health: string | null;
  /** Names of components that are degraded or down. */
  problems: string[];
  eventsQueued: number | null;
  eventsDropped: number | null;
  /** The newest time the node itself reported (telemetry ts, or state since), ISO. */
  lastSeen: string | null;
}

export class FleetView {
  private readonly byKey = new Map<string, FleetNode>();
  ignored = 0;

  /** Takes one message; true when the view changed. */
  update(topic: string, payload: Uint8Array): boolean {
    const t = parseTopic(topic);
    if (!t || (t.kind !== 'state' && t.kind !== 'telemetry')) return false;
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch {
      // An empty retained message is how a node's topic is cleared: the node leaves the view.
      if (payload.length === 0) return this.byKey.delete(`${t.fleet}/${t.node}`);
      this.ignored++;
      return false;
    }
    if (!isObject(doc) || doc.v !== PAYLOAD_VERSION || doc.fleet !== t.fleet || doc.node !== t.node) {
      this.ignored++;
      return false;
    }
    const n = this.node(t.fleet, t.node);
    if (t.kind === 'state') {
      const s = doc as Partial<StatePayload>;
      if (s.state !== 'online' && s.state !== 'offline') {
        this.ignored++;
        return false;
      }
      n.online = s.state === 'online';
      n.stateReason = str(s.reason);
      n.version = str(s.version) ?? n.version;
      n.lastSeen = newer(n.lastSeen, str(s.since));
      return true;
    }
    const p = doc as Partial<TelemetryPayload>;
    n.gateway = isObject(p.gateway) ? str(p.gateway.originator) : null;
    n.neighbours = isObject(p.mesh) && typeof p.mesh.neighbours === 'number' ? p.mesh.neighbours : null;
    n.health = isObject(p.health) ? str(p.health.overall) : null;
    n.problems = isObject(p.health) && Array.isArray(p.health.problems) ? p.health.problems.map((x) => str((x as { name?: unknown })?.name) ?? '?') : [];
    n.eventsQueued = isObject(p.telemetry) && typeof p.telemetry.queued === 'number' ? p.telemetry.queued : null;
    n.eventsDropped = isObject(p.telemetry) && typeof p.telemetry.dropped === 'number' ? p.telemetry.dropped : null;
    n.version = (isObject(p.agent) && str(p.agent.version)) || n.version;
    n.lastSeen = newer(n.lastSeen, str(p.ts));
    return true;
  }

  nodes(): FleetNode[] {
    return [...this.byKey.values()].sort((a, b) => a.fleet.localeCompare(b.fleet) || a.node.localeCompare(b.node));
  }

  private node(fleet: string, node: string): FleetNode {
    const key = `${fleet}/${node}`;
    let n = this.byKey.get(key);
    if (!n) {
      n = { fleet, node, online: null, stateReason: null, version: null, gateway: null, neighbours: null, health: null, problems: [], eventsQueued: null, eventsDropped: null, lastSeen: null };
      this.byKey.set(key, n);
    }
    return n;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Payload strings end up in a terminal: no control characters (escape sequences), bounded length.
function str(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const clean = v.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 79)}…` : clean;
}

function newer(a: string | null, b: string | null): string | null {
  if (!b || !Number.isFinite(Date.parse(b))) return a;
  if (!a) return b;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

function age(iso: string | null, now: number): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/** A plain-text table: node, online, gateway, neighbours, health, last seen. */
export function renderFleetTable(nodes: FleetNode[], now: number, multiFleet = false): string {
  const head = ['NODE', 'ONLINE', 'GATEWAY', 'NEIGH', 'HEALTH', 'LAST SEEN', 'QUEUED/DROPPED'];
  const rows = nodes.map((n) => [
    multiFleet ? `${n.fleet}/${n.node}` : n.node,
    n.online === null ? '?' : n.online ? 'yes' : n.stateReason === 'lost' ? 'NO (lost)' : 'no',
    n.gateway ?? '-',
    n.neighbours === null ? '-' : String(n.neighbours),
    n.health === null ? '-' : n.problems.length ? `${n.health} (${n.problems.join(',')})` : n.health,
    age(n.lastSeen, now),
    n.eventsQueued === null ? '-' : `${n.eventsQueued}/${n.eventsDropped ?? 0}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('').trimEnd();
  const online = nodes.filter((n) => n.online).length;
  return [line(head), ...rows.map(line), '', `${nodes.length} node(s), ${online} online`].join('\n');
}
