// Turns a telemetry snapshot (contract v1) into the numbers the exporter keeps. The bus is shared
// and a payload is never trusted: every field is checked for type and range, anything else
// becomes null (no series), and lists are capped.
import type { NodeTelemetry, LinkSample } from './node-record.ts';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IFACE = /^[A-Za-z0-9_.@-]{1,15}$/;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mac(v: unknown): string | null {
  return typeof v === 'string' && MAC.test(v) ? v.toLowerCase() : null;
}

function num(v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : null;
}

function obj(v: unknown): Record<string, unknown> {
  return isObject(v) ? v : {};
}

function links(v: unknown, max: number): { links: LinkSample[]; capped: number } {
  const out: LinkSample[] = [];
  let capped = 0;
  if (!Array.isArray(v)) return { links: out, capped };
  for (const l of v) {
    if (!isObject(l)) continue;
    const m = mac(l.neighbour);
    const kind = l.kind === 'tq' || l.kind === 'throughput' ? l.kind : null;
    const metric = num(l.metric, 0, kind === 'tq' ? 255 : 1e9);
    if (m === null || kind === null || metric === null) continue;
    if (out.length >= max) {
      capped++;
      continue;
    }
    out.push({ mac: m, iface: typeof l.iface === 'string' && IFACE.test(l.iface) ? l.iface : '?', kind, metric });
  }
  return { links: out, capped };
}

function timestampMs(v: unknown): number | null {
  if (typeof v === 'number') return num(v, 0, 1e14);
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}

export function readTelemetry(p: Record<string, unknown>, receivedMs: number, maxLinks: number): NodeTelemetry {
  const mesh = obj(p.mesh);
  const agent = obj(p.agent);
  const gw = isObject(p.gateway) ? p.gateway : null;
  const gwMac = gw ? mac(gw.originator) : null;
  const health = obj(p.health);
  const memory = obj(p.memory);
  const learning = obj(p.learning);
  const tel = obj(p.telemetry);
  const fed = obj(p.federation);
  const l = links(p.links, maxLinks);
  const truncatedLinks = num(obj(p.truncated).links) ?? 0;
  const overall = health.overall === 'ok' || health.overall === 'degraded' || health.overall === 'down' ? health.overall : null;
  return {
    receivedMs,
    uptimeS: num(agent.uptimeS),
    dryRun: typeof agent.dryRun === 'boolean' ? agent.dryRun : null,
    neighbours: num(mesh.neighbours),
    originators: num(mesh.originators),
    gateways: num(mesh.gateways),
    gateway: gw && gwMac ? { mac: gwMac, tq: num(gw.tq, 0, 255), throughputKbps: num(gw.throughputKbps) } : null,
    links: l.links,
    linksCapped: l.capped + truncatedLinks,
    overall,
    load1: Array.isArray(p.load) ? num(p.load[0]) : null,
    memTotalKb: num(memory.totalKb),
    memFreeKb: num(memory.freeKb),
    learningRound: num(learning.round),
    learningAuc: num(obj(learning.quality).heldOutAuc, 0, 1),
    queued: num(tel.queued),
    dropped: num(tel.dropped),
    reconnects: num(tel.reconnects),
    certNotAfterMs: timestampMs(fed.certNotAfter),
    quarantinedPeers: num(fed.quarantinedPeers),
  };
}

/** The problems list: component name → degraded/down (names checked, list capped by the caller). */
export function readProblems(p: Record<string, unknown>): [string, 'degraded' | 'down'][] {
  const list = obj(p.health).problems;
  if (!Array.isArray(list)) return [];
  const out: [string, 'degraded' | 'down'][] = [];
  for (const x of list) {
    if (!isObject(x) || typeof x.name !== 'string' || !/^[a-z][a-z0-9_-]{0,31}$/.test(x.name)) continue;
    if (x.state === 'degraded' || x.state === 'down') out.push([x.name, x.state]);
  }
  return out;
}
