// npm run bench:tracing [-- --quick]
//
// What tracing costs. Row "cycle": CPU microseconds (process.cpuUsage, user + system) per
// MAPE-K-like cycle — a synthetic monitor/analyze/plan/execute/verify over a 20-link originator
// table — in four variants: `none` (no tracing calls at all: the baseline), `off` (the calls on
// the no-op tracer, what every router runs with tracing.enabled off), `unsampled` (tracing on,
// trace not sampled: ids only), `traced` (6 recorded spans with attributes, 2 events, a status,
// and the OTLP protobuf encoding of those 6 spans, as if each cycle were its own export). Median
// over many blocks, variants interleaved so that load drifts hit all alike; ratios to `none`.
// The HTTP POST is not in the row: it is asynchronous I/O, batched (one per 5 s or 512 spans).
// Row "bundle": bytes the tracing modules add to the router bundle (esbuild, the router bundle's
// own options, minified): the agent's entry alone vs the same entry plus src/tracing/ and the
// tracing metrics, raw and gzip -9.
//
// Prints ONE JSON document on stdout; progress goes to stderr.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { NOOP_TRACER, type Span, type Tracer } from '../../src/tracing/api.ts';
import { encodeTraceRequest } from '../../src/tracing/otlp-encode.ts';
import type { RecordingSpan } from '../../src/tracing/recording-span.ts';
import { spanStarter } from '../../src/tracing/tracer.ts';
// @ts-expect-error: a plain .mjs module without types
import { bundleOptions, root } from '../../scripts/bundle-options.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 11 : 41;
const CYCLES_PER_BLOCK = quick ? 100 : 300;

// --- the synthetic cycle -------------------------------------------------------------------
const TABLE = Array.from({ length: 20 }, (_, i) =>
  ` * 02:00:00:00:00:${i.toString(16).padStart(2, '0')}    0.${(i * 37) % 1000}s   (${200 - i * 7}) 02:00:00:00:01:${i.toString(16).padStart(2, '0')} [    mesh${i % 2}]`,
).join('\n');
const ewma = new Map<string, number>();

function monitor(): { neighbour: string; iface: string; tq: number }[] {
  const out: { neighbour: string; iface: string; tq: number }[] = [];
  for (const line of TABLE.split('\n')) {
    const m = /\* (\S+)\s+\S+\s+\(\s*(\d+)\)\s+\S+\s+\[\s*(\S+)\]/.exec(line);
    if (m) out.push({ neighbour: m[1]!, iface: m[3]!, tq: Number(m[2]) });
  }
  return out;
}

function analyze(links: { neighbour: string; iface: string; tq: number }[]): { link: string; rule: string; score: number }[] {
  const findings: { link: string; rule: string; score: number }[] = [];
  for (const l of links) {
    const key = `${l.iface}/${l.neighbour}`;
    const e = 0.8 * (ewma.get(key) ?? l.tq) + 0.2 * l.tq;
    ewma.set(key, e);
    if (e < 110) findings.push({ link: key, rule: e < 80 ? 'link-dead' : 'link-degraded', score: 255 - e });
  }
  return findings.sort((a, b) => b.score - a.score);
}

function cycle(tracer: Tracer | null): number {
  const root: Span | null = tracer?.startSpan('mapek.cycle', { attributes: { 'x0tta6bl4.node': 'bench' } }) ?? null;
  const m = tracer?.startSpan('mapek.monitor', { parent: root!.context });
  const links = monitor();
  m?.setAttribute('x0tta6bl4.links', links.length);
  m?.end();
  const a = tracer?.startSpan('mapek.analyze', { parent: root!.context });
  const findings = analyze(links);
  for (const f of findings.slice(0, 2)) a?.addEvent('finding', { 'x0tta6bl4.link': f.link, 'x0tta6bl4.rule': f.rule, score: f.score });
  a?.end();
  const p = tracer?.startSpan('mapek.plan', { parent: root!.context });
  const action = findings.length ? `orig-interval/${findings[0]!.link}` : 'none';
  p?.setAttribute('x0tta6bl4.action', action);
  p?.end();
  const x = tracer?.startSpan('mapek.execute', { parent: root!.context, kind: 'client' });
  x?.setAttribute('network.interface.name', 'mesh0');
  x?.end();
  const v = tracer?.startSpan('mapek.verify', { parent: root!.context });
  v?.setStatus('ok');
  v?.end();
  root?.setStatus('ok');
  root?.end();
  return findings.length + action.length;
}

// --- variants ------------------------------------------------------------------------------
const RESOURCE = { serviceName: 'x0tta6bl4', serviceVersion: '0.0.0', hostName: 'bench' };
const SCOPE = { name: 'x0tta6bl4', version: '0.0.0' };
let ended: RecordingSpan[] = [];
let sink = 0;
const unsampled: Tracer = { enabled: true, startSpan: spanStarter(0, () => {}) };
const traced: Tracer = { enabled: true, startSpan: spanStarter(1, (s) => ended.push(s)) };

