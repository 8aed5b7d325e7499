// npm run bench:memory — the agent's own memory (private = anonymous pages) and RSS per
// configuration, on the host and in QEMU guests. Prints one JSON document on stdout; progress
// goes to stderr. Options: --quick (short settle and windows), --host-only, --bundle PATH,
// --node-flags "..." (default: the flags board-configs gives a 256 MiB router).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HOST_CASES, runHost } from './host.ts';
import { mb } from './smaps.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'host-only': { type: 'boolean', default: false },
    bundle: { type: 'string', default: fileURLToPath(new URL('../../dist/x0tta6bl4.mjs', import.meta.url)) },
    'node-flags': { type: 'string' },
    cases: { type: 'string' },
  },
});
if (!existsSync(args.bundle)) throw new Error(`${args.bundle} missing: run npm run build`);
const nodeFlags = (args['node-flags'] ?? '').split(/\s+/).filter(Boolean);
const cases = args.cases ? HOST_CASES.filter((c) => args.cases!.split(',').includes(c.name)) : HOST_CASES;

const host = await runHost({ bundle: args.bundle, nodeFlags, settleS: args.quick ? 10 : 30, windowS: args.quick ? 5 : 15, cases });
const byName = Object.fromEntries(host.map((r) => [r.c.name, r.m]));
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.99) - 1)] ?? NaN;

const doc = {
  bench: 'memory',
  unit: 'MB',
  rows: host.map(({ c, m }) => ({
    case: `host_${c.name}`,
    variants: { private_mb: mb(m.last.anonymousKb), private_peak_mb: mb(m.peakAnonymousKb), rss_mb: mb(m.last.rssKb), health_p99_ms: Math.round(p99(m.healthMs)) },
  })),
  summary: {
    private_mb_default: byName.default ? mb(byName.default.last.anonymousKb) : null,
    private_mb_fed_telemetry: byName.fed_telemetry ? mb(byName.fed_telemetry.last.anonymousKb) : null,
    private_mb_10_peers: byName['10_peers'] ? mb(byName['10_peers'].last.anonymousKb) : null,
    node_flags: nodeFlags.join(' '),
    node: process.version,
    private_means: 'Anonymous: in /proc/PID/smaps_rollup (JS heap, malloc, WASM memory); shared clean file pages of the node binary are not counted',
  },
};
process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
process.exit(0);
