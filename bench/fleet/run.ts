// npm run bench:fleet — the fleet side at scale: N light simulated routers (bench/fleet/light-router.ts,
// the MQTT contract v1 without an agent behind it) → one mosquitto → `x0tta6bl4 fleet exporter`
// (the built bundle dist/x0tta6bl4-fleet.mjs, its own process) ← a real Prometheus scraping it.
// Each router sends one snapshot per 10 s and an event about once a minute (QoS 1). For each N in
// X0_BENCH_ROUTERS (ascending) it measures throughput, lost events, RSS and CPU of the exporter,
// the broker and Prometheus, and the scrape time Prometheus saw; it stops at the first N that does
// not hold (0 events lost, exporter ≤ 200 MB RSS, every scrape ≤ 1 s) and reports the largest that did.
// Environment: X0_BENCH_ALL=1 (go on past the first N that fails), X0_BENCH_ROUTERS (default 500,1000,2000,3500,5000), X0_BENCH_S (steady seconds, 60),
// X0_BENCH_EVENT_S (mean seconds between events of one router, 60), X0_BENCH_EXPORTER_NODE_FLAGS,
// X0_BENCH_SHARDS (4), X0_BENCH_EXPORTER_ARGS (e.g. --gzip), X0_BENCH_PROM_ARGS (more Prometheus flags).
// JSON on stdout, progress on stderr.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Mosquitto } from '../../test/telemetry/mosquitto.ts';
import { Prometheus } from '../../test/fleet-exporter/prometheus.ts';
import { LightRouter, type RouterStats } from './light-router.ts';
import { cpuS, RssSampler } from './proc-usage.ts';