const VARIANTS: Record<string, () => void> = {
  none: () => { sink += cycle(null); },
  off: () => { sink += cycle(NOOP_TRACER); },
  unsampled: () => { sink += cycle(unsampled); },
  traced: () => {
    sink += cycle(traced);
    sink += encodeTraceRequest(RESOURCE, SCOPE, ended).byteLength;
    ended = [];
  },
};

function blockMicros(run: () => void): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < CYCLES_PER_BLOCK; i++) run();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / CYCLES_PER_BLOCK;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };
const round3 = (x: number) => Math.round(x * 1000) / 1000;

const load0 = loadavg()[0]!;
for (const run of Object.values(VARIANTS)) for (let i = 0; i < 3; i++) blockMicros(run); // warm-up (JIT)
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
const names = Object.keys(VARIANTS);
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(r + k) % names.length]!; // rotate the order each round
    samples[name]!.push(blockMicros(VARIANTS[name]!));
  }
}
const us = Object.fromEntries(names.map((n) => [n, round3(median(samples[n]!))]));
const oneEncode = encodeTraceRequest(RESOURCE, SCOPE, (() => { cycle(traced); const e = ended; ended = []; return e; })()).byteLength;
process.stderr.write(`bench:tracing: cycle medians (µs) ${JSON.stringify(us)}\n`);

// --- bundle bytes --------------------------------------------------------------------------
async function bundleBytes(entrySource: string, dir: string, name: string): Promise<{ raw: number; gzip: number }> {
  const entry = join(dir, `${name}.ts`);
  writeFileSync(entry, entrySource);
  const opts = bundleOptions({
    entry: 'src/cli/main.ts',
    outfile: join(dir, `${name}.mjs`),
    alias: {
      '@chainsafe/as-chacha20poly1305': `${root}src/bundle/wasm-crypto-for-noise.ts`,
      '@chainsafe/as-sha256': `${root}src/bundle/wasm-crypto-for-noise.ts`,
    },
  });
  const out = await build({ ...opts, entryPoints: [entry], write: false, logLevel: 'error' });
  const bytes = out.outputFiles![0]!.contents;
  return { raw: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength };
}

const dir = mkdtempSync(join(tmpdir(), 'x0-bench-tracing-'));
let bundle: Record<string, number> | null = null;
try {
  const main = `${root}src/cli/main.ts`;
  const before = await bundleBytes(`import ${JSON.stringify(main)};\n`, dir, 'before');
  const after = await bundleBytes(
    `import ${JSON.stringify(main)};\n` +
      `export { createTracer } from ${JSON.stringify(`${root}src/tracing/tracer.ts`)};\n` +
      `export { tracingSettings } from ${JSON.stringify(`${root}src/tracing/settings.ts`)};\n` +
      `export { injectContext, extractContext } from ${JSON.stringify(`${root}src/tracing/propagation.ts`)};\n` +
      `export { NOOP_TRACER } from ${JSON.stringify(`${root}src/tracing/api.ts`)};\n` +
      `export { renderTracingMetrics } from ${JSON.stringify(`${root}src/status/metrics-tracing.ts`)};\n`,
    dir,
    'after',
  );
  bundle = { before_bytes: before.raw, after_bytes: after.raw, added_bytes: after.raw - before.raw, added_gzip_bytes: after.gzip - before.gzip };
  process.stderr.write(`bench:tracing: bundle ${JSON.stringify(bundle)}\n`);
} catch (e) {
  process.stderr.write(`bench:tracing: bundle size not measured: ${(e as Error).message}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const rows: { case: string; variants: Record<string, number> }[] = [
  {
    case: 'cycle_cpu_us',
    variants: {
      ...us,
      off_over_none: round3(us.off! / us.none!),
      unsampled_over_none: round3(us.unsampled! / us.none!),
      traced_over_none: round3(us.traced! / us.none!),
      traced_minus_none_us: round3(us.traced! - us.none!),
    },
  },
];
if (bundle) rows.push({ case: 'router_bundle_bytes', variants: bundle });

process.stdout.write(
  JSON.stringify(
    {
      bench: 'tracing',
      unit: 'cpu_us_per_cycle; bytes',
      rows,
      summary: {
        spans_per_traced_cycle: 6,
        otlp_bytes_per_traced_cycle: oneEncode,
        rounds: ROUNDS,
        cycles_per_block: CYCLES_PER_BLOCK,
        loadavg_1m: [round3(load0), round3(loadavg()[0]!)],
        node: process.version,
        goal: 'router bundle grows ≤ 30 KB; off costs nothing measurable',
        checksum: sink % 1000,
      },
    },
    null,
    2,
  ) + '\n',
);
