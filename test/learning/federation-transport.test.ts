// Rounds over the real federation: three agents' federations on 127.0.0.1 (fleet CA, admission,
// signed gossipsub messages), a FederatedLearner on each through federationTransport. Every
// round closes on its quorum with all three updates, and the models agree.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TestFleet, until } from '../federation/fleet-harness.ts';
import type { Federation } from '../../src/federation/types.ts';
import { federationTransport, LEARNING_TOPIC } from '../../src/learning/federation-transport.ts';
import { FederatedLearner } from '../../src/learning/federated-learner.ts';
import { LocalDataset } from '../../src/learning/local-dataset.ts';
import { FEATURE_COUNT } from '../../src/learning/features.ts';
import { simulateLinkData } from '../../src/learning/sim-dataset.ts';
import { loadCore } from '../../src/core/index.ts';

const fleet = new TestFleet('learn');
const feds: Federation[] = [];

test.before(async () => {
  feds.push(await fleet.start('a'));
  feds.push(await fleet.start('b', { peers: feds[0]!.addresses() }));
  feds.push(await fleet.start('c', { peers: feds[0]!.addresses() }));
  await until('everyone admitted everyone', () => feds.every((f) => f.peers().length === 2), 30_000);
  // the learning topic's gossipsub mesh forms on heartbeats: probe until every node hears both others
  const heard = feds.map(() => new Set<string>());
  feds.forEach((f, i) => f.subscribe(LEARNING_TOPIC, (m) => heard[i]!.add(m.from)));
  let polls = 0;
  await until('probes heard on the learning topic', () => {
    // a probe every 10th poll (250 ms): the federation rate-limits chatty peers
    if (polls++ % 10 === 0) for (const f of feds) void f.publish(LEARNING_TOPIC, new Uint8Array([0])).catch(() => undefined);
    return heard.every((h) => h.size === 2);
  }, 30_000);
});

test.after(async () => {
  await Promise.all(feds.map((f) => f.stop()));
});

test('three learners run rounds over signed gossipsub and agree', async () => {
  const core = await loadCore();
  const learners = feds.map((fed, i) => {
    const d = simulateLinkData({ seed: i + 1, durationS: 600 });
    const ds = new LocalDataset({ features: FEATURE_COUNT, seed: i + 1 });
    ds.addAll(d.x, d.y);
    return new FederatedLearner({
      core, transport: federationTransport(fed), data: ds, evaluateEvery: 0, training: { steps: 5 },
      aggregation: { rule: 'median', f: 1, bucketing: 0 }, roundTimeoutMs: 15_000,
    });
  });
  for (let r = 0; r < 3; r++) {
    const out = await Promise.all(learners.map((l) => l.beginRound(r)));
    for (const o of out) {
      assert.is(o.closedBy, 'quorum', `round ${r} closed by ${o.closedBy} with ${o.heard}; dropped ${JSON.stringify(feds.map((f) => f.metrics().messagesDropped))}`);
      assert.is(o.heard, 3);
      assert.ok(o.applied);
    }
  }
  const p = learners[0]!.parameters();
  for (const l of learners) assert.equal(l.parameters(), p);
  assert.is(learners[0]!.peersAdmitted(), 2);
  learners.forEach((l) => l.dispose());
});

test.run();