const root = new URL('../..', import.meta.url).pathname;
const env = (name: string, def: number) => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const STEPS = (process.env.X0_BENCH_ROUTERS ?? '500,1000,2000,3500,5000').split(',').map((s) => Math.round(Number(s)));
if (STEPS.some((n) => !(n > 0 && n <= 20_000))) throw new Error('X0_BENCH_ROUTERS: comma-separated router counts, 1..20000');
const STEADY_S = env('X0_BENCH_S', 60);
const EVENT_S = env('X0_BENCH_EVENT_S', 60);
const INTERVAL_S = 10;
const SCRAPE_S = 10;
const LIMITS = { rssMb: 200, scrapeMs: 1000 };
// How an operator should run the exporter for a big fleet (docs/fleet-exporter.md): a small young
// generation and a capped old one make V8 collect instead of growing (live heap ≈ 55 MB at 5,000 nodes).
const EXPORTER_NODE_FLAGS = (process.env.X0_BENCH_EXPORTER_NODE_FLAGS ?? '--max-semi-space-size=2 --max-old-space-size=160').split(' ').filter(Boolean);
// More exporter flags (e.g. --gzip) and Prometheus flags (e.g. --no-storage.tsdb.wal-compression) to compare.
const EXPORTER_ARGS = (process.env.X0_BENCH_EXPORTER_ARGS ?? '').split(' ').filter(Boolean);
// Scrape the exporter as this many shards (each its own target, as docs/fleet-exporter.md tells an
// operator to for a large fleet); 1 = one /metrics for the whole fleet.
const SHARDS = env('X0_BENCH_SHARDS', 4);
const PROM_ARGS = (process.env.X0_BENCH_PROM_ARGS ?? '').split(' ').filter(Boolean);
const log = (m: string) => process.stderr.write(`bench:fleet: ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

interface Exporter {
  proc: ChildProcess;
  url: string;
}

async function startExporter(broker: string): Promise<Exporter> {
  const bundle = `${root}dist/x0tta6bl4-fleet.mjs`;
  const entry = existsSync(bundle) ? [bundle] : ['--import', 'tsx', `${root}src/fleet-exporter/command.ts`];
  if (entry.length > 1) log('dist/x0tta6bl4-fleet.mjs not built: running the exporter from source (npm run build for the real thing)');
  const proc = spawn(process.execPath, [...EXPORTER_NODE_FLAGS, ...entry, '--broker', broker, '--fleet', 'bench', '--listen', '127.0.0.1:0', '--stale', '120', ...EXPORTER_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', () => {});
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out);
    if (m) return { proc, url: m[1]! };
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`the exporter did not start: ${out}`);
    await sleep(100);
  }
}

/** The exporter's own view: messages received and events counted (sums over the fleet). */
async function exporterCounts(url: string): Promise<{ telemetry: number; events: number; missing: number; ms: number; renderMs: number; renderCpuMs: number }> {
  const t0 = performance.now();
  const text = await (await fetch(url)).text();
  const ms = performance.now() - t0;
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  return {
    telemetry: sum(/^x0tta6bl4_fleet_exporter_messages_total\{topic="telemetry"\} (\d+)$/gm),
    events: sum(/^x0tta6bl4_events_total\{[^}]*\} (\d+)$/gm),
    missing: sum(/^x0tta6bl4_events_missing_total\{[^}]*\} (\d+)$/gm),
    ms,
    // The previous render (the one before this fetch): wall and CPU time, in ms.
    renderMs: 1000 * sum(/^x0tta6bl4_fleet_exporter_render_seconds (\S+)$/gm),
    renderCpuMs: 1000 * sum(/^x0tta6bl4_fleet_exporter_render_cpu_seconds (\S+)$/gm),
  };
}

/** /metrics fetched by curl (another process, as Prometheus would): wall ms and bytes on the wire. */
function curlProbe(url: string, gzip: boolean): Promise<{ ms: number; bytes: number }> {
  const args = ['-s', '-o', '/dev/null', '-w', '%{time_total} %{size_download}', ...(gzip ? ['-H', 'Accept-Encoding: gzip'] : []), url];
  return new Promise((resolve) => execFile('curl', args, (err, out) => {
    const [t, b] = err ? [NaN, NaN] : out.trim().split(' ').map(Number);
    resolve({ ms: round(t! * 1000), bytes: b! });
  }));
}

async function until(pred: () => boolean | Promise<boolean>, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!(await pred())) {
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
  return true;
}

async function connectRouters(n: number, port: number, stats: RouterStats): Promise<LightRouter[]> {
  const routers: LightRouter[] = [];
  for (let i = 0; i < n; i++) {
    const r = new LightRouter(i, n, 'bench', port, stats);
    r.start(INTERVAL_S * 1000, () => {});
    routers.push(r);
    if (i % 100 === 99) await sleep(50);
  }
  if (!(await until(() => stats.connected === n, 120_000))) log(`only ${stats.connected} of ${n} routers connected`);
  return routers;
}

function emitEvents(routers: LightRouter[]): NodeJS.Timeout {
  const kinds = ['info', 'finding', 'action', 'rollback'] as const;
  const perTick = routers.length / EVENT_S / 10;
  let carry = 0;
  let k = 0;
  return setInterval(() => {
    carry += perTick;
    for (; carry >= 1; carry--) routers[Math.floor(Math.random() * routers.length)]!.event(kinds[k++ % kinds.length]!);
  }, 100);
}

async function step(n: number) {
  const broker = await Mosquitto.start();
  const exporter = await startExporter(broker.url);
  const prom = await Prometheus.start({ targets: [new URL(exporter.url).host], scrapeIntervalS: SCRAPE_S, shards: SHARDS, extraArgs: PROM_ARGS });
  const pids = { exporter: exporter.proc.pid, broker: broker.pid, prometheus: prom.pid };
  const rss = new RssSampler(pids);
  const stats: RouterStats = { connected: 0, snapshots: 0, eventsSent: 0, eventsAcked: 0 };
  let routers: LightRouter[] = [];
  try {
    routers = await connectRouters(n, broker.port, stats);
    await sleep(INTERVAL_S * 1000); // every router has sent its first snapshot
    const c0 = await exporterCounts(exporter.url);
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuS(p)]));
    const t0 = Date.now();
    const benchCpu0 = process.cpuUsage();
    const ev = emitEvents(routers);
    await sleep((STEADY_S * 1000) / 2);
    // Mid-run, between Prometheus' scrapes as likely as not: the exporter's answer seen from outside.
    const plain = await curlProbe(exporter.url, false);
    const gz = await curlProbe(exporter.url, true);
    await sleep((STEADY_S * 1000) / 2);
    clearInterval(ev);
    const steadyS = (Date.now() - t0) / 1000;
    const cpu = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, round((100 * (cpuS(p) - cpu0[k]!)) / steadyS)]));
    const bc = process.cpuUsage(benchCpu0);
    const benchCpuPct = round((bc.user + bc.system) / 1e4 / steadyS);
    const c1 = await exporterCounts(exporter.url);
    await until(() => routers.every((r) => r.pending === 0), 30_000);
    let last = c1;
    await until(async () => (last = await exporterCounts(exporter.url)).events >= stats.eventsSent, 60_000);
    await sleep(SCRAPE_S * 1000 + 2000); // one more scrape after the drain
    const scrape = await prom.query(`max(max_over_time(scrape_duration_seconds{job="x0tta6bl4-fleet"}[${Math.ceil((Date.now() - t0) / 1000)}s]))`);
    const scrapeMed = await prom.query(`max(quantile_over_time(0.5, scrape_duration_seconds{job="x0tta6bl4-fleet"}[${Math.ceil((Date.now() - t0) / 1000)}s]))`);
    const upMin = await prom.query(`min(min_over_time(up{job="x0tta6bl4-fleet"}[${Math.ceil((Date.now() - t0) / 1000)}s]))`);
    const samples = await prom.query('sum(scrape_samples_scraped{job="x0tta6bl4-fleet"})');
    const samplesMax = await prom.query('max(scrape_samples_scraped{job="x0tta6bl4-fleet"})');
    const v = {
      routers: n,
      connected: stats.connected,
      snapshots_per_s: round((c1.telemetry - c0.telemetry) / steadyS),
      events_per_s: round((last.events - c0.events) / steadyS, 2),
      events_sent: stats.eventsSent,
      lost_events: stats.eventsSent - last.events,
      missing_events: last.missing,
      exporter_rss_mb: round(rss.max('exporter')),
      broker_rss_mb: round(rss.max('broker')),
      prometheus_rss_mb: round(rss.max('prometheus')),
      scrape_ms: round(Number(scrape[0]?.value[1] ?? NaN) * 1000),
      scrape_p50_ms: round(Number(scrapeMed[0]?.value[1] ?? NaN) * 1000),
      scrape_up_min: Number(upMin[0]?.value[1] ?? NaN),
      // All shards together, and the largest single scrape.
      scrape_samples: Number(samples[0]?.value[1] ?? NaN),
      scrape_samples_max: Number(samplesMax[0]?.value[1] ?? NaN),
      fetch_ms: round(last.ms),
      curl_ms: plain.ms,
      curl_bytes: plain.bytes,
      curl_gzip_ms: gz.ms,
      curl_gzip_bytes: gz.bytes,
      render_ms: round(last.renderMs),
      render_cpu_ms: round(last.renderCpuMs),
      exporter_cpu_pct: cpu.exporter!,
      broker_cpu_pct: cpu.broker!,
      prometheus_cpu_pct: cpu.prometheus!,
      // The simulated routers themselves (this process): load that a real fleet puts on other hosts.
      routers_cpu_pct: benchCpuPct,
      load1: round(loadavg()[0]!, 2),
    };
    const holds = v.connected === n && v.lost_events === 0 && v.exporter_rss_mb <= LIMITS.rssMb && v.scrape_ms <= LIMITS.scrapeMs && v.scrape_up_min === 1;
    return { ...v, holds: holds ? 1 : 0 };
  } finally {
    rss.stop();
    for (const r of routers) r.stop();
    exporter.proc.kill('SIGTERM');
    await prom.stop();
    await broker.stop();
    await new Promise((r) => (exporter.proc.exitCode !== null ? r(null) : exporter.proc.once('exit', r)));
  }
}

const rows: { case: string; variants: Record<string, number> }[] = [];
let best: Record<string, number> | null = null;
let failed: Record<string, number> | null = null;
const loadStart = loadavg().map((x) => round(x, 2));
for (const n of STEPS.sort((a, b) => a - b)) {
  log(`${n} routers: ${STEADY_S} s steady (load ${loadavg()[0]!.toFixed(1)})`);
  const r = await step(n);
  log(JSON.stringify(r));
  rows.push({ case: `${n} routers`, variants: r });
  if (r.holds) best = r;
  else {
    failed ??= r;
    // X0_BENCH_ALL=1 measures the larger N too (where the cost grows), instead of stopping here.
    if (process.env.X0_BENCH_ALL !== '1') break;
  }
}
const keys = ['routers', 'snapshots_per_s', 'events_per_s', 'lost_events', 'exporter_rss_mb', 'scrape_ms', 'broker_rss_mb'] as const;
const summary = {
  ...Object.fromEntries(keys.map((k) => [k, best ? best[k] : 0])),
  limits: { lost_events: 0, exporter_rss_mb: LIMITS.rssMb, scrape_ms: LIMITS.scrapeMs },
  first_failing: failed ? failed.routers : null,
  steady_s: STEADY_S,
  loadavg_start: loadStart,
  loadavg_end: loadavg().map((x) => round(x, 2)),
  cpus: (await import('node:os')).cpus().length,
  exporter_node_flags: EXPORTER_NODE_FLAGS.join(' '),
  exporter_args: EXPORTER_ARGS.join(' '),
  shards: SHARDS,
  prometheus_args: PROM_ARGS.join(' '),
};
process.stdout.write(`${JSON.stringify({ bench: 'fleet', unit: 'mixed (see keys: _per_s, _mb, _ms, _pct)', rows, summary }, null, 2)}\n`);
