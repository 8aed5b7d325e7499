// DP-FedAvg on the sender: clipping to S, Gaussian noise of std z·S/√cohort, refused options,
// and that a learner with DP on sends only clipped updates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkDp, l2, privatize } from '../../src/learning/privacy.ts';
import { Prng } from '../../src/mesh/simulator/prng.ts';
import { loadCore } from '../../src/core/index.ts';
import { FederatedLearner } from '../../src/learning/federated-learner.ts';
import { InProcessHub } from '../../src/learning/round-transport.ts';
import { LocalDataset } from '../../src/learning/local-dataset.ts';
import { FEATURE_COUNT } from '../../src/learning/features.ts';
import { simulateLinkData } from '../../src/learning/sim-dataset.ts';
import { decodeMessage } from '../../src/learning/wire.ts';

test('clipping scales a long update to norm S and leaves a short one alone', () => {
  const rng = new Prng(1);
  const long = Float32Array.from({ length: 100 }, (_, i) => i);
  const c = privatize(long, { clipNorm: 2, noiseMultiplier: 0, cohort: 1 }, rng);
  assert.ok(Math.abs(l2(c) - 2) < 1e-5, `norm ${l2(c)}`);
  const short = Float32Array.from([0.1, 0.2]);
  assert.equal(privatize(short, { clipNorm: 2, noiseMultiplier: 0, cohort: 1 }, rng), short);
});

test('noise has std z·S/√cohort per coordinate', () => {
  const rng = new Prng(2);
  const d = 20000;
  const out = privatize(new Float32Array(d), { clipNorm: 0.5, noiseMultiplier: 1.2, cohort: 9 }, rng);
  const mean = out.reduce((a, b) => a + b, 0) / d;
  const std = Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / d);
  const want = (1.2 * 0.5) / 3;
  assert.ok(Math.abs(std - want) / want < 0.03, `std ${std} vs ${want}`);
  assert.ok(Math.abs(mean) < 0.01);
});

test('bad DP options are refused with the reason', () => {
  assert.throws(() => checkDp({ clipNorm: 0, noiseMultiplier: 1, cohort: 1 }), /clip norm/);
  assert.throws(() => checkDp({ clipNorm: 1, noiseMultiplier: -1, cohort: 1 }), /noise multiplier/);
  assert.throws(() => checkDp({ clipNorm: 1, noiseMultiplier: 1, cohort: 0 }), /cohort/);
  assert.throws(() => checkDp({ clipNorm: NaN, noiseMultiplier: 1, cohort: 1 }), /clip norm/);
});

test('a learner with DP publishes clipped updates only', async () => {
  const core = await loadCore();
  const d = simulateLinkData({ seed: 3, durationS: 600 });
  const ds = new LocalDataset({ features: FEATURE_COUNT });
  ds.addAll(d.x, d.y);
  const hub = new InProcessHub();
  const spy = hub.connect('spy');
  const norms: number[] = [];
  spy.subscribe((bytes) => {
    const m = decodeMessage(bytes);
    if (m.type === 'update') norms.push(l2(m.values));
  });
  const l = new FederatedLearner({
    core, transport: hub.connect('n0'), data: ds, quorum: 1, evaluateEvery: 0, workerMomentum: 0,
    training: { steps: 50, lr: 1 }, dp: { clipNorm: 0.01, noiseMultiplier: 0, cohort: 1 }, aggregation: { rule: 'median', f: 0, bucketing: 0 },
  });
  for (let r = 0; r < 3; r++) await l.beginRound(r);
  await hub.settle();
  assert.is(norms.length, 3);
  for (const n of norms) assert.ok(n <= 0.01 + 1e-6, `update norm ${n} above the clip norm`);
  assert.ok(norms.some((n) => n > 0.0099), 'a long local update was clipped to S, not shrunk further');
  l.dispose();
});

test.run();
