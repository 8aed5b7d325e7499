// The core's builds only — SIMD WASM (where this V8 runs it), scalar WASM, portable JS — without
// the C stick and without tsx, so that it runs on a foreign Node under qemu-user (bench:core needs
// gcc and a native C process, which would time the host, not the emulated CPU). Bundle it, then
// run it with any node:
//   npx esbuild bench/core/variants.ts --bundle --platform=node --format=esm --outfile=/tmp/cv.mjs
//   X0TTA6BL4_WASM=$PWD/dist/core.wasm qemu-mipsel-static -L ROOT ROOT/usr/bin/node /tmp/cv.mjs [--sizes 16x1000] [--rules mean,krum] [--budget-ms 300] [--warm-runs 30]
// Same JSON shape as bench:core: rows of median ms per variant, plus js_over_wasm_scalar. Results
// are checked bit-identical across the builds before timing (exit 1 if not).
import { cpus } from 'node:os';
import { type Aggregator, type Core, loadCore } from '../../src/core/index.ts';
import { byzantine, ruleCases } from './cases.ts';
import { benchInput } from './inputs.ts';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : (process.argv[i + 1] ?? dflt);
};
const sizes = arg('sizes', '16x1000').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const rules = arg('rules', 'mean,median,trimmed-mean,krum,geometric-median,centered-clipping').split(',');
const budgetMs = Number(arg('budget-ms', '300'));
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const round = (v: number, digits = 4): number => Number(v.toPrecision(digits));

const best = await loadCore();
const builds: [string, Core][] = [
  ...(best.variant === 'wasm-simd' ? [['wasm', best] as [string, Core]] : []),
  ['wasm_scalar', await loadCore({ prefer: 'wasm-scalar' })],
  ['js', await loadCore({ prefer: 'js' })],
];
if (builds.find(([k]) => k === 'wasm_scalar')![1].variant !== 'wasm-scalar') throw new Error('core-scalar.wasm did not load');
log(`bench:core variants on ${process.arch} node ${process.version}: default core ${best.variant} (${best.fallbackReason ?? 'no fallback'})`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

// V8 tiers functions up by call counts (Liftoff → TurboFan for WASM, and the JS build's
// functions once hot): a fixed number of runs of every case on a small input, not a time, so
// that an emulated CPU gets the same warm-up.
const warmRuns = Number(arg('warm-runs', '30'));
for (const [, core] of builds) {
  const input = benchInput(16, 2048, byzantine(16), 1);
  const agg = core.aggregator(16, 2048);
  for (let i = 0; i < 16; i++) agg.update(i).set(input.xs.subarray(i * 2048, (i + 1) * 2048));
  for (let r = 0; r < warmRuns; r++) {
    for (const c of ruleCases(16, 2048)) {
      const config = c.centered ? { ...c.config, center: input.center } : c.config;
      agg.run(config);
    }
  }
  agg.dispose();
}

const rows: { case: string; variants: Record<string, number> }[] = [];
const failures: string[] = [];
for (const [n, d] of sizes) {
  const input = benchInput(n, d, byzantine(n), 4 + n * 1_000_003 + d);
  const aggs: [string, Aggregator][] = builds.map(([k, core]) => {
    const agg = core.aggregator(n, d);
    for (let i = 0; i < n; i++) agg.update(i).set(input.xs.subarray(i * d, (i + 1) * d));
    return [k, agg];
  });
  for (const c of ruleCases(n, d).filter((r) => rules.includes(r.name))) {
    const config = c.centered ? { ...c.config, center: input.center } : c.config;
    const run = (agg: Aggregator): Float32Array => {
      agg.setWeights(c.weighted ? input.weights : null);
      return agg.run(config).result;
    };
    const bits = aggs.map(([, a]) => Array.from(new Uint32Array(run(a).slice().buffer)).join(','));
    if (bits.some((b) => b !== bits[0])) failures.push(`${c.name} n=${n} d=${d}: builds differ`);
    const times: Record<string, number[]> = Object.fromEntries(aggs.map(([k]) => [k, []]));
    const spent: Record<string, number> = Object.fromEntries(aggs.map(([k]) => [k, 0]));
    // rounds of one run per build, so that load from elsewhere falls on all alike
    for (let round_ = 0; round_ < 200 && (round_ < 3 || Object.values(spent).some((s) => s < budgetMs)); round_++) {
      for (const [k, a] of aggs) {
        if (round_ >= 3 && spent[k]! >= budgetMs) continue;
        const t0 = performance.now();
        run(a);
        const ms = performance.now() - t0;
        if (round_ > 0) times[k]!.push(ms); // the first run of each build is the warm-up
        spent[k]! += ms;
      }
    }
    const variants: Record<string, number> = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, round(median(t))]));
    variants.js_over_wasm_scalar = round(variants.js! / variants.wasm_scalar!, 3);
    rows.push({ case: `${c.name} n=${n} d=${d}`, variants });
    log(`  ${`${c.name} n=${n} d=${d}`.padEnd(36)} ${JSON.stringify(variants)}`);
  }
  for (const [, a] of aggs) a.dispose();
}
const speedups = rows.map((r) => r.variants.js_over_wasm_scalar!);
const summary = {
  arch: process.arch, node: process.version, cpu: cpus()[0]?.model ?? 'unknown', default_core: best.variant,
  fallback_reason: best.fallbackReason ?? null, budget_ms_per_variant: budgetMs,
  js_over_wasm_scalar: { min: Math.min(...speedups), max: Math.max(...speedups) }, failures,
};
process.stdout.write(`${JSON.stringify({ bench: 'core-variants', unit: 'ms', rows, summary }, null, 1)}\n`);
if (failures.length) process.exit(1);
