// npm run bench:mnist — the bucketing paper's MNIST anchor on our WASM core: n = 25 workers,
// f = 5 Byzantine, label-sorted non-IID shards, the attacks (bit-flip, label-flip, mimic, IPM,
// ALIE) × the rules (Krum, coordinate median, RFA, centered clipping; the mean as the baseline),
// each without bucketing, with bucketing s = 2, and with bucketing + worker momentum 0.9.
// Prints ONE JSON document on stdout (test accuracy, mean over seeds); progress and the table
// beside the anchor go to stderr. A full run also rewrites the generated table section of
// bench/mnist/RESULTS.md (the explanations around it are kept) and bench/mnist/last-run.json.
//   --quick            1 seed, 150 iterations, 1000 test digits (about 2 min)
//   --seeds N          seeds per cell (default 2; the paper used 3)
//   --iterations N     iterations per run (default 600, the paper's)
//   --hidden N         hidden tanh units (default 0: multinomial logistic regression)
//   --relu             ReLU hidden units instead of tanh (with --hidden)
//   --jobs N           child processes (default 1; 2 halves the wall time on 2 cores — run it niced)
//   --attacks a,b      only these cases (clean and the attacks); the table then has '–' elsewhere
// RESULTS.md / last-run.json are rewritten only by a complete default run (not --quick, no
// --attacks, logistic regression), so a side experiment never replaces the recorded table.
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../../src/core/index.ts';
import { ANCHOR, type AnchorAttack, CONFIGS, variantName } from './anchor.ts';
import { loadMnist, shardLabels } from './data.ts';
import { EXTRA_ATTACKS, GAUSSIAN_SD, MNIST_ATTACKS, MNIST_RULES, type MnistAttack, MnistLab, type MnistRule, type MnistSetup, PAPER_SETUP, alieZFromCode } from './experiment.ts';

const log = (s: string) => process.stderr.write(s + '\n');

function parseArgs(argv: string[]) {
  const out = { quick: false, seeds: 2, iterations: PAPER_SETUP.iterations, hidden: 0, relu: false, jobs: 1, attacks: null as MnistAttack[] | null };
  const num = (name: string, v: string | undefined, lo: number, hi: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < lo || n > hi) {
      log(`bench:mnist: ${name} needs an integer in [${lo}, ${hi}], got ${v ?? 'nothing'}`);
      process.exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') out.quick = true;
    else if (a === '--relu') out.relu = true;
    else if (a === '--seeds') out.seeds = num(a, argv[++i], 1, 10);
    else if (a === '--iterations') out.iterations = num(a, argv[++i], 30, 10000);
    else if (a === '--hidden') out.hidden = num(a, argv[++i], 0, 512);
    else if (a === '--jobs') out.jobs = num(a, argv[++i], 1, 8);
    else if (a === '--attacks') {
      const known: string[] = ['clean', ...MNIST_ATTACKS, ...EXTRA_ATTACKS];
      const list = (argv[++i] ?? '').split(',').filter(Boolean);
      const bad = list.filter((x) => !known.includes(x));
      if (!list.length || bad.length) {
        log(`bench:mnist: --attacks takes a comma-separated list of ${known.join(', ')}; got ${bad.join(', ') || 'nothing'}`);
        process.exit(2);
      }
      out.attacks = list as MnistAttack[];
    } else {
      log(`bench:mnist: unknown argument ${a} (--quick, --seeds N, --iterations N, --hidden N, --jobs N, --attacks a,b)`);
      process.exit(2);
    }
  }
  if (out.relu && out.hidden === 0) {
    log('bench:mnist: --relu needs --hidden N');
    process.exit(2);
  }
  if (out.quick) {
    if (!argv.includes('--seeds')) out.seeds = 1;
    if (!argv.includes('--iterations')) out.iterations = 150;
  }
  return out;
}

interface Task {
  seed: number;
  attack: MnistAttack;
  rule: MnistRule;
  config: (typeof CONFIGS)[number];
}
interface Done {
  task: Task;
  accuracy: number;
  final: number;
  diverged: boolean;
  ms: number;
}

const ALL_CASES: MnistAttack[] = ['clean', ...MNIST_ATTACKS, ...EXTRA_ATTACKS];
const VARIANTS: { rule: MnistRule; config: (typeof CONFIGS)[number] }[] = [];
for (const config of CONFIGS) {
  for (const rule of MNIST_RULES) {
    // the mean of bucket means is the mean again: only its two momentum settings are informative
    if (rule === 'mean' && config.name === 'bucketing') continue;
    VARIANTS.push({ rule, config });
  }
}

