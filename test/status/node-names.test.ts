// nodeNames: the names a status report carries for its MACs, read from a simulated mesh's own
// tables and named by the simulator (the part that knows names, as in the demo).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { nodeNames } from '../../src/status/node-names.ts';

test('every MAC of a simulated node gets its node (and interface) name; none without a namer', async () => {
  const world = new SimulatedMesh({ nodes: 3, seed: 7, topology: 'chain', nodeNames: ['alpha', 'bravo', 'charlie'] });
  world.step(120_000);
  const d = world.driver(0);
  const mesh = { interfaces: await d.interfaces(), neighbours: await d.neighbours(), originators: await d.originators(), gateways: await d.gateways(), settings: null };
  assert.ok(mesh.neighbours.length > 0 && mesh.originators.length > 0, 'the simulated mesh has converged');
  const links = mesh.neighbours.map((n) => ({ neighbour: n.neighbour, hardIfname: n.hardIfname, metricKind: 'tq' as const, metric: 200, history: [200] }));
  const names = nodeNames(mesh, links, (m) => world.describeMac(m));
  for (const n of mesh.neighbours) assert.match(names[n.neighbour]!, /^(bravo|charlie)\/\w+$/, `neighbour ${n.neighbour}`);
  for (const o of mesh.originators) {
    assert.match(names[o.originator]!, /^(bravo|charlie)(\/\w+)?$/, `originator ${o.originator}`);
    assert.ok(names[o.nextHop], `next hop ${o.nextHop}`);
  }
  assert.equal(nodeNames(mesh, links), {}, 'no namer, no names');
  await d.close();
});

test('a MAC the namer cannot name, or that throws, stays out', () => {
  const mesh = {
    interfaces: [],
    neighbours: [{ neighbour: '02:00:00:00:00:02', hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 1 }],
    originators: [{ originator: '02:00:00:00:00:03', nextHop: '02:00:00:00:00:02', hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 1, best: true, tq: 200 }],
    gateways: [],
    settings: null,
  };
  const names = nodeNames(mesh, [], (m) => {
    if (m.endsWith('03')) throw new Error('no');
    return m.endsWith('02') ? 'bravo' : m;
  });
  assert.equal(names, { '02:00:00:00:00:02': 'bravo' });
});

test.run();
