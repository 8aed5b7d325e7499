// Writes the seed link-failure model an agent can start from (UCI learning.initial_model,
// src/learning/seed-model.ts) from the cached kernel traces of `npm run bench:kernel-model`:
// federated training as that bench runs it (FederatedLearner over the in-process transport, the
// agent's default rule: centered clipping, bucketing 2, worker momentum 0.9; 120 rounds × 20
// local steps), one learner per router of all four meshes; the file holds router h00's final model.
// It also prints, as one JSON document on stdout, the held-out AUC of the same procedure (each
// mesh held out in turn, trained on the other three) and the exported model's AUC on the
// simulator's held-out sites.
//   node --import tsx bench/kernel-model/export-model.ts [OUT]   (default bench/heal/link-model.json)
// Needs the traces cached (~/.cache/x0tta6bl4/kernel-traces/): it never boots a VM.
import { existsSync, writeFileSync } from 'node:fs';
import { loadCore, type Core } from '../../src/core/index.ts';
import { FederatedLearner } from '../../src/learning/federated-learner.ts';
import type { LocalDataset } from '../../src/learning/local-dataset.ts';
import { evaluateAuc } from '../../src/learning/local-training.ts';
import { InProcessHub } from '../../src/learning/round-transport.ts';
import { SEED_FORMAT } from '../../src/learning/seed-model.ts';
import { simulateLinkData } from '../../src/learning/sim-dataset.ts';
import { kernelTraces, STEPS, traceCacheFile } from './kernel.ts';
import { labelTraces, pooled, routerDataset } from './record.ts';

const out = process.argv[2] ?? 'bench/heal/link-model.json';
const DURATION_S = 420;
const ROUNDS = 120;
const STEPS_PER_ROUND = 20;
const SIM_EVAL = [1001, 1002, 1003, 1004];
const log = (s: string) => process.stderr.write(s + '\n');

const missing = STEPS.filter((s) => !existsSync(traceCacheFile(s, DURATION_S)));
if (missing.length) throw new Error(`kernel traces not cached: ${missing.map((s) => s.name).join(', ')} (run npm run bench:kernel-model first; it records them)`);
const { traces } = await kernelTraces(DURATION_S, log, STEPS);
const routers = labelTraces(traces);
// The base rate the agent compares with its own: every labelled poll, before the bench keeps
// only every 4th negative (the agent's counts see every label).
const all = labelTraces(traces, { negativeStride: 1 });
const allPos = all.reduce((a, r) => a + r.data.positives, 0);
const allRows = all.reduce((a, r) => a + r.data.rows, 0);
const baseRate = allPos / allRows;

const core = await loadCore();

/** Federated training as bench:kernel-model's `federated` variant; returns the learners (dispose them). */
async function federated(c: Core, data: LocalDataset[]): Promise<FederatedLearner[]> {
  const hub = new InProcessHub();
  const common = { core: c, aggregation: { rule: 'centered-clipping' as const, f: 0, bucketing: 2 }, workerMomentum: 0.9, training: { steps: STEPS_PER_ROUND }, evaluateEvery: 0, quorum: data.length, roundTimeoutMs: 600_000 };
  const ls = data.map((d, i) => new FederatedLearner({ ...common, transport: hub.connect(`h${String(i).padStart(2, '0')}`), data: d }));
  for (let r = 0; r < ROUNDS; r++) {
    const pending = ls.map((l) => l.beginRound(r));
    await hub.settle();
    await Promise.all(pending);
  }
  return ls;
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
const heldOut: Record<string, number> = {};
for (const g of [...new Set(routers.map((r) => r.group))]) {
  const ls = await federated(core, routers.filter((r) => r.group !== g).map((r, i) => routerDataset(r.data, i + 1)));
  const ev = pooled(routers.filter((r) => r.group === g).map((r) => r.data));
  heldOut[g] = round4(evaluateAuc(ls[0]!.model, ev.x, ev.y));
  log(`held out ${g}: ${heldOut[g]}`);
  for (const l of ls) l.dispose();
}

const ls = await federated(core, routers.map((r, i) => routerDataset(r.data, i + 1)));
const model = ls[0]!;
const sim = pooled(SIM_EVAL.map((s) => simulateLinkData({ seed: s, durationS: 1800 })));
const simAuc = round4(evaluateAuc(model.model, sim.x, sim.y));
const params = [...model.parameters()].map((v) => Number(v.toPrecision(7)));
const meanHeld = round4(Object.values(heldOut).reduce((a, b) => a + b, 0) / Object.keys(heldOut).length);
const trainedOn = `kernel traces ${STEPS.map((s) => s.name).join(',')} (${routers.length} routers, ${allRows} labels), federated centered-clipping ${ROUNDS}x${STEPS_PER_ROUND}`;
const doc = {
  format: SEED_FORMAT, version: 1, spec: model.model.spec, params, baseRate: round4(baseRate), trainedOn,
  auc: { heldOutMeshMean: meanHeld, heldOutMesh: heldOut, simHeldOutSites: simAuc },
};
const text = JSON.stringify(doc) + '\n';
writeFileSync(out, text);
for (const l of ls) l.dispose();
process.stdout.write(JSON.stringify({ file: out, bytes: text.length, baseRate: doc.baseRate, labels: allRows, positives: allPos, auc: doc.auc }, null, 2) + '\n');
