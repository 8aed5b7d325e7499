// Rounds without a coordinator over the in-process transport: quorum and timeout closing,
// missing and late peers, early updates, skipped rounds below a rule's guarantee, versions,
// rejoin catch-up, and that federating beats training alone on non-IID site data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCore } from '../../src/core/index.ts';
import { FederatedLearner, type LearnerOptions } from '../../src/learning/federated-learner.ts';
import { InProcessHub } from '../../src/learning/round-transport.ts';
import { LocalDataset } from '../../src/learning/local-dataset.ts';
import { FEATURE_COUNT } from '../../src/learning/features.ts';
import { simulateLinkData } from '../../src/learning/sim-dataset.ts';
import { encodeMessage } from '../../src/learning/wire.ts';
import { evaluateAuc, trainLocal } from '../../src/learning/local-training.ts';
import { Prng } from '../../src/mesh/simulator/prng.ts';

const core = await loadCore();
if (core.kind !== 'wasm') throw new Error(`WASM core did not load: ${core.fallbackReason}`);

function siteData(seed: number, durationS = 600): LocalDataset {
  const d = simulateLinkData({ seed, durationS });
  const ds = new LocalDataset({ features: FEATURE_COUNT, seed });
  ds.addAll(d.x, d.y);
  return ds;
}
const sites = [1, 2, 3, 4, 5].map((s) => siteData(s));

function fleet(n: number, extra: Partial<LearnerOptions> = {}) {
  const hub = new InProcessHub();
  const nodes = Array.from({ length: n }, (_, i) =>
    new FederatedLearner({
      core, transport: hub.connect(`n${i}`), data: sites[i % sites.length]!, roundTimeoutMs: 60_000,
      aggregation: { rule: 'median', f: 1, bucketing: 0 }, training: { steps: 5 }, evaluateEvery: 0, ...extra,
    }));
  return { hub, nodes, dispose: () => nodes.forEach((l) => l.dispose()) };
}

test('all peers heard: rounds close on quorum, versions advance, nodes agree', async () => {
  const { nodes, dispose } = fleet(4);
  for (let r = 0; r < 3; r++) {
    const out = await Promise.all(nodes.map((l) => l.beginRound(r)));
    for (const o of out) {
      assert.is(o.closedBy, 'quorum');
      assert.is(o.heard, 4);
      assert.ok(o.applied, o.skipped);
      assert.is(o.modelVersion, r + 1);
    }
  }
  // same updates, same deterministic rule without bucketing: the same model everywhere
  const p0 = nodes[0]!.parameters();
  for (const l of nodes) assert.equal(l.parameters(), p0);
  assert.is(nodes[0]!.round, 3);
  dispose();
});

/** Timers that fire only when the test says so: timeouts without timing in the test. */
function manualTimers() {
  const due: (() => void)[] = [];
  const timers = {
    setTimeout: ((fn: () => void) => (due.push(fn), due.length)) as unknown as typeof setTimeout,
    clearTimeout: (() => undefined) as typeof clearTimeout,
  };
  return { timers, fire: () => due.splice(0).forEach((fn) => fn()) };
}

test('a missing peer does not stall the round: it closes on the timeout with the others', async () => {
  const clock = manualTimers();
  const { hub, nodes, dispose } = fleet(4, { timers: clock.timers });
  const [a, b, c] = nodes;
  const pending = [a!, b!, c!].map((l) => l.beginRound(0));
  await hub.settle();
  clock.fire();
  const out = await Promise.all(pending);
  for (const o of out) {
    assert.is(o.closedBy, 'timeout');
    assert.is(o.heard, 3);
    assert.ok(o.applied);
  }
  // the straggler sends round 0 after everyone closed it: late, rejected by name
  const late = nodes[3]!.beginRound(0);
  await hub.settle();
  for (const l of [a!, b!, c!]) assert.is(l.rejectedByReason.get('stale'), 1);
  // the straggler itself had kept the others' round-0 updates while it was not yet in round 0
  assert.is((await late).heard, 4);
  dispose();
});

