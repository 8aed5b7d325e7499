// npm run bench:core [-- --quick] [-- --rules krum,median] [-- --sizes 16x10000,64x100000] [-- --budget-ms 800] [-- --c-sse]
// (BENCH_CORE_QUICK=1 is the same as --quick. --c-sse adds the variant c_sse: the same C limited
// to 128-bit vectors, as wide as WASM SIMD — it shows how much of the gap to c is vector width.)
//
// Median milliseconds per aggregation for every rule of the core at (n, d) ∈ {(16, 10⁴),
// (32, 10⁵), (64, 10⁵), (128, 10⁴)}, for four implementations of the same algorithm: the WASM
// build (SIMD), the scalar WASM build (the same sources without SIMD, what routers without Wasm
// SIMD run), the portable JS build (wasm2js of the scalar build) and native C compiled here
// with gcc -O3 -march=native (bench/core/c/aggregators.c, the measuring stick). One timed
// aggregation is one Aggregator.run() — the finiteness check of every update, then the rule —
// and the same in C. Before anything is timed, every case's results are compared: scalar WASM
// and JS must be bit-identical to WASM, C must match WASM within 1e-5 of the largest coordinate (it is built to
// be bit-identical; the count of identical results is in the summary). A case whose C result does
// not match is not timed in C, and the run exits 1.
//
// Prints ONE JSON document on stdout; progress goes to stderr. Rows carry the variants wasm,
// wasm_scalar, js, c (median ms) and the ratios wasm_over_js = wasm/js, wasm_over_c = wasm/c and
// wasm_scalar_over_js = wasm_scalar/js (time ratios: the goal for the hot rules is
// wasm_over_js ≤ 0.25, i.e. 4× faster, and wasm_over_c ≤ 1.3).
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { type Aggregator, type Core, loadCore } from '../../src/core/index.ts';
import { CStick, GCC_FLAGS_128, type StickSession } from './c-stick.ts';
import { BUCKET, CC, GM, type RuleCase, byzantine, ruleCases } from './cases.ts';
import { type BenchInput, benchInput } from './inputs.ts';

const FULL_SIZES: [number, number][] = [[16, 10_000], [32, 100_000], [64, 100_000], [128, 10_000]];
const QUICK_SIZES: [number, number][] = [[16, 1_000], [32, 10_000], [64, 10_000], [128, 1_000]];
const SEED = 4;
const C_TOLERANCE = 1e-5;

function usage(message: string): never {
  process.stderr.write(`bench:core: ${message}\nusage: npm run bench:core -- [--quick] [--rules a,b] [--sizes NxD,...] [--budget-ms MS]\n`);
  process.exit(2);
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) usage(`--${name} needs a value`);
  return v;
}

const known = new Set(['--quick', '--rules', '--sizes', '--budget-ms', '--c-sse']);
for (const a of process.argv.slice(2)) {
  if (a.startsWith('--') && !known.has(a)) usage(`unknown option ${a}`);
}
const quick = process.argv.includes('--quick') || process.env.BENCH_CORE_QUICK === '1';
const withSse = process.argv.includes('--c-sse');
const sizes: [number, number][] = option('sizes')?.split(',').map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m) usage(`--sizes: ${JSON.stringify(s)} is not NxD`);
  const n = Number(m[1]);
  const d = Number(m[2]);
  if (n < 16 || d < 1 || n * d > 1 << 26) usage(`--sizes: need n ≥ 16, d ≥ 1, n·d ≤ 2^26, got ${s}`);
  return [n, d] as [number, number];
}) ?? (quick ? QUICK_SIZES : FULL_SIZES);
const budgetMs = Number(option('budget-ms') ?? (quick ? 150 : 700));
if (!Number.isFinite(budgetMs) || budgetMs < 0) usage('--budget-ms needs a number ≥ 0');
const ruleFilter = option('rules')?.split(',').map((s) => s.trim());
const allNames = ruleCases(16, 16).map((c) => c.name);
for (const r of ruleFilter ?? []) if (!allNames.includes(r)) usage(`--rules: unknown rule ${r}; one of ${allNames.join(', ')}`);
const reps = { minReps: quick ? 3 : 5, maxReps: 400, budgetMs };

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const now = (): number => performance.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

