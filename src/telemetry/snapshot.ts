// Builds the telemetry and event documents from what the status API already reports. The
// telemetry snapshot has a hard size bound: a node with many neighbours or a chatty learning
// report still fits one small MQTT message, and what was left out is said in `truncated`.
import type { StatusEvent, StatusReport } from '../status/types.ts';
import type { EventPayload, TelemetryPayload } from './payloads.ts';
import { PAYLOAD_VERSION } from './topics.ts';

export const MAX_TELEMETRY_BYTES = 8192;
export const MAX_EVENT_MESSAGE = 1024;
const MAX_REASON = 160;
const MAX_PROBLEMS = 16;
const MAX_LEARNING_BYTES = 1024;

export interface SystemLoad {
  load: [number, number, number];
  totalKb: number;
  freeKb: number;
  agentRssKb: number;
  agentHeapKb: number;
}

export interface SnapshotContext {
  boot: string;
  seq: number;
  now: number;
  system: SystemLoad;
  queue: { queued: number; dropped: number; reconnects: number };
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const round2 = (n: number) => Math.round(n * 100) / 100;

export function buildTelemetry(r: StatusReport, c: SnapshotContext): { payload: TelemetryPayload; json: string } {
  const best = r.mesh.gateways.find((g) => g.best) ?? null;
  const problems = r.health.components
    .filter((h) => h.state === 'degraded' || h.state === 'down')
    .map((h) => ({ name: h.name, state: h.state, reason: clip(h.reason, MAX_REASON) }));
  const p: TelemetryPayload = {
    v: PAYLOAD_VERSION,
    fleet: r.node.fleet,
    node: r.node.name,
    ts: new Date(c.now).toISOString(),
    boot: c.boot,
    seq: c.seq,
    agent: { version: r.node.version, uptimeS: r.node.uptimeS, driver: r.node.driver, dryRun: r.node.dryRun, core: r.node.core },
    mesh: {
      iface: r.node.meshIf,
      algo: r.node.algo,
      address: r.node.address,
      interfaces: r.mesh.interfaces.filter((i) => i.active).length,
      neighbours: r.mesh.neighbours.length,
      originators: new Set(r.mesh.originators.map((o) => o.originator)).size,
      gateways: r.mesh.gateways.length,
      gwMode: r.mesh.settings?.gwMode ?? null,
    },
    gateway: best && {
      originator: best.originator,
      router: best.router,
      iface: best.hardIfname,
      ...(best.tq !== undefined ? { tq: best.tq } : {}),
      ...(best.throughputKbps !== undefined ? { throughputKbps: best.throughputKbps } : {}),
      downKbps: best.bandwidthDownKbps,
      upKbps: best.bandwidthUpKbps,
    },
    links: r.links.map((l) => ({ neighbour: l.neighbour, iface: l.hardIfname, kind: l.metricKind, metric: l.metric })),
    health: { overall: r.health.overall, problems: problems.slice(0, MAX_PROBLEMS) },
    load: [round2(c.system.load[0]), round2(c.system.load[1]), round2(c.system.load[2])],
    memory: { totalKb: c.system.totalKb, freeKb: c.system.freeKb, agentRssKb: c.system.agentRssKb, agentHeapKb: c.system.agentHeapKb },
    learning: r.learning,
    telemetry: c.queue,
  };
  const fed = federationSummary(r.federation);
  if (fed) p.federation = fed;
  const truncated: NonNullable<TelemetryPayload['truncated']> = {};
  if (problems.length > MAX_PROBLEMS) truncated.problems = problems.length - MAX_PROBLEMS;
  if (p.learning && JSON.stringify(p.learning).length > MAX_LEARNING_BYTES) {
    p.learning = null;
    truncated.learning = true;
  }
  if (Object.keys(truncated).length) p.truncated = truncated;
  let json = JSON.stringify(p);
  let bytes = Buffer.byteLength(json);
  if (bytes > MAX_TELEMETRY_BYTES) {
    // Drop links from the end; reserve room for the `truncated` note itself.
    let over = bytes - MAX_TELEMETRY_BYTES + 48;
    let cut = 0;
    while (over > 0 && cut < p.links.length) over -= Buffer.byteLength(JSON.stringify(p.links[p.links.length - 1 - cut++])) + 1;
    p.links = p.links.slice(0, p.links.length - cut);
    p.truncated = { ...truncated, links: cut };
    json = JSON.stringify(p);
    bytes = Buffer.byteLength(json);
  }
  if (bytes > MAX_TELEMETRY_BYTES) throw new Error(`telemetry snapshot of ${bytes} bytes exceeds ${MAX_TELEMETRY_BYTES} after truncation`);
  return { payload: p, json };
}

/** The two federation numbers the fleet alerts need, from the /status `federation` document. */
function federationSummary(f: StatusReport['federation']): TelemetryPayload['federation'] | null {
  if (!f) return null;
  const metrics = typeof f.metrics === 'object' && f.metrics !== null ? (f.metrics as Record<string, unknown>) : {};
  const q = metrics.quarantinedPeers;
  const notAfter = typeof f.certNotAfter === 'string' && Number.isFinite(Date.parse(f.certNotAfter)) ? f.certNotAfter : null;
  return { certNotAfter: notAfter, quarantinedPeers: typeof q === 'number' && Number.isFinite(q) ? q : 0 };
}

export interface EventContext {
  fleet: string;
  node: string;
  boot: string;
  seq: number;
}

export function buildEvent(e: StatusEvent, c: EventContext): string {
  const p: EventPayload = {
    v: PAYLOAD_VERSION,
    fleet: c.fleet,
    node: c.node,
    boot: c.boot,
    seq: c.seq,
    ts: e.ts,
    kind: e.kind,
    message: clip(e.message, MAX_EVENT_MESSAGE),
  };
  return JSON.stringify(p);
}
