// npm run bench:federation — RSS of one federation node with 0, 10 and 50 admitted peers. The
// measured node runs alone in its own process; peers run in other processes (10 per process),
// each publishing 1 KiB per second, so the figure is one agent's, not the harness's.
// Prints one JSON document on stdout; progress goes to stderr.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { TestFleet } from '../../test/federation/fleet-harness.ts';
import type { FederationSettings } from '../../src/federation/settings.ts';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const log = (s: string) => process.stderr.write(`bench:federation: ${s}\n`);
const PER_PROCESS = 10;
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 5000);

// Both children run as esbuild bundles under plain node, as the agent does on a router: tsx's
// loader would add tens of MB to the measured process.
const outdir = mkdtempSync(join(tmpdir(), 'x0-bench-fed-'));
await build({
  entryPoints: [here('./hub.ts'), here('./peers.ts')],
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  keepNames: true,
  banner: { js: "import { createRequire as __x0_cr } from 'node:module'; const require = __x0_cr(import.meta.url);" },
  logLevel: 'warning',
});
log(`hub bundle ${(statSync(join(outdir, 'hub.mjs')).size / 1024).toFixed(0)} KiB`);

function child(file: string, arg: unknown, gc = false): ChildProcess {
  return fork(join(outdir, file.replace(/^\.\//, '').replace(/\.ts$/, '.mjs')), [JSON.stringify(arg)], { execArgv: gc ? ['--expose-gc'] : [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
}
const next = <T>(c: ChildProcess) => new Promise<T>((resolve, reject) => {
  c.once('message', (m) => resolve(m as T));
  c.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
});

interface Sample { peers: number; rss: number; heapUsed: number; external: number; received: number; dropped: Record<string, number> }

const fleet = new TestFleet('bench');
const common: Partial<FederationSettings> = { maxConnections: 128, inboundPerHostPerSecond: 1000, rateBurst: 100, ratePerSecond: 20, admissionTimeoutMs: 30_000, peerExchange: false }; // a star: only the hub's connections matter
const hubPrep = await fleet.prepare('hub');
const hub = child('./hub.ts', { ...hubPrep.settings, ...common }, true);
const { addrs } = await next<{ addrs: string[] }>(hub);
const measure = async (): Promise<Sample> => {
  hub.send({ cmd: 'measure' });
  return next<Sample>(hub);
};

const samples: Record<string, Sample> = {};
await new Promise((r) => setTimeout(r, SETTLE_MS));
samples['0_peers'] = await measure();
log(`0 peers: ${(samples['0_peers'].rss / 2 ** 20).toFixed(1)} MB`);

const batches: ChildProcess[] = [];
let started = 0;
for (const target of [10, 50]) {
  while (started < target) {
    const settings: FederationSettings[] = [];
    for (let i = 0; i < PER_PROCESS; i++) settings.push({ ...(await fleet.prepare(`p${started + i}`)).settings, ...common });
    const c = child('./peers.ts', { settings, hub: addrs[0], tickMs: 1000 });
    const timeout = setTimeout(() => {
      log(`peers ${started}..${started + PER_PROCESS - 1} not all admitted after 180 s; giving up`);
      process.exit(1);
    }, 180_000);
    await next(c);
    clearTimeout(timeout);
    batches.push(c);
    started += PER_PROCESS;
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const s = await measure();
  samples[`${target}_peers`] = s;
  log(`${target} peers (hub sees ${s.peers} admitted): ${(s.rss / 2 ** 20).toFixed(1)} MB rss, ${s.received} messages received`);
  if (s.peers < target) throw new Error(`hub has ${s.peers} admitted peers, expected ${target}`);
}

for (const c of [...batches, hub]) c.send({ cmd: 'stop' });
await Promise.all([...batches, hub].map((c) => new Promise((r) => c.once('exit', r))));

const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
const pick = (f: (s: Sample) => number) => Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, mb(f(s))]));
process.stdout.write(
  JSON.stringify(
    {
      bench: 'federation',
      unit: 'MB',
      rows: [
        { case: 'rss', variants: pick((s) => s.rss) },
        { case: 'heap_used', variants: pick((s) => s.heapUsed) },
        { case: 'external', variants: pick((s) => s.external) },
      ],
      summary: {
        rss_mb_0_peers: mb(samples['0_peers']!.rss),
        rss_mb_10_peers: mb(samples['10_peers']!.rss),
        rss_mb_50_peers: mb(samples['50_peers']!.rss),
        peer_traffic: '1 KiB message per peer per second on one topic the node subscribes to',
        // Cumulative count at each sample: shows the peers' traffic really reached the node's handlers.
        messages_received_10_peers: samples['10_peers']!.received,
        messages_received_50_peers: samples['50_peers']!.received,
        node: process.version,
      },
    },
    null,
    2,
  ) + '\n',
);
