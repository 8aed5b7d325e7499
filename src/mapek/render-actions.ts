// Text for `x0tta6bl4 actions`: the journal, newest last, one line per action, then the plan.
import type { HealingStatus } from './healer.ts';

export function renderActions(h: HealingStatus | null | undefined): string {
  if (!h) return 'self-healing is off (healing.enabled)\n';
  const lines: string[] = [];
  if (h.dryRun) lines.push('dry run: actions are planned and reported, not applied');
  if (h.journal.length === 0) lines.push('no actions yet');
  for (const e of h.journal) {
    const target = [e.target.ifname, e.target.neighbour].filter(Boolean).join(' ');
    lines.push(
      `#${e.id} ${new Date(e.atMs).toISOString()} ${e.action}${target ? ` ${target}` : ''} [${e.state}]${e.disruptive ? ' disruptive' : ''}`,
      `    why: ${e.reason}`,
      ...(e.outcome ? [`    outcome: ${e.outcome}`] : []),
    );
  }
  const pending = h.plan.filter((p) => p.status !== 'go');
  if (pending.length) {
    lines.push('plan:');
    for (const p of pending) lines.push(`  ${p.action ?? '-'}${p.target.ifname ? ` ${p.target.ifname}` : ''}: ${p.status}${p.note ? ` (${p.note})` : ''} — ${p.reason}`);
  }
  return lines.join('\n') + '\n';
}