// --jobs: a child process runs its share of the tasks (passed in MNIST_BENCH_CHILD) on its own
// core and prints one JSON line per finished run.
const child = process.env.MNIST_BENCH_CHILD;
if (child !== undefined) {
  const { setup, tasks } = JSON.parse(child) as { setup: MnistSetup; tasks: Task[] };
  const core = await loadCore();
  const lab = new MnistLab(core, loadMnist(0.8), setup);
  for (const task of tasks) {
    const r = lab.run({ rule: task.rule, attack: task.attack, bucketing: task.config.bucketing, momentum: task.config.momentum, seed: task.seed });
    process.stdout.write(JSON.stringify({ task, accuracy: r.accuracy, final: r.final, diverged: r.diverged, ms: r.ms } satisfies Done) + '\n');
  }
  lab.dispose();
  process.exit(0);
}

const args = parseArgs(process.argv.slice(2));
const CASES: MnistAttack[] = args.attacks ? ALL_CASES.filter((c) => args.attacks!.includes(c)) : ALL_CASES;
const started = Date.now();
const core = await loadCore();
log(`core: ${core.kind}${core.fallbackReason ? ` (${core.fallbackReason})` : ''}`);
const data = loadMnist(0.8);
const setup: MnistSetup = {
  ...PAPER_SETUP, iterations: args.iterations, hidden: args.hidden, activation: args.relu ? 'relu' : 'tanh', ...(args.quick ? { testRows: 1000 } : {}),
};
const modelName = args.hidden ? `MLP 784-${args.hidden}-10 (${args.relu ? 'ReLU' : 'tanh'})` : 'multinomial logistic regression 784→10';
const lab = new MnistLab(core, data, setup);
const parameters = lab.parameters;
log(`MNIST: ${data.train.rows} training and ${data.test.rows} test digits; model ${modelName} (${parameters} parameters)`);
log(`n = ${setup.n}, f = ${setup.f}, ${setup.iterations} iterations, batch ${setup.batch}, lr ${setup.lr}, ${args.seeds} seed(s), ${args.jobs} job(s); ALIE z = ${alieZFromCode(setup.n, setup.f).toFixed(4)}`);
log(`honest shards (label: count): ${lab.honestShards.map((s) => JSON.stringify(shardLabels(data.train, s))).join(' ')}`);