// Times the variants of one case in interleaved rounds — a batch of WASM runs, a batch of
// scalar WASM runs, a batch of JS runs, a batch of C runs, again — so that whatever else the machine does at the time
// (these machines are shared) falls on all three alike. Every run is timed on its own; a batch
// only saves round trips to the C process on fast cases. Each batch starts with one untimed run
// that brings the variant's data back into the caches the other variants just used (skipped for
// runs of 50 ms and more, which are dominated by their own memory traffic), and WASM and C get
// the same batch size, so that neither median holds more cold runs than the other. Stops once
// every variant has minReps runs and either maxReps runs or budgetMs of runs.
const REWARM_BELOW_MS = 50;

type Stick = { session: StickSession; spec: string };

type Local = { wasm: () => void; wasm_scalar: () => void; js: () => void };

async function timeInterleaved(
  run: Local, c: Stick | undefined, cSse: Stick | undefined,
): Promise<{ wasm: number[]; wasm_scalar: number[]; js: number[]; c: number[]; c_sse: number[] }> {
  const once = (run: () => void): number => {
    const t0 = now();
    run();
    return now() - t0;
  };
  // one untimed run each gives the batch sizes: about a fortieth of the budget per batch, so that
  // the variants alternate often enough to see the same load
  const est = {
    wasm: once(run.wasm), wasm_scalar: once(run.wasm_scalar), js: once(run.js),
    c: c ? Math.min(...(await c.session.time(c.spec, 2))) : 0,
    c_sse: cSse ? Math.min(...(await cSse.session.time(cSse.spec, 2))) : 0,
  };
  const batch = (ms: number): number => Math.max(1, Math.min(reps.maxReps, Math.floor(reps.budgetMs / 40 / Math.max(ms, 1e-3))));
  const native = batch(Math.max(est.wasm, est.c, est.c_sse));
  const bs = batch(est.wasm_scalar);
  const bj = batch(est.js);
  type Key = 'wasm' | 'wasm_scalar' | 'js' | 'c' | 'c_sse';
  const warm = (k: Key): boolean => est[k] < REWARM_BELOW_MS;
  const t: Record<Key, number[]> = { wasm: [], wasm_scalar: [], js: [], c: [], c_sse: [] };
  const spent: Record<Key, number> = { wasm: 0, wasm_scalar: 0, js: 0, c: 0, c_sse: 0 };
  const more = (k: Key): boolean => t[k].length < reps.maxReps && (t[k].length < reps.minReps || spent[k] < reps.budgetMs);
  const record = (k: Key, ms: number): void => {
    t[k].push(ms);
    spent[k] += ms;
  };
  const local = (k: keyof Local, size: number): void => {
    if (warm(k)) run[k]();
    for (let i = 0; i < size; i++) record(k, once(run[k]));
  };
  const native_ = async (k: 'c' | 'c_sse', stick: Stick): Promise<void> => {
    const times = await stick.session.time(stick.spec, native + (warm(k) ? 1 : 0));
    for (const ms of warm(k) ? times.slice(1) : times) record(k, ms);
  };
  while (more('wasm') || more('wasm_scalar') || more('js') || (c && more('c')) || (cSse && more('c_sse'))) {
    if (more('wasm')) local('wasm', native);
    if (more('wasm_scalar')) local('wasm_scalar', bs);
    if (more('js')) local('js', bj);
    if (c && more('c')) await native_('c', c);
    if (cSse && more('c_sse')) await native_('c_sse', cSse);
  }
  return t;
}

interface Outcome {
  result: Float32Array;
  iterations?: number;
  selected?: number[];
}

