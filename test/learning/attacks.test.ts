// The attack suite: the attack formulas of the reference, protocol abuse against a live round
// (NaN, wrong length, replay, spoofing, flooding, garbage, strangers, far-future rounds), and a
// reduced Byzantine run that asserts what must hold: under attack the robust default rule
// beats the mean, and federating beats training alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCore } from '../../src/core/index.ts';
import { alie, alieZ, inverseNormalCdf, ipm, meanAndStd, mimic, minMax, signFlip, flipLabels } from '../../src/learning/attacks.ts';
import { FederatedLearner } from '../../src/learning/federated-learner.ts';
import { InProcessHub } from '../../src/learning/round-transport.ts';
import { LocalDataset } from '../../src/learning/local-dataset.ts';
import { FEATURE_COUNT } from '../../src/learning/features.ts';
import { simulateLinkData } from '../../src/learning/sim-dataset.ts';
import { encodeMessage } from '../../src/learning/wire.ts';
import { Prng } from '../../src/mesh/simulator/prng.ts';
import { prepare, runFederated, runLocalOnly, type Variant } from '../../bench/byzantine/experiment.ts';

const core = await loadCore();
if (core.kind !== 'wasm') throw new Error(`WASM core did not load: ${core.fallbackReason}`);

const rng = new Prng(7);
const honest = Array.from({ length: 6 }, () => Float32Array.from({ length: 5 }, () => 1 + rng.normal() * 0.1));
const sq = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, j) => s + (v - b[j]!) ** 2, 0);

test('formulas: sign flip, ALIE z, IPM, mimic, label flip, Φ⁻¹', () => {
  const { mu, sigma } = meanAndStd(honest);
  signFlip(honest).forEach((v, j) => assert.ok(Math.abs(v + mu[j]!) < 1e-6));
  assert.ok(Math.abs(inverseNormalCdf(0.975) - 1.959964) < 1e-6);
  assert.ok(Math.abs(inverseNormalCdf(0.01) + 2.326348) < 1e-6);
  assert.ok(Math.abs(alieZ(25, 5) - 0.4677) < 1e-3, `z(25,5) = ${alieZ(25, 5)}, reference ≈ 0.47`);
  alie(honest, 8, 2).forEach((v, j) => assert.ok(Math.abs(v - (mu[j]! - alieZ(8, 2) * sigma[j]!)) < 1e-5));
  ipm(honest).forEach((v, j) => assert.ok(Math.abs(v + 0.1 * mu[j]!) < 1e-6));
  assert.equal(mimic(honest, 2), honest[2]);
  assert.equal(Array.from(flipLabels(Uint8Array.from([0, 1, 1]))), [1, 0, 0]);
});

test('Min-Max: the largest γ that keeps the attack within the honest updates\' diameter', () => {
  const m = minMax(honest);
  let diameter = 0;
  for (const a of honest) for (const b of honest) diameter = Math.max(diameter, sq(a, b));
  const worst = Math.max(...honest.map((x) => sq(m, x)));
  assert.ok(worst <= diameter * (1 + 1e-5), `max distance² ${worst} > diameter² ${diameter}`);
  assert.ok(worst >= diameter * 0.999, 'γ is maximal: the bound is tight');
  const { mu } = meanAndStd(honest);
  assert.ok(sq(m, mu) > 0, 'the attack moves away from the mean');
});

function site(seed: number): LocalDataset {
  const d = simulateLinkData({ seed, durationS: 600 });
  const ds = new LocalDataset({ features: FEATURE_COUNT, seed });
  ds.addAll(d.x, d.y);
  return ds;
}

