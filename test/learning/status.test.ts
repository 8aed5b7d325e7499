// The learning status block and its metrics: round, peers heard, rule, rejections with reasons,
// held-out AUC, privacy settings; small enough for telemetry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCore } from '../../src/core/index.ts';
import { FederatedLearner } from '../../src/learning/federated-learner.ts';
import { InProcessHub } from '../../src/learning/round-transport.ts';
import { LocalDataset } from '../../src/learning/local-dataset.ts';
import { FEATURE_COUNT } from '../../src/learning/features.ts';
import { simulateLinkData } from '../../src/learning/sim-dataset.ts';
import { learningStatus, renderLearningMetrics } from '../../src/learning/status.ts';
import { encodeMessage } from '../../src/learning/wire.ts';

const core = await loadCore();

test('status and metrics after rounds with a rejected peer', async () => {
  const hub = new InProcessHub();
  const nodes = [1, 2, 3].map((seed, i) => {
    const d = simulateLinkData({ seed, durationS: 900 });
    const ds = new LocalDataset({ features: FEATURE_COUNT, seed });
    ds.addAll(d.x, d.y);
    return new FederatedLearner({
      core, transport: hub.connect(`n${i}`), data: ds, quorum: 3, aggregation: { rule: 'median', f: 1, bucketing: 0 },
      dp: { clipNorm: 1, noiseMultiplier: 0.5, cohort: 3 }, training: { steps: 5 },
    });
  });
  const bad = hub.connect('bad');
  await Promise.all(nodes.map((l) => l.beginRound(0)));
  await bad.publish(encodeMessage({ type: 'update', round: 1, modelVersion: 0, sender: 'bad', values: new Float32Array(3) }));
  await hub.settle();
  const s = learningStatus(nodes[0]!);
  assert.is(s.round, 1);
  assert.is(s.modelVersion, 1);
  assert.is(s.rule, 'median');
  assert.is(s.peersHeard, 2);
  assert.is(s.peersAdmitted, 3);
  assert.is(s.lastRound!.applied, true);
  assert.is(s.rejected.total, 1);
  assert.equal(s.rejected.byReason, { 'wrong-length': 1 });
  assert.equal(s.rejected.recent, [{ round: 1, peer: 'bad', reason: 'wrong-length' }]);
  assert.ok(s.quality.heldOutAuc !== null && s.quality.heldOutAuc > 0 && s.quality.heldOutAuc <= 1);
  assert.ok(s.quality.heldOutRows > 0);
  assert.is(s.privacy.dp!.noiseMultiplier, 0.5);
  assert.ok(Math.abs(s.privacy.dp!.sigmaPerSender - 0.5 / Math.sqrt(3)) < 1e-12);
  assert.ok(JSON.stringify(s).length < 1024, `status block is ${JSON.stringify(s).length} bytes, telemetry keeps ≤ 1024`);
  const text = renderLearningMetrics(s, 'n0');
  assert.match(text, /x0tta6bl4_learning_round\{node="n0"\} 1\n/);
  assert.match(text, /x0tta6bl4_learning_rejected_total\{node="n0",reason="wrong-length"\} 1\n/);
  assert.match(text, /x0tta6bl4_learning_heldout_auc\{node="n0"\} 0\.\d+/);
  assert.match(text, /# TYPE x0tta6bl4_learning_rejected_total counter/);
  assert.match(text, /x0tta6bl4_learning_dp_noise_multiplier\{node="n0"\} 0\.5\n/);
  assert.match(text, /x0tta6bl4_learning_dp_clip_norm\{node="n0"\} 1\n/);
  assert.match(text, /x0tta6bl4_learning_secure_aggregation\{node="n0"\} 0\n/);
  assert.is(s.horizonS, null, 'a bare learner does not know the horizon');
  assert.is(s.roundTimeoutS, 10);
  assert.is(renderLearningMetrics(null, 'n0'), '');
  nodes.forEach((l) => l.dispose());
});

test('DP off still reports clip norm and noise multiplier as 0; the service reports H and the timeout', async () => {
  const { LearningService } = await import('../../src/learning/learning-service.ts');
  const svc = new LearningService({ core, transport: null, roundIntervalMs: 60_000, horizonMs: 45_000, learner: { roundTimeoutMs: 20_000 } });
  try {
    const s = svc.status();
    assert.is(s.privacy.dp, null);
    assert.is(s.horizonS, 45);
    assert.is(s.roundTimeoutS, 20);
    const text = renderLearningMetrics(s, 'n1');
    assert.match(text, /x0tta6bl4_learning_dp_noise_multiplier\{node="n1"\} 0\n/);
    assert.match(text, /x0tta6bl4_learning_dp_clip_norm\{node="n1"\} 0\n/);
    assert.match(text, /x0tta6bl4_learning_horizon_seconds\{node="n1"\} 45\n/);
    assert.ok(JSON.stringify(s).length < 1024);
  } finally {
    svc.dispose();
  }
});

test.run();