function runCase(agg: Aggregator, c: RuleCase, input: BenchInput): Outcome {
  agg.setWeights(c.weighted ? input.weights : null);
  const config = c.centered ? { ...c.config, center: input.center } : c.config;
  const r = agg.run(config);
  return { result: r.result, iterations: r.iterations, selected: r.selected };
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function identical(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return a.length === b.length;
}

function filled(core: Core, input: BenchInput): Aggregator {
  const { n, d, xs } = input;
  const agg = core.aggregator(n, d);
  for (let i = 0; i < n; i++) agg.update(i).set(xs.subarray(i * d, (i + 1) * d));
  return agg;
}

// Brings every build to its optimised code before anything is timed: V8 first runs WASM
// functions in its baseline compiler (Liftoff) and tiers them up after some calls, and the JS
// build's functions only get optimised once they are hot.
function warmUp(cores: Core[]): void {
  const input = benchInput(16, 2048, byzantine(16), 1);
  for (const core of cores) {
    const agg = filled(core, input);
    const until = now() + 400;
    while (now() < until) for (const c of ruleCases(16, 2048)) runCase(agg, c, input);
    agg.dispose();
  }
}

function gccVersion(): string {
  try {
    return execFileSync(process.env.CC ?? 'gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

const round = (v: number, digits = 4): number => Number(v.toPrecision(digits));

const started = now();
const loadAtStart = loadavg().map((v) => round(v, 3));
const wasm = await loadCore();
if (wasm.kind !== 'wasm' || !wasm.simd) {
  log(`bench:core: the SIMD WASM build did not load (${wasm.fallbackReason ?? 'no SIMD'}); run npm run build:core`);
  process.exit(1);
}
const scalar = await loadCore({ prefer: 'wasm-scalar' });
if (scalar.variant !== 'wasm-scalar') {
  log(`bench:core: the scalar WASM build did not load (${scalar.fallbackReason}); run npm run build:core`);
  process.exit(1);
}
const js = await loadCore({ prefer: 'js' });
const stick = CStick.compile();
const stickSse = withSse ? CStick.compile(GCC_FLAGS_128) : undefined;
log(`bench:core: ${quick ? 'quick' : 'full'} run, sizes ${sizes.map(([n, d]) => `${n}x${d}`).join(' ')}, about ${budgetMs} ms per variant and case`);
warmUp([wasm, scalar, js]);

interface Row {
  case: string;
  variants: Record<string, number>;
}
const rows: Row[] = [];
const checks: Record<string, {
  c_max_abs_diff: number; c_identical: boolean; js_identical: boolean; wasm_scalar_identical: boolean; iterations?: number;
}> = {};
const failures: string[] = [];
const repsUsed: Record<string, Record<string, number>> = {};
// Minimum per variant: on a loaded machine the median moves with the load, the minimum much less.
const minima: Record<string, Record<string, number>> = {};

try {
  for (const [n, d] of sizes) {
    const f = byzantine(n);
    const input = benchInput(n, d, f, SEED + n * 1_000_003 + d);
    const cases = ruleCases(n, d).filter((c) => !ruleFilter || ruleFilter.includes(c.name));
    const aw = filled(wasm, input);
    const aScalar = filled(scalar, input);
    const aj = filled(js, input);
    const stickInput = { n, d, xs: input.xs, weights: input.weights, center: input.center };
    const session = stick.open(stickInput);
    const sessionSse = stickSse?.open(stickInput);
    try {
      log(`n=${n} d=${d} f=${f}:`);
      for (const c of cases) {
        const key = `${c.name} n=${n} d=${d}`;
        // 1. Same algorithm? C and JS against WASM, before any timing.
        const w = runCase(aw, c, input);
        const wr = w.result.slice();
        const sc = runCase(aScalar, c, input);
        const scalarSame = identical(wr, sc.result) && sc.iterations === w.iterations;
        const j = runCase(aj, c, input);
        const ct = await session.check(c.spec);
        const diff = maxAbsDiff(wr, ct.result);
        const jsSame = identical(wr, j.result) && j.iterations === w.iterations;
        let cOk = diff <= C_TOLERANCE * Math.max(1, maxAbs(wr));
        if (w.iterations !== undefined && ct.iterations !== w.iterations) cOk = false;
        if (c.config.rule === 'krum' && !c.config.pre && ct.selected !== w.selected![0]) cOk = false;
        checks[key] = {
          c_max_abs_diff: diff, c_identical: identical(wr, ct.result), js_identical: jsSame, wasm_scalar_identical: scalarSame,
          iterations: w.iterations,
        };
        if (!cOk) failures.push(`${key}: C differs from WASM (max |diff| ${diff}, iterations ${ct.iterations} vs ${w.iterations})`);
        if (!jsSame) failures.push(`${key}: JS is not bit-identical to WASM`);
        if (!scalarSame) failures.push(`${key}: scalar WASM is not bit-identical to WASM`);

        // 2. Time; C only where it computes what the WASM computes.
        let sseOk = false;
        if (sessionSse) {
          const cs = await sessionSse.check(c.spec);
          sseOk = identical(wr, cs.result) || maxAbsDiff(wr, cs.result) <= C_TOLERANCE * Math.max(1, maxAbs(wr));
          if (!sseOk) failures.push(`${key}: C (128-bit) differs from WASM`);
        }
        const t = await timeInterleaved(
          { wasm: () => runCase(aw, c, input), wasm_scalar: () => runCase(aScalar, c, input), js: () => runCase(aj, c, input) },
          cOk ? { session, spec: c.spec } : undefined,
          sessionSse && sseOk ? { session: sessionSse, spec: c.spec } : undefined,
        );
        const tw = median(t.wasm);
        const ts = median(t.wasm_scalar);
        const tj = median(t.js);
        const tc = t.c.length ? median(t.c) : undefined;
        const variants: Record<string, number> = { wasm: round(tw), wasm_scalar: round(ts), js: round(tj) };
        if (tc !== undefined) variants.c = round(tc);
        variants.wasm_over_js = round(tw / tj, 3);
        variants.wasm_scalar_over_js = round(ts / tj, 3);
        if (tc !== undefined) variants.wasm_over_c = round(tw / tc, 3);
        if (t.c_sse.length) {
          variants.c_sse = round(median(t.c_sse));
          variants.wasm_over_c_sse = round(tw / median(t.c_sse), 3);
        }
        rows.push({ case: key, variants });
        repsUsed[key] = { wasm: t.wasm.length, wasm_scalar: t.wasm_scalar.length, js: t.js.length, c: t.c.length, ...(t.c_sse.length ? { c_sse: t.c_sse.length } : {}) };
        minima[key] = {
          wasm: round(Math.min(...t.wasm)), wasm_scalar: round(Math.min(...t.wasm_scalar)), js: round(Math.min(...t.js)),
          ...(t.c.length ? { c: round(Math.min(...t.c)) } : {}), ...(t.c_sse.length ? { c_sse: round(Math.min(...t.c_sse)) } : {}),
        };
        log(`  ${c.name.padEnd(28)} wasm ${tw.toFixed(3).padStart(9)} ms  scalar ${ts.toFixed(3).padStart(9)} ms  js ${tj.toFixed(3).padStart(9)} ms` +
          `  c ${tc?.toFixed(3).padStart(9) ?? '      n/a'} ms  js/wasm ${(tj / tw).toFixed(2).padStart(6)}  js/scalar ${(tj / ts).toFixed(2).padStart(6)}` +
          `  wasm/c ${tc ? (tw / tc).toFixed(2) : 'n/a'}` +
          (variants.c_sse !== undefined ? `  wasm/c_sse ${variants.wasm_over_c_sse!.toFixed(2)}` : ''));
      }
    } finally {
      await session.close();
      await sessionSse?.close();
      aw.dispose();
      aScalar.dispose();
      aj.dispose();
    }
  }
} finally {
  stick.dispose();
  stickSse?.dispose();
}

// Where the hot-path rules stand against the goal (WASM ≥ 4× JS, within 1.3× of C).
const hotNames = new Set(ruleCases(16, 16).filter((c) => c.hot).map((c) => c.name));
const goal = rows
  .filter((r) => hotNames.has(r.case.split(' ')[0]!))
  .map((r) => ({
    case: r.case,
    js_speedup: round(r.variants.js! / r.variants.wasm!, 3),
    wasm_over_c: r.variants.wasm_over_c,
    meets_js: r.variants.js! / r.variants.wasm! >= 4,
    meets_c: r.variants.wasm_over_c !== undefined && r.variants.wasm_over_c <= 1.3,
    wasm_over_c_min: minima[r.case]?.c ? round(minima[r.case]!.wasm! / minima[r.case]!.c!, 3) : undefined,
  }));
const ratios = (k: 'wasm_over_js' | 'wasm_scalar_over_js' | 'wasm_over_c' | 'wasm_over_c_sse'): number[] => rows.map((r) => r.variants[k]).filter((v): v is number => v !== undefined);
const geomean = (xs: number[]): number => (xs.length ? round(Math.exp(xs.reduce((s, v) => s + Math.log(v), 0) / xs.length), 3) : NaN);
const summary = {
  mode: quick ? 'quick' : 'full',
  sizes: sizes.map(([n, d]) => ({ n, d, f: byzantine(n) })),
  parameters: {
    f: 'n/8', trimmed_b: 'f', multi_krum_m: 'n - f', geometric_median: GM, centered_clipping: { ...CC, center: 'the honest direction' },
    norm_clipping_max_norm: 'sqrt(d)', bucketing: BUCKET, weights: 'sample counts 1..100',
    inputs: 'n - f honest N(c, 1), f Byzantine N(-3c, 1), c ~ N(0, 0.25)',
  },
  timing: {
    what: 'one Aggregator.run(): finiteness check of every update, pre-aggregation, rule; same in C',
    statistic: 'median ms', interleaved: 'WASM, scalar WASM, JS and C runs alternate in batches; each batch starts with an untimed run (runs < 50 ms); WASM and C batches are the same size', min_reps: reps.minReps,
    max_reps: reps.maxReps, budget_ms_per_variant: reps.budgetMs, reps: repsUsed, min_ms: minima,
    load_average: { at_start: loadAtStart, at_end: loadavg().map((v) => round(v, 3)), cpus: cpus().length },
    ratios: 'wasm_over_js = wasm/js, wasm_scalar_over_js = wasm_scalar/js, wasm_over_c = wasm/c (time ratios; below 1 = WASM faster)',
  },
  geomean_wasm_over_js: geomean(ratios('wasm_over_js')),
  geomean_wasm_scalar_over_js: geomean(ratios('wasm_scalar_over_js')),
  // min/max of js/wasm_scalar: how much faster the scalar WASM is than the JS fallback, per case
  js_speedup_of_wasm_scalar: {
    min: round(Math.min(...rows.map((r) => r.variants.js! / r.variants.wasm_scalar!)), 3),
    max: round(Math.max(...rows.map((r) => r.variants.js! / r.variants.wasm_scalar!)), 3),
  },
  geomean_wasm_over_c: geomean(ratios('wasm_over_c')),
  ...(withSse ? { geomean_wasm_over_c_sse: geomean(ratios('wasm_over_c_sse')) } : {}),
  goal: {
    rules: [...hotNames], target: 'js/wasm >= 4 and wasm/c <= 1.3',
    met_js: goal.filter((g) => g.meets_js).length, met_c: goal.filter((g) => g.meets_c).length, of: goal.length, cases: goal,
  },
  checks: {
    c_tolerance: `max |c - wasm| <= ${C_TOLERANCE} * max(1, max |wasm|)`,
    c_identical: Object.values(checks).filter((c) => c.c_identical).length,
    js_identical: Object.values(checks).filter((c) => c.js_identical).length,
    wasm_scalar_identical: Object.values(checks).filter((c) => c.wasm_scalar_identical).length,
    of: Object.keys(checks).length,
    failures,
    geometric_median_iterations: Object.fromEntries(Object.entries(checks).filter(([k]) => k.startsWith('geometric-median')).map(([k, v]) => [k, v.iterations])),
  },
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, node: process.version, gcc: gccVersion(), cflags: '-O3 -march=native -ffp-contract=off', ...(withSse ? { cflags_sse: '-O3 -march=native -ffp-contract=off -mno-avx' } : {}) },
  seconds: round((now() - started) / 1000, 3),
};
process.stdout.write(`${JSON.stringify({ bench: 'core', unit: 'ms', rows, summary }, null, 1)}\n`);
if (failures.length) {
  log(`bench:core: ${failures.length} check(s) failed:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