test('an update for a later round that arrives early is kept for that round', async () => {
  const { hub, nodes, dispose } = fleet(3);
  const [a, b, c] = nodes;
  await Promise.all(nodes.map((l) => l.beginRound(0)));
  const pa = a!.beginRound(1);
  const pb = b!.beginRound(1);
  await hub.settle(); // c has a's and b's round-1 updates before opening round 1
  const oc = await c!.beginRound(1);
  assert.is(oc.closedBy, 'quorum');
  assert.is(oc.heard, 3);
  await Promise.all([pa, pb]);
  dispose();
});

test('too few updates for the rule: the round is skipped and the model stays', async () => {
  const { nodes, dispose } = fleet(2, { aggregation: { rule: 'krum', f: 1, bucketing: 0 } });
  const before = nodes[0]!.parameters();
  const out = await Promise.all(nodes.map((l) => l.beginRound(0)));
  assert.is(out[0]!.applied, false);
  assert.match(out[0]!.skipped!, /n ≥ 2f \+ 3/);
  assert.equal(nodes[0]!.parameters(), before);
  assert.is(nodes[0]!.modelVersion, 0);
  assert.is(nodes[0]!.round, 1, 'the round number still advances');
  dispose();
});

test('a node that rejoins catches up to the fleet model, and f liars cannot steer it', async () => {
  const { hub, nodes, dispose } = fleet(5, { catchUpWindowMs: 20, quorum: 4 });
  const late = nodes[4]!;
  hub.setOnline('n4', false);
  const rest = nodes.slice(0, 4);
  for (let r = 0; r < 3; r++) await Promise.all(rest.map((l) => l.beginRound(r)));
  hub.setOnline('n4', true);
  // a liar answers model requests with garbage of the right shape and a huge version
  const liar = hub.connect('liar');
  liar.subscribe((bytes) => {
    if (bytes[4] !== 2) return; // model-request
    void liar.publish(encodeMessage({ type: 'model', round: 999, modelVersion: 999, sender: 'liar', values: new Float32Array(late.d).fill(50) }));
  });
  assert.is(late.modelVersion, 0);
  assert.ok(await late.requestCatchUp());
  assert.is(late.modelVersion, 3);
  assert.is(late.round, 3);
  assert.equal(late.parameters(), rest[0]!.parameters(), 'median of 4 equal honest models and 1 liar = the honest model');
  assert.is(late.catchUps, 1);
  const out = await Promise.all(nodes.map((l) => l.beginRound(3)));
  assert.ok(out.every((o) => o.applied));
  dispose();
});

test('federated training beats local-only training on non-IID site data', async () => {
  const evalData = siteData(1001, 1800).trainingRows();
  const rounds = 15;
  const local = sites.map((ds, i) => {
    const m = core.model({ kind: 'mlp', features: FEATURE_COUNT, hidden: 8 }, { seed: 1 });
    const rng = new Prng(i);
    for (let r = 0; r < rounds; r++) trainLocal(m, ds, { steps: 20 }, rng);
    const auc = evaluateAuc(m, evalData.x, evalData.y);
    m.dispose();
    return auc;
  });
  const { nodes, dispose } = fleet(5, { aggregation: { rule: 'centered-clipping', f: 1, bucketing: 2 }, training: { steps: 20 }, evaluation: evalData });
  for (let r = 0; r < rounds; r++) await Promise.all(nodes.map((l) => l.beginRound(r)));
  const fedAuc = nodes[0]!.evaluate();
  const localMean = local.reduce((a, b) => a + b, 0) / local.length;
  assert.ok(fedAuc > localMean, `federated ${fedAuc.toFixed(4)} vs local-only mean ${localMean.toFixed(4)} (${local.map((a) => a.toFixed(3)).join(' ')})`);
  dispose();
});

test.run();
