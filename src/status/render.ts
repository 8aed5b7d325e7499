// Human-readable `x0tta6bl4 status`: what an operator on the router's shell wants at a glance.
import type { StatusReport } from './types.ts';

export function renderStatus(s: StatusReport, maxEvents = 10): string {
  const n = s.node;
  const out: string[] = [];
  out.push(`node      ${n.name} (fleet ${n.fleet}) — x0tta6bl4 ${n.version}, up ${formatUptime(n.uptimeS)}`);
  out.push(`mesh      ${n.meshIf} ${n.algo ?? '?'} via ${n.driver}${n.address ? `, ${n.address}` : ''}${n.dryRun ? ', DRY RUN' : ''}`);
  out.push(`health    ${s.health.overall.toUpperCase()}`);
  for (const c of s.health.components) out.push(`  ${c.name.padEnd(12)}${c.state.padEnd(10)}${c.reason}`);
  const gw = s.mesh.gateways.find((g) => g.best);
  out.push(`gateway   ${gw ? `${gw.originator} via ${gw.router} (${gw.hardIfname})` : 'none'}`);
  out.push(`links     ${s.links.length}`);
  for (const l of s.links) {
    const unit = l.metricKind === 'tq' ? 'TQ' : 'kbit/s';
    out.push(`  ${l.neighbour}  ${l.hardIfname.padEnd(8)} ${l.metric === null ? 'gone' : `${l.metric} ${unit}`}`);
  }
  const events = s.events.slice(-maxEvents);
  out.push(`events    ${events.length ? '' : 'none'}`);
  for (const e of events) out.push(`  ${e.ts.slice(11, 19)} ${e.kind.padEnd(8)} ${e.message}`);
  return out.join('\n');
}

export function formatUptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${Math.floor(s % 60)}s`;
}
