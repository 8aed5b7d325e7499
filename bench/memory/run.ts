// npm run bench:memory — the agent's own memory (private = anonymous pages) and RSS per
// configuration on the host, and in QEMU guests of 256 and 128 MiB (federation, telemetry, one
// peer; /health latency; OOM kills). Prints one JSON document on stdout; progress on stderr.
//   -- --quick          short settle/windows, 60 s in the 128 MiB guest (for trying)
//   -- --host-only / --guest-only
//   -- --node-flags="…" the agent's node flags on the host ("none": none); default: the flags
//                       the init script gives a 256 MB MT7621 router (board-configs/gl-mt1300.json)
//   -- --guest-flags="…" the agent's node flags in the guests (default: the boards' profiles)
//   -- --bundle PATH    another build of the agent (before/after comparisons)
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadBoardConfigs } from '../../board-configs/load.mjs';
import { HOST_CASES, runHost } from './host.ts';
import { runGuest, type GuestResult } from './guest.ts';
import { mb } from './smaps.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'host-only': { type: 'boolean', default: false },
    'guest-only': { type: 'boolean', default: false },
    bundle: { type: 'string', default: fileURLToPath(new URL('../../dist/x0tta6bl4.mjs', import.meta.url)) },
    'node-flags': { type: 'string' },
    cases: { type: 'string' },
    'guest-mb': { type: 'string', default: '256,128' },
    'guest-flags': { type: 'string' },
  },
});
args.bundle = resolve(args.bundle); // the guests run from /
if (!existsSync(args.bundle)) throw new Error(`${args.bundle} missing: run npm run build`);
// The guests mount their own tmpfs on /tmp; the bundle must sit next to its core.wasm anyway.
if (!args['host-only'] && args.bundle.startsWith('/tmp/')) throw new Error(`--bundle ${args.bundle}: the guests cannot see /tmp; put it in dist/`);
const log = (s: string) => process.stderr.write(`bench:memory: ${s}\n`);

/** What x0tta6bl4.init passes to node for a board profile. */
function profileFlags(id: string): string[] {
  const b = loadBoardConfigs().find((x) => x.id === id);
  if (!b?.node) throw new Error(`board-configs/${id}.json: no node settings`);
  return [`--max-old-space-size=${b.node.maxOldSpaceMB}`, `--max-semi-space-size=${b.node.maxSemiSpaceMB}`, '--v8-pool-size=1', ...(b.node.flags ?? [])];
}
const flags256 = profileFlags('gl-mt1300');
const flags128 = profileFlags('xiaomi-mi-router-4a-gigabit');
const guestFlagsOverride = args['guest-flags'] === undefined ? null : args['guest-flags'] === 'none' ? [] : args['guest-flags'].split(/\s+/).filter(Boolean);
const hostFlags = args['node-flags'] === undefined ? flags256 : args['node-flags'] === 'none' ? [] : args['node-flags'].split(/\s+/).filter(Boolean);
const cases = args.cases ? HOST_CASES.filter((c) => args.cases!.split(',').includes(c.name)) : HOST_CASES;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.99) - 1)] ?? NaN;

// The host is shared: the load beside the figures says how much the latencies are worth.
const loadStart = loadavg();
const host = args['guest-only'] ? [] : await runHost({ bundle: args.bundle, nodeFlags: hostFlags, settleS: args.quick ? 10 : 30, windowS: args.quick ? 5 : 15, cases });
const byName = Object.fromEntries(host.map((r) => [r.c.name, r.m]));

const guests: GuestResult[] = [];
if (!args['host-only'])
  for (const memoryMb of args['guest-mb'].split(',').map(Number)) {
    const durationS = memoryMb <= 128 ? (args.quick ? 60 : 300) : args.quick ? 30 : 60;
    const g = await runGuest({ bundle: args.bundle, memoryMb, agentFlags: guestFlagsOverride ?? (memoryMb <= 128 ? flags128 : flags256), durationS, log });
    log(`guest ${memoryMb} MiB: private ${g.private ? mb(g.private.medianKb) : '?'} MB, rss ${g.rssMedianKb ? mb(g.rssMedianKb) : '?'} MB, /health p99 ${Math.round(p99(g.healthMs))} ms (${g.healthFailures} failed of ${g.healthMs.length}), OOM kills: ${g.oomKills.length}`);
    guests.push(g);
  }
