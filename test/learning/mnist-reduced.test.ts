// A reduced run of the MNIST anchor setting (bench/mnist: n = 25, f = 5, label-sorted non-IID,
// WASM classifier and aggregators), 80 iterations on 500 test digits, two seeds. It asserts what
// was measured to hold, with wide margins, on seeds 0–3 of this very configuration:
//   - robust rules beat the mean under an attack the mean cannot absorb (Gaussian σ = 100):
//     mean 8–12 %, coordinate median 70–71 %, CClip+bucketing+momentum 80–82 %;
//   - bucketing + worker momentum make a robust rule survive attacks that break it without:
//     RFA under IPM 0.6–0.8 % → 80–82 %, coordinate median under bit-flip 5–14 % → 60–66 %;
//   - federated (clean, mean) 77–78 % against local-only (one worker alone on its 1–2 digits,
//     which learns to answer its own digit) 12.4 % at best.
// (The anchor attacks themselves barely move the mean at f/n = 20 % — they target robust rules;
// see bench/mnist/RESULTS.md.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCore } from '../../src/core/index.ts';
import { loadMnist } from '../../bench/mnist/data.ts';
import { MnistLab, type MnistAttack, type MnistRule, PAPER_SETUP } from '../../bench/mnist/experiment.ts';

const core = await loadCore();
if (core.kind !== 'wasm') throw new Error(`the WASM core did not load: ${core.fallbackReason}`);
const lab = new MnistLab(core, loadMnist(0.8), { ...PAPER_SETUP, iterations: 80, testRows: 500 });
const SEEDS = [0, 1];

const acc = (rule: MnistRule, attack: MnistAttack, seed: number, withBucketingMomentum = false) =>
  100 * lab.run({ rule, attack, seed, bucketing: withBucketingMomentum ? 2 : 0, momentum: withBucketingMomentum ? 0.9 : 0 }).accuracy;

test('robust rules beat the mean under the Gaussian attack', () => {
  for (const seed of SEEDS) {
    const mean = acc('mean', 'gaussian', seed);
    const median = acc('median', 'gaussian', seed);
    const cclip = acc('cclip', 'gaussian', seed, true);
    assert.ok(mean < 30, `seed ${seed}: the mean is broken (${mean.toFixed(1)} %)`);
    assert.ok(median > mean + 30, `seed ${seed}: median ${median.toFixed(1)} % vs mean ${mean.toFixed(1)} %`);
    assert.ok(cclip > mean + 40, `seed ${seed}: CClip+bucketing+momentum ${cclip.toFixed(1)} % vs mean ${mean.toFixed(1)} %`);
  }
});

test('bucketing + worker momentum: RFA survives IPM, median survives bit-flip', () => {
  for (const seed of SEEDS) {
    const rfa = acc('rfa', 'ipm', seed);
    const rfaBm = acc('rfa', 'ipm', seed, true);
    assert.ok(rfa < 30, `seed ${seed}: plain RFA is broken by IPM (${rfa.toFixed(1)} %)`);
    assert.ok(rfaBm > rfa + 40, `seed ${seed}: RFA+bucketing+momentum ${rfaBm.toFixed(1)} % vs ${rfa.toFixed(1)} %`);
    const med = acc('median', 'bit-flip', seed);
    const medBm = acc('median', 'bit-flip', seed, true);
    assert.ok(medBm > med + 30, `seed ${seed}: median+bucketing+momentum ${medBm.toFixed(1)} % vs ${med.toFixed(1)} %`);
  }
});

test('federated beats local-only on label-sorted shards', () => {
  for (const seed of SEEDS) {
    const fed = acc('mean', 'clean', seed);
    const local = Math.max(...[0, 7, 13, 19].map((w) => 100 * lab.localOnly(w, seed)));
    assert.ok(fed > local + 30, `seed ${seed}: federated ${fed.toFixed(1)} % vs best local-only ${local.toFixed(1)} %`);
  }
  lab.dispose();
});

test.run();
