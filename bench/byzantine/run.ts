// npm run bench:byzantine — every aggregation rule × every attack on simulated, non-IID link
// data: n sites, f = 20 % of them Byzantine, real learners over the in-process transport, AUC of
// the honest nodes' final models on held-out sites. Prints one JSON document on stdout; progress
// goes to stderr. BYZ_QUICK=1 runs a smaller setting (seconds, for trying things out).
import { loadCore } from '../../src/core/index.ts';
import { ATTACKS, alieZ, type AttackName } from '../../src/learning/attacks.ts';
import { describeLinkModel } from '../../src/mesh/simulator/index.ts';
import { FEATURE_NAMES } from '../../src/learning/features.ts';
import { prepare, runCentralised, runFederated, runLocalOnly, type ExperimentSetup, type Variant } from './experiment.ts';

const quick = process.env.BYZ_QUICK === '1';
const setup: ExperimentSetup = quick
  ? { honest: 8, byzantine: 2, rounds: 10, steps: 20, durationS: 1200, evalSeeds: [1001, 1002, 1003, 1004] }
  : { honest: 16, byzantine: 4, rounds: 30, steps: 20, durationS: 1800, evalSeeds: [1001, 1002, 1003, 1004] };

const DEFAULT: Variant = { name: 'centered-clipping+bucketing2+momentum0.9 (default)', rule: 'centered-clipping', bucketing: 2, momentum: 0.9 };
const VARIANTS: Variant[] = [
  { name: 'mean', rule: 'mean', bucketing: 0, momentum: 0 },
  { name: 'median', rule: 'median', bucketing: 0, momentum: 0 },
  { name: 'trimmed-mean', rule: 'trimmed-mean', bucketing: 0, momentum: 0 },
  { name: 'krum', rule: 'krum', bucketing: 0, momentum: 0 },
  { name: 'multi-krum', rule: 'multi-krum', bucketing: 0, momentum: 0 },
  { name: 'bulyan', rule: 'bulyan', bucketing: 0, momentum: 0 },
  { name: 'geometric-median', rule: 'geometric-median', bucketing: 0, momentum: 0 },
  { name: 'norm-clipping', rule: 'norm-clipping', bucketing: 0, momentum: 0 },
  { name: 'centered-clipping', rule: 'centered-clipping', bucketing: 0, momentum: 0 },
  { name: 'median+bucketing2+momentum0.9', rule: 'median', bucketing: 2, momentum: 0.9 },
  { name: 'geometric-median+bucketing2+momentum0.9', rule: 'geometric-median', bucketing: 2, momentum: 0.9 },
  DEFAULT,
];
// Privacy variants. Update norms here are ~0.3 (20 local steps), hence S = 0.3.
const DP: Variant = { ...DEFAULT, name: 'default+DP(S=0.3,z=1)', dp: { clipNorm: 0.3, noiseMultiplier: 1 } };
// Under secure aggregation no node sees an individual update, so the omniscient update attacks
// cannot be mounted as defined; label flipping (a data attack) can.
const SECURE: Variant = { name: 'secure-aggregation+centered-clipping(S=0.3)', rule: 'centered-clipping', bucketing: 0, momentum: 0.9, secureClipNorm: 0.3 };
const EXTRA: [Variant, readonly ('clean' | AttackName)[]][] = [[DP, ['clean', ...ATTACKS]], [SECURE, ['clean', 'label-flip']]];

