// The agent-facing learning service on a simulated mesh: three nodes watch the same world
// through their own knowledge windows, collect labelled link data, run clock-numbered rounds
// over the in-process transport, and predict failure probabilities for their current links.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCore } from '../../src/core/index.ts';
import { SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { Knowledge, directLinkMetric } from '../../src/mapek/knowledge.ts';
import { LearningService, errorCountersOf } from '../../src/learning/learning-service.ts';
import type { IfCounters } from '../../src/mapek/knowledge.ts';
import { InProcessHub } from '../../src/learning/round-transport.ts';
import { siteProfile } from '../../src/learning/sim-dataset.ts';

const core = await loadCore();

function poll(world: SimulatedMesh, node: number, k: Knowledge): void {
  const neighbours = world.neighboursOf(node);
  const originators = world.originatorsOf(node);
  k.mesh = { interfaces: [], neighbours, originators, gateways: [], settings: null };
  k.recordLinks(neighbours.map((n) => {
    const m = directLinkMetric('BATMAN_IV', n, originators);
    return { neighbour: n.neighbour, hardIfname: n.hardIfname, kind: m.kind, value: n.lastSeenMs > 5000 ? null : m.value };
  }));
}

test('collect, label, federate on the round clock, predict', async () => {
  const world = new SimulatedMesh({ seed: 21, nodes: 5, topology: 'mesh', meshDegree: 3, linkModel: { ...siteProfile(21), failureRatePerHour: 12 } });
  const hub = new InProcessHub();
  const nodes = [0, 1, 2].map((i) => ({
    k: new Knowledge(),
    svc: new LearningService({
      core, transport: hub.connect(`n${i}`), roundIntervalMs: 300_000, now: () => world.nowMs,
      learner: { aggregation: { rule: 'median', f: 0, bucketing: 0 }, training: { steps: 10 } },
    }),
  }));
  const outcomes = [];
  for (let t = 1; t <= 1800; t++) {
    world.step(1000);
    for (const [i, n] of nodes.entries()) {
      poll(world, i, n.k);
      n.svc.observe(n.k);
    }
    if (t % 300 === 0 && nodes.every((n) => n.svc.data.trainable)) {
      outcomes.push({ clock: Math.floor(world.nowMs / 300_000), outs: await Promise.all(nodes.map((n) => n.svc.runRound())) });
    }
  }
  assert.ok(outcomes.length >= 2, `rounds run: ${outcomes.length}`);
  for (const { clock, outs } of outcomes) for (const o of outs) {
    assert.ok(o && o.applied, o?.skipped);
    assert.is(o!.heard, 3);
    assert.is(o!.round, clock, 'the round number is the clock\'s');
  }
  const s = nodes[0]!.svc.status();
  assert.ok(s.data.seenPositive > 0 && s.data.seenNegative > s.data.seenPositive, JSON.stringify(s.data));
  assert.is(s.modelVersion, outcomes.length);
  const p = nodes[0]!.svc.failureProbabilities();
  assert.is(p.size, nodes[0]!.k.linkStatus().length);
  for (const v of p.values()) assert.ok(v >= 0 && v <= 1);
  // the same round again on the same clock does nothing
  assert.is(await nodes[0]!.svc.runRound(), null);
  nodes.forEach((n) => n.svc.dispose());
});

test('without a federation it trains on local data alone', async () => {
  const world = new SimulatedMesh({ seed: 22, nodes: 4, topology: 'mesh', meshDegree: 3, linkModel: { ...siteProfile(22), failureRatePerHour: 12 } });
  const k = new Knowledge();
  const svc = new LearningService({ core, transport: null, roundIntervalMs: 600_000, now: () => world.nowMs });
  assert.is(svc.failureProbabilities().size, 0, 'no prediction from an untrained model');
  for (let t = 1; t <= 1200; t++) {
    world.step(1000);
    poll(world, 0, k);
    svc.observe(k);
  }
  const o = await svc.runRound();
  assert.ok(o?.applied, o?.skipped);
  assert.is(o!.heard, 1);
  assert.ok(svc.failureProbabilities().size > 0);
  assert.throws(() => new LearningService({ core, transport: null, roundIntervalMs: 0 }), /interval/);
  svc.dispose();
});

test('error counters come from the knowledge when the counter reader returns them', () => {
  const k = new Knowledge();
  const iface = (ifname: string) => ({ ifname, active: true }) as unknown as import('../../src/mesh/driver.ts').HardInterface;
  k.mesh = { interfaces: [iface('mesh0'), iface('mesh1')], neighbours: [], originators: [], gateways: [], settings: null };
  assert.is(errorCountersOf(k), undefined, 'nothing recorded: no counters');
  // a packet-only reader (today's /sys reader) gives no error counters
  k.recordCounters(0, 'mesh1', { rxPackets: 5, txPackets: 5 }, true);
  assert.is(errorCountersOf(k), undefined);
  k.recordCounters(0, 'mesh0', { rxPackets: 5, txPackets: 5, rxErrors: 7, txErrors: 2, rxDropped: 1 } as IfCounters, true);
  assert.equal([...errorCountersOf(k)!], [['mesh0', { rxErrors: 7, txErrors: 2, rxDropped: 1, txDropped: 0 }]]);
});

test.run();