const guest = (m: number) => guests.find((g) => g.memoryMb === m);

const doc = {
  bench: 'memory',
  unit: 'MB',
  rows: [
    ...host.map(({ c, m }) => ({
      case: `host_${c.name}`,
      variants: {
        private_mb: mb(m.last.anonymousKb),
        private_peak_mb: mb(m.peakAnonymousKb),
        malloc_mb: mb(m.mallocKb),
        rss_mb: mb(m.last.rssKb),
        health_p99_ms: Math.round(p99(m.healthMs)),
        ...(m.gc ? { v8_live_after_full_gc_mb: m.gc.liveMb, v8_committed_mb: m.gc.committedMb } : {}),
      },
    })),
    ...guests.map((g) => ({
      case: `guest_${g.memoryMb}_fed_telemetry_1_peer`,
      variants: {
        private_mb: g.private ? mb(g.private.medianKb) : NaN,
        private_peak_mb: g.private ? mb(g.private.peakKb) : NaN,
        rss_mb: g.rssMedianKb ? mb(g.rssMedianKb) : NaN,
        health_p99_ms: Math.round(p99(g.healthMs)),
        health_failed: g.healthFailures,
        health_requests: g.healthMs.length,
        agent_start_s: g.agentStartS ?? NaN,
        oom_kills: g.oomKills.length,
        agent_cpu_share: g.cpuShare ?? NaN,
        major_page_faults: g.majorFaults ?? NaN,
        guest_mem_total_mb: g.memTotalKb ? mb(g.memTotalKb) : NaN,
        guest_mem_available_before_agent_mb: g.memAvailableAtStartKb ? mb(g.memAvailableAtStartKb) : NaN,
      },
    })),
  ],
  summary: {
    private_mb_default: byName.default ? mb(byName.default.last.anonymousKb) : null,
    private_mb_fed_telemetry: byName.fed_telemetry ? mb(byName.fed_telemetry.last.anonymousKb) : null,
    private_mb_10_peers: byName['10_peers'] ? mb(byName['10_peers'].last.anonymousKb) : null,
    // What one more admitted peer costs: (10 peers − 1 peer) / 9.
    private_mb_per_peer: byName['10_peers'] && byName['1_peer'] ? Math.round(((byName['10_peers'].last.anonymousKb - byName['1_peer'].last.anonymousKb) / 9 / 1024) * 100) / 100 : null,
    rss_mb_fed_telemetry_256: guest(256)?.rssMedianKb ? mb(guest(256)!.rssMedianKb!) : null,
    health_ms_128: guest(128) ? Math.round(p99(guest(128)!.healthMs)) : null,
    health_128_duration_s: guest(128)?.durationS ?? null,
    health_128_peer_admitted: guest(128)?.peerAdmitted ?? null,
    oom_killed_128: guest(128) ? guest(128)!.oomKills : null,
    host_node_flags: hostFlags.join(' '),
    guest_node_flags: guestFlagsOverride ? guestFlagsOverride.join(' ') : { '256': flags256.join(' '), '128': flags128.join(' ') },
    node: process.version,
    host_loadavg_start: loadStart.map((x) => Math.round(x * 100) / 100),
    host_loadavg_end: loadavg().map((x) => Math.round(x * 100) / 100),
    private_means: 'Anonymous: in /proc/PID/smaps_rollup (JS heap, malloc, WASM memory); the node binary’s shared clean file pages are not counted',
    guest_means: 'QEMU TCG (software emulation, x86-64 guest, Debian kernel) on a shared 2-core host: latency is far slower than a router’s CPU would be, memory is like-for-like',
  },
};
process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
process.exit(0);
