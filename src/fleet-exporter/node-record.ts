// What the exporter keeps about one node: only the numbers it exposes, with every list capped,
// so that memory per node is bounded whatever a node (or anything else on the bus) publishes.
import { EventLedger } from './event-ledger.ts';
import type { ActionKind } from './action-kind.ts';

export const EVENT_KINDS = ['finding', 'action', 'rollback', 'fault', 'info', 'other'] as const;
export type EventKindLabel = (typeof EVENT_KINDS)[number];
/** Components remembered per node (the agent has about ten). */
export const MAX_COMPONENTS = 16;

export type ComponentStateLabel = 'ok' | 'degraded' | 'down' | 'disabled';

export interface LinkSample {
  /** The neighbour's MAC (lower case); shown as a node name when one is known. */
  mac: string;
  iface: string;
  kind: 'tq' | 'throughput';
  metric: number;
}

export interface NodeTelemetry {
  receivedMs: number;
  uptimeS: number | null;
  dryRun: boolean | null;
  neighbours: number | null;
  originators: number | null;
  gateways: number | null;
  gateway: { mac: string; tq: number | null; throughputKbps: number | null } | null;
  links: LinkSample[];
  /** Links left out by the exporter's cap (the snapshot's own truncation is added). */
  linksCapped: number;
  overall: 'ok' | 'degraded' | 'down' | null;
  load1: number | null;
  memTotalKb: number | null;
  memFreeKb: number | null;
  learningRound: number | null;
  learningAuc: number | null;
  queued: number | null;
  dropped: number | null;
  reconnects: number | null;
  /** The snapshot's optional `federation` (agents with the federation on): epoch ms and a count. */
  certNotAfterMs: number | null;
  quarantinedPeers: number | null;
}

export class NodeRecord {
  /** `fleet="…",node="…"`, escaped once. */
  readonly labels: string;
  /** A stable hash of fleet and node: which /metrics?shard=I&shards=K shows the node. */
  readonly hash: number;
  state: 'online' | 'stopped' | 'lost' | null = null;
  version: string | null = null;
  /** The node's own MAC (mesh address), when its telemetry said. */
  address: string | null = null;
  lastSeenMs = 0;
  telemetry: NodeTelemetry | null = null;
  /** Components ever reported degraded or down, with their current state. */
  readonly components = new Map<string, ComponentStateLabel>();
  readonly ledger = new EventLedger();
  readonly events = new Map<EventKindLabel, number>();
  /** `${kind}/${action}` → count, for action and rollback events (closed sets: bounded). */
  readonly healing = new Map<`${'action' | 'rollback'}/${ActionKind}`, number>();

  /** This node's exposition lines, one string per cached family; null when something changed. */
  cache: string[] | null = null;
  /** FleetModel.namesVersion the cache was built with. */
  cacheNames = -1;
  /** The online/state lines for the state the node was last shown in. */
  live: { state: string; online: string; states: string } | null = null;

  constructor(
    readonly fleet: string,
    readonly node: string,
  ) {
    this.labels = `fleet="${escapeLabel(fleet)}",node="${escapeLabel(node)}"`;
    this.hash = fnv1a(`${fleet}/${node}`);
  }

  seen(atMs: number): void {
    if (atMs > this.lastSeenMs) this.lastSeenMs = atMs;
  }
}

/** FNV-1a, 32 bits: the same shard for a node across restarts and exporter versions. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function escapeLabel(v: string): string {
  if (!/[\\\n"]/.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
