// The demo's live screen: one row per node from its own agent's status, then what was injected
// and what the agents noticed since the last screen.
import type { StatusReport } from '../status/types.ts';

export interface SummaryInput {
  elapsedS: number;
  nodes: StatusReport[];
  injected: string[];
  noticed: string[];
  socketDir: string;
  luciUrl: string | null;
  describeMac: (mac: string) => string;
}

const clock = (s: number) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

export function renderSummary(x: SummaryInput): string {
  const out: string[] = [];
  out.push(`x0tta6bl4 demo — ${x.nodes.length} simulated nodes, t=${clock(x.elapsedS)}`);
  out.push(`  status sockets: ${x.socketDir}/<node>.sock  (x0tta6bl4 status --socket ${x.socketDir}/n1.sock)`);
  if (x.luciUrl) out.push(`  LuCI page (n1): ${x.luciUrl}`);
  out.push('');
  out.push('node  health    nbrs  origs  gateway       best link to each neighbour (TQ now, last 6 polls)');
  for (const s of x.nodes) {
    const gw = s.mesh.gateways.find((g) => g.best);
    const gwName = s.mesh.settings?.gwMode === 'server' ? '(is gateway)' : gw ? x.describeMac(gw.originator) : '-';
    const origs = new Set(s.mesh.originators.map((o) => o.originator)).size;
    const links = bestPerNeighbourNode(s, x.describeMac)
      .map((l) => `${l.node} ${String(l.metric ?? '✕').padStart(3)} ${sparkline(l.history.slice(-6))}`)
      .join('  ');
    out.push(
      `${s.node.name.padEnd(6)}${s.health.overall.padEnd(10)}${String(s.mesh.neighbours.length).padEnd(6)}${String(origs).padEnd(7)}${gwName.padEnd(14)}${links}`,
    );
  }
  out.push('');
  out.push('injected:');
  for (const line of x.injected.length ? x.injected : ['(nothing new)']) out.push(`  ${line}`);
  out.push('agents noticed:');
  for (const line of x.noticed.length ? x.noticed : ['(nothing new)']) out.push(`  ${line}`);
  return out.join('\n');
}

const BARS = '▁▂▃▄▅▆▇█';
function sparkline(values: (number | null)[]): string {
  return values.map((v) => (v === null ? '·' : BARS[Math.min(7, Math.floor((v / 256) * 8))])).join('');
}

/** A neighbour node reached over several interfaces is shown once, by its best link. */
function bestPerNeighbourNode(s: StatusReport, describeMac: (mac: string) => string) {
  const best = new Map<string, { node: string; metric: number | null; history: (number | null)[] }>();
  for (const l of s.links) {
    const node = describeMac(l.neighbour).split('/')[0]!;
    const cur = best.get(node);
    if (!cur || (l.metric ?? -1) > (cur.metric ?? -1)) best.set(node, { node, metric: l.metric, history: l.history });
  }
  return [...best.values()].sort((a, b) => a.node.localeCompare(b.node, 'en', { numeric: true }));
}