async function abuse(attack: (bad: ReturnType<InProcessHub['connect']>, capture: Uint8Array[]) => Promise<void>) {
  const hub = new InProcessHub();
  // rounds wait for 4 updates (3 honest + the attacker's) or for the test to fire the timeout
  const due: (() => void)[] = [];
  const timers = {
    setTimeout: ((fn: () => void) => (due.push(fn), due.length)) as unknown as typeof setTimeout,
    clearTimeout: (() => undefined) as typeof clearTimeout,
  };
  const nodes = [1, 2, 3].map((s, i) => new FederatedLearner({
    core, transport: hub.connect(`n${i}`), data: site(s), quorum: 4, evaluateEvery: 0, timers,
    aggregation: { rule: 'median', f: 1, bucketing: 0 }, training: { steps: 3 },
    admitted: (p) => p !== 'stranger',
  }));
  const bad = hub.connect('bad');
  const captured: Uint8Array[] = [];
  bad.subscribe((b) => captured.push(b));
  const round0 = nodes.map((l) => l.beginRound(0));
  await hub.settle();
  due.splice(0).forEach((fn) => fn());
  await Promise.all(round0);
  const round1 = nodes.map((l) => l.beginRound(1));
  await hub.settle();
  await attack(bad, captured);
  await hub.settle();
  due.splice(0).forEach((fn) => fn());
  const out = await Promise.all(round1);
  nodes.forEach((l) => l.dispose());
  return { nodes, out, hub };
}

const d0 = (n: FederatedLearner) => n.d;

test('NaN and wrong-length updates are rejected by name; the round aggregates the honest ones', async () => {
  const { nodes, out } = await abuse(async (bad) => {
    const v = new Float32Array(113);
    v[5] = NaN;
    await bad.publish(encodeMessage({ type: 'update', round: 1, modelVersion: 1, sender: 'bad', values: v }));
    await bad.publish(encodeMessage({ type: 'update', round: 2, modelVersion: 1, sender: 'bad', values: new Float32Array(7) }));
  });
  for (const l of nodes) {
    assert.is(l.rejectedByReason.get('non-finite'), 1);
    assert.is(l.rejectedByReason.get('wrong-length'), 1);
    assert.match(l.recentRejections.find((r) => r.reason === 'non-finite')!.detail, /NaN at coordinate 5/);
  }
  for (const o of out) {
    assert.is(o.heard, 3);
    assert.ok(o.applied);
  }
  assert.is(d0(nodes[0]!), 113);
});

test('replays: a captured update re-sent by another peer, twice by its owner, and from a closed round', async () => {
  const { nodes } = await abuse(async (bad, captured) => {
    const fromN0 = captured.find((b) => new TextDecoder().decode(b.subarray(18, 20)) === 'n0' && new DataView(b.buffer, b.byteOffset).getUint32(8, true) === 1)!;
    assert.ok(fromN0, 'the attacker captured n0\'s round-1 update');
    await bad.publish(fromN0); // claims to be n0: the transport says it is 'bad'
    const old = captured.find((b) => new DataView(b.buffer, b.byteOffset).getUint32(8, true) === 0)!;
    await bad.publish(old);
    await bad.publish(encodeMessage({ type: 'update', round: 0, modelVersion: 0, sender: 'bad', values: new Float32Array(113) }));
    // two different updates for the next round (equivocation): the first is kept for round 2
    await bad.publish(encodeMessage({ type: 'update', round: 2, modelVersion: 1, sender: 'bad', values: new Float32Array(113) }));
    await bad.publish(encodeMessage({ type: 'update', round: 2, modelVersion: 1, sender: 'bad', values: new Float32Array(113).fill(1) }));
  });
  for (const l of nodes.slice(1)) {
    assert.is(l.rejectedByReason.get('sender-mismatch'), 2);
    assert.is(l.rejectedByReason.get('stale'), 1);
    assert.is(l.rejectedByReason.get('duplicate'), 1, 'a second round-2 update from the same peer is refused');
  }
});

