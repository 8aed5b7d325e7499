import { UsageError, UserError, type CliCommand } from '../command.ts';
import type { PeerSummary } from '../../federation/types.ts';
import { blockFlags, readAgentStatus } from '../agent-status.ts';

interface FederationBlock {
  peerId: string;
  addresses: string[];
  health?: { state: string; reason: string };
  discovery?: { ifname: string; state: string; reason: string; peersFound: number } | null;
  peers: PeerSummary[];
}

function isFederationBlock(x: unknown): x is FederationBlock {
  const f = x as FederationBlock;
  return typeof f === 'object' && f !== null && typeof f.peerId === 'string' && Array.isArray(f.peers) && Array.isArray(f.addresses);
}

function renderPeers(f: FederationBlock, nowMs: number): string {
  const lines = [`this node  ${f.peerId}`, ...f.addresses.map((a) => `  listening ${a}`)];
  if (f.health) lines.push(`federation ${f.health.state}: ${f.health.reason}`);
  const d = f.discovery;
  lines.push(d ? `mDNS on ${d.ifname} ${d.state}: ${d.reason} (${d.peersFound} peers found)` : 'mDNS off');
  if (f.peers.length === 0) return [...lines, 'no admitted peers connected'].join('\n');
  const rows = f.peers.map((p) => [
    p.name || '?',
    p.peerId,
    p.addrs[0] ?? '',
    p.rttMs === null ? '-' : `${Math.round(p.rttMs)} ms`,
    p.quarantined ? 'QUARANTINED' : 'admitted',
    `${Math.max(0, Math.floor((p.certExpires - nowMs) / 86_400_000))} d`,
  ]);
  const head = ['name', 'peer id', 'address', 'rtt', 'state', 'cert left'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [...lines, '', fmt(head), ...rows.map(fmt)].join('\n');
}

export const peersCommand: CliCommand = {
  name: 'peers',
  summary: 'show the admitted federation peers (name, peer id, address, rtt, quarantine, certificate)',
  usage: `usage: x0tta6bl4 peers [--json] [--socket PATH] [--config PATH]

Asks the running agent over its status socket for the federation block of /status.
Exit code: 0 federation runs, 1 agent unreachable, 4 federation is off or did not start.`,
  flags: blockFlags('federation'),
  async run({ flags, positionals, io }) {
    if (positionals.length) throw new UsageError(`peers takes no arguments (got '${positionals[0]}')`);
    const s = await readAgentStatus(flags);
    const f = s.federation;
    if (f === null || f === undefined) {
      const why = s.health.components.find((c) => c.name === 'federation');
      io.out(flags.json ? 'null' : `federation is not running${why ? `: ${why.state}, ${why.reason}` : ''}`);
      return 4;
    }
    if (!isFederationBlock(f)) throw new UserError('the agent sent a federation block this CLI does not understand (schema mismatch)');
    io.out(flags.json ? JSON.stringify(f, null, 2) : renderPeers(f, Date.now()));
    return 0;
  },
};