const tasks: Task[] = [];
for (let seed = 0; seed < args.seeds; seed++) for (const attack of CASES) for (const v of VARIANTS) tasks.push({ seed, attack, ...v });
const acc: Record<string, Record<string, number[]>> = {};
const diverged: string[] = [];
let runs = 0;
const record = (r: Done) => {
  const name = variantName(r.task.rule, r.task.config.name);
  ((acc[r.task.attack] ??= {})[name] ??= []).push(r.accuracy);
  if (r.diverged) diverged.push(`${r.task.attack}/${name}/seed${r.task.seed}`);
  runs++;
  log(`[${runs}/${tasks.length}] seed ${r.task.seed} ${r.task.attack.padEnd(10)} ${name.padEnd(26)} ${(100 * r.accuracy).toFixed(1)} % (final ${(100 * r.final).toFixed(1)} %) ${r.ms} ms`);
};
if (args.jobs === 1) {
  for (const task of tasks) {
    const r = lab.run({ rule: task.rule, attack: task.attack, bucketing: task.config.bucketing, momentum: task.config.momentum, seed: task.seed });
    record({ task, accuracy: r.accuracy, final: r.final, diverged: r.diverged, ms: r.ms });
  }
} else {
  const shares = Array.from({ length: args.jobs }, (_, j) => tasks.filter((_, i) => i % args.jobs === j));
  await Promise.all(shares.map((share) => new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, MNIST_BENCH_CHILD: JSON.stringify({ setup, tasks: share }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: p.stdout! }).on('line', (line) => record(JSON.parse(line) as Done));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench:mnist child exited with ${code}`))));
  })));
}
// local-only baseline: every honest worker alone on its own shard (seed 0)
const localOnly = lab.honestShards.map((_, w) => lab.localOnly(w, 0));
log(`local-only (each honest worker alone): mean ${(100 * localOnly.reduce((a, b) => a + b, 0) / localOnly.length).toFixed(1)} %, best ${(100 * Math.max(...localOnly)).toFixed(1)} %`);
lab.dispose();

const pct = (xs: number[]) => Math.round((1000 * xs.reduce((s, v) => s + v, 0)) / xs.length) / 10;
const spread = (xs: number[]) => Math.round(1000 * (Math.max(...xs) - Math.min(...xs))) / 10;
const rows = CASES.map((attack) => ({
  case: attack,
  variants: Object.fromEntries(VARIANTS.map((v) => variantName(v.rule, v.config.name)).map((k) => [k, pct(acc[attack]![k]!)])),
}));
const worst: Record<string, number> = {};
for (const v of VARIANTS) {
  const name = variantName(v.rule, v.config.name);
  const attacked = CASES.filter((c) => c !== 'clean');
  worst[name] = attacked.length ? Math.min(...attacked.map((a) => pct(acc[a]![name]!))) : NaN;
}
const seedSpread: Record<string, number> = {};
if (args.seeds > 1) for (const a of CASES) for (const [k, xs] of Object.entries(acc[a]!)) seedSpread[`${a}/${k}`] = spread(xs);

// our figure beside the anchor's, cell by cell
const table = renderTable();
log('\n' + table);
const elapsedS = Math.round((Date.now() - started) / 100) / 10;
const doc = {
  bench: 'mnist',
  unit: 'test accuracy',
  rows,
  summary: {
    unit_note: 'percent, mean over seeds of the mean of the last five test measurements (every 30 iterations)',
    setting: {
      n: setup.n, f: setup.f, iterations: setup.iterations, batch: setup.batch, lr: setup.lr, seeds: args.seeds,
      model: args.hidden ? `mlp-784-${args.hidden}-10-${args.relu ? 'relu' : 'tanh'}` : 'multinomial-logistic-784-10', parameters,
      train_digits: data.train.rows, test_digits: setup.testRows ?? data.test.rows, alie_z: Math.round(alieZFromCode(setup.n, setup.f) * 1e4) / 1e4,
      quick: args.quick,
      cclip_tau: 'median distance of the round\'s vectors to the last aggregate (the paper\'s τ = 10/(1 − β) never clips at our gradient scale)',
      rfa: 'smoothed Weiszfeld, ν = 0.1, 8 iterations',
      clean: 'no attack: the f other workers follow the protocol on their IID shards',
      gaussian: `beyond the anchor: N(0, ${GAUSSIAN_SD}²) per coordinate`,
    },
    worst_case_over_attacks: worst,
    clean: rows.find((r) => r.case === 'clean')?.variants ?? null,
    local_only: { mean: pct(localOnly), best: Math.round(1000 * Math.max(...localOnly)) / 10 },
    anchor: ANCHOR,
    seed_spread_points: seedSpread,
    diverged,
    core: core.kind,
    elapsed_s: elapsedS,
  },
};
process.stdout.write(JSON.stringify(doc) + '\n');
log(`bench:mnist done in ${elapsedS} s (${runs} runs)`);

if (!args.quick && !args.attacks && args.hidden === 0) {
  writeFileSync(new URL('./last-run.json', import.meta.url), JSON.stringify(doc, null, 2) + '\n');
  const path = new URL('./RESULTS.md', import.meta.url);
  let md = '';
  try {
    md = readFileSync(path, 'utf8');
  } catch {
    md = '# bench:mnist results\n\n<!-- table:start -->\n<!-- table:end -->\n';
  }
  const start = md.indexOf('<!-- table:start -->');
  const end = md.indexOf('<!-- table:end -->');
  const generated = `<!-- table:start -->\n${table}\n<!-- table:end -->`;
  md = start >= 0 && end > start ? md.slice(0, start) + generated + md.slice(end + '<!-- table:end -->'.length) : md + '\n' + generated + '\n';
  writeFileSync(path, md);
  log('wrote bench/mnist/RESULTS.md (table section) and bench/mnist/last-run.json');
}

function renderTable(): string {
  const head = `| momentum / bucket s | rule | ${MNIST_ATTACKS.join(' | ')} | gaussian σ=${GAUSSIAN_SD} (ours only) | worst | clean |`;
  const lines = [
    `Ours: ${setup.iterations} iterations, ${args.seeds} seed(s), ${data.train.rows} training digits, ${modelName} (${parameters} parameters). Cells: ours / anchor (%).`,
    '',
    head,
    `|---|---|${MNIST_ATTACKS.map(() => '---|').join('')}---|---|---|`,
  ];
  for (const config of CONFIGS) {
    for (const rule of MNIST_RULES) {
      const name = variantName(rule, config.name);
      const mine = MNIST_ATTACKS.map((a) => acc[a]?.[name]);
      const any = CASES.some((c) => acc[c]?.[name]);
      if (!any) continue;
      const anchor = ANCHOR[config.name][rule];
      const fmt = (xs: number[] | undefined) => (xs ? pct(xs).toFixed(1) : '–');
      const cells = MNIST_ATTACKS.map((a, i) => `${fmt(mine[i])} / ${anchor ? anchor[a as AnchorAttack].toFixed(1) : '–'}`);
      lines.push(`| ${config.label} | ${rule} | ${cells.join(' | ')} | ${fmt(acc.gaussian?.[name])} | ${Number.isFinite(worst[name]) ? worst[name]!.toFixed(1) : '–'} | ${fmt(acc.clean?.[name])} |`);
    }
  }
  lines.push('', `Local-only (each honest worker alone on its own shard, same iterations): mean ${pct(localOnly).toFixed(1)} %, best ${(100 * Math.max(...localOnly)).toFixed(1)} %.`);
  return lines.join('\n');
}