test('flooding: past the per-round budget messages are dropped unread and counted; the log stays bounded', async () => {
  const { nodes, out } = await abuse(async (bad) => {
    const junk = encodeMessage({ type: 'update', round: 1, modelVersion: 1, sender: 'bad', values: new Float32Array(3) });
    for (let i = 0; i < 2000; i++) await bad.publish(junk);
  });
  for (const l of nodes) {
    assert.ok(l.rejectedByReason.get('flooding')! >= 1980, `flooding ${l.rejectedByReason.get('flooding')}`);
    assert.ok(l.recentRejections.length <= 50);
    assert.is(l.recentRejections.filter((r) => r.reason === 'flooding').length, 1);
  }
  assert.ok(out.every((o) => o.applied && o.heard === 3));
});

test('garbage, strangers and far-future rounds', async () => {
  const { nodes } = await abuse(async (bad) => {
    await bad.publish(new Uint8Array([1, 2, 3]));
    await bad.publish(Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 255));
    const ok = encodeMessage({ type: 'update', round: 1, modelVersion: 1, sender: 'bad', values: new Float32Array(113) });
    await bad.publish(ok.subarray(0, ok.length - 10)); // truncated
    await bad.publish(encodeMessage({ type: 'update', round: 99, modelVersion: 1, sender: 'bad', values: new Float32Array(113) }));
    await bad.publish(encodeMessage({ type: 'keys', round: 1, modelVersion: 1, sender: 'bad', values: new Float32Array(0) }));
  });
  const hub2 = new InProcessHub();
  const l = new FederatedLearner({ core, transport: hub2.connect('n0'), data: site(1), admitted: (p) => p !== 'stranger', evaluateEvery: 0, roundTimeoutMs: 1 });
  const stranger = hub2.connect('stranger');
  await stranger.publish(encodeMessage({ type: 'update', round: 0, modelVersion: 0, sender: 'stranger', values: new Float32Array(113) }));
  await hub2.settle();
  assert.is(l.rejectedByReason.get('not-admitted'), 1);
  l.dispose();
  for (const n of nodes) {
    assert.is(n.rejectedByReason.get('malformed'), 3);
    assert.is(n.rejectedByReason.get('too-far-ahead'), 1);
    assert.is(n.rejectedByReason.get('wrong-type'), 1);
  }
});

test('model requests: answered once per round, however often a peer asks', async () => {
  const hub = new InProcessHub();
  const l = new FederatedLearner({ core, transport: hub.connect('n0'), data: site(1), evaluateEvery: 0 });
  const asker = hub.connect('asker');
  let answers = 0;
  asker.subscribe((b) => { if (b[4] === 3) answers++; });
  for (let i = 0; i < 10; i++) await asker.publish(encodeMessage({ type: 'model-request', round: 0, modelVersion: 0, sender: 'asker', values: new Float32Array(0) }));
  await hub.settle();
  assert.is(answers, 1);
  l.dispose();
});

test('reduced Byzantine run: the default rule beats the mean under attack, federated beats local-only', async () => {
  const p = prepare({ honest: 8, byzantine: 2, rounds: 8, steps: 20, durationS: 900, evalSeeds: [1001, 1002] });
  const mean: Variant = { name: 'mean', rule: 'mean', bucketing: 0, momentum: 0 };
  const def: Variant = { name: 'default', rule: 'centered-clipping', bucketing: 2, momentum: 0.9 };
  const meanGauss = await runFederated(core, p, mean, 'gaussian');
  const defGauss = await runFederated(core, p, def, 'gaussian');
  assert.ok(defGauss.auc > meanGauss.auc, `default ${defGauss.auc} vs mean ${meanGauss.auc} under the Gaussian attack`);
  const defSign = await runFederated(core, p, def, 'sign-flip');
  const defClean = await runFederated(core, p, def, 'clean');
  assert.ok(defClean.auc - defSign.auc < 0.03, `sign flip costs the default rule ${defClean.auc - defSign.auc}`);
  const local = runLocalOnly(core, p);
  const fedClean = await runFederated(core, p, mean, 'clean');
  assert.ok(fedClean.auc > local, `federated ${fedClean.auc} vs local-only ${local}`);
});

test.run();