const log = (s: string) => process.stderr.write(s + '\n');
const started = Date.now();
const core = await loadCore();
log(`core: ${core.kind}${core.fallbackReason ? ` (${core.fallbackReason})` : ''}`);
const p = prepare(setup);
const evalPos = p.evaluation.y.reduce((a, b) => a + b, 0);
log(`data ready in ${Date.now() - started} ms: ${p.evaluation.y.length} held-out rows (${evalPos} failures)`);

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
const rows: { case: string; variants: Record<string, number> }[] = [];
const notes: Record<string, string> = {};
let worstDefault = NaN;
let clean = NaN;
for (const v of VARIANTS) {
  const variants: Record<string, number> = {};
  let worst = Infinity;
  for (const attack of ['clean', ...ATTACKS] as const) {
    const t = Date.now();
    const r = await runFederated(core, p, v, attack);
    variants[attack] = round4(r.auc);
    if (attack !== 'clean') worst = Math.min(worst, r.auc);
    if (r.appliedShare < 1) notes[`${v.name}/${attack}`] = `aggregate applied in ${(100 * r.appliedShare).toFixed(0)} % of rounds (${r.ruleUsed})`;
    else if (v.bucketing > 1 && !r.ruleUsed.includes('bucketing')) notes[`${v.name}/${attack}`] = `ran without bucketing: ${r.ruleUsed} (too few buckets for the rule's bound)`;
    log(`${v.name.padEnd(52)} ${attack.padEnd(10)} AUC ${r.auc.toFixed(4)} (min ${r.aucMin.toFixed(4)}) ${Date.now() - t} ms`);
  }
  variants.worst = round4(worst);
  rows.push({ case: v.name, variants });
  if (v === DEFAULT) {
    worstDefault = worst;
    clean = variants.clean!;
  }
}
for (const [v, attacks] of EXTRA) {
  const variants: Record<string, number> = {};
  let worst = Infinity;
  for (const attack of attacks) {
    const t = Date.now();
    const r = await runFederated(core, p, v, attack);
    variants[attack] = round4(r.auc);
    if (attack !== 'clean') worst = Math.min(worst, r.auc);
    if (r.appliedShare < 1) notes[`${v.name}/${attack}`] = `aggregate applied in ${(100 * r.appliedShare).toFixed(0)} % of rounds (${r.ruleUsed})`;
    log(`${v.name.padEnd(52)} ${attack.padEnd(10)} AUC ${r.auc.toFixed(4)} (min ${r.aucMin.toFixed(4)}) ${Date.now() - t} ms`);
  }
  variants.worst = round4(worst);
  rows.push({ case: v.name, variants });
}
notes[SECURE.name] = 'only clean and label-flip: the other attacks are defined on the honest updates, which secure aggregation hides from every node (the attacker included); the step is bounded by the clip norm instead of a robust rule';
const federatedClean = rows[0]!.variants.clean!;
const localOnly = runLocalOnly(core, p);
const centralised = runCentralised(core, p);
log(`local-only ${localOnly.toFixed(4)}, centralised ${centralised.toFixed(4)}`);

const doc = {
  bench: 'byzantine',
  unit: 'held-out ROC AUC (0-1) of the honest nodes\' final link-failure models, mean over honest nodes',
  setup: {
    ...setup,
    n: setup.honest + setup.byzantine,
    f: setup.byzantine,
    fShare: setup.byzantine / (setup.honest + setup.byzantine),
    model: 'MLP, 8 tanh hidden units, features: ' + FEATURE_NAMES.join(','),
    horizonS: 30,
    attackers: 'omniscient and rushing: they see the round\'s honest updates before sending',
    attackParameters: { alieZ: round4(alieZ(setup.honest + setup.byzantine, setup.byzantine)), ipmEpsilon: 0.1, minMax: 'p = per-coordinate std', gaussianSd: 1, mimicTarget: 'first honest node' },
    defaultRule: DEFAULT.name,
    linkModel: describeLinkModel().model,
    nonIid: 'each site: own simulator seed and own link profile (failure rate 3-9/h, 30-90 % of failures announced by a degradation ramp, base PDR, burstiness)',
    core: core.kind,
  },
  rows,
  summary: {
    clean: round4(clean),
    worst_case_default_rule: round4(worstDefault),
    local_only: round4(localOnly),
    federated_clean: round4(federatedClean),
    centralised: round4(centralised),
    default_rule_gap_points: round4(100 * (clean - worstDefault)),
    goal_worst_within_3_points: 100 * (clean - worstDefault) <= 3,
    goal_federated_above_local_only: federatedClean > localOnly,
    seconds: Math.round((Date.now() - started) / 1000),
  },
  notes,
};
process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
