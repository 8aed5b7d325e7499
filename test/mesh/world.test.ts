// The world's construction and bookkeeping: topologies, interfaces, names, the event log, the
// realtime runner, and typed errors for every bad option.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IDEAL_LINK_MODEL, SimulatedMesh, SimulatorError, runRealtime, type SimulatedMeshOptions } from '../../src/mesh/simulator/index.ts';

const ONE_BAND = [{ ifname: 'mesh0', band: '5GHz' }];

function edges(world: SimulatedMesh): string[] {
  return world
    .links()
    .filter((l) => l.ifname === 'mesh0')
    .map((l) => `${Math.min(l.a, l.b)}-${Math.max(l.a, l.b)}`)
    .sort();
}

function connected(world: SimulatedMesh): boolean {
  const adj = new Map<number, number[]>();
  for (const l of world.links()) {
    adj.set(l.a, [...(adj.get(l.a) ?? []), l.b]);
    adj.set(l.b, [...(adj.get(l.b) ?? []), l.a]);
  }
  const seen = new Set([0]);
  const todo = [0];
  while (todo.length) for (const m of adj.get(todo.pop()!) ?? []) if (!seen.has(m) && seen.add(m)) todo.push(m);
  return seen.size === world.nodeCount;
}

test('chain, ring, grid and diamond have the edges their names say, on every band', () => {
  const mk = (o: SimulatedMeshOptions) => new SimulatedMesh({ seed: 1, ...o });
  assert.equal(edges(mk({ topology: 'chain', nodes: 4 })), ['0-1', '1-2', '2-3']);
  assert.equal(edges(mk({ topology: 'ring', nodes: 4 })), ['0-1', '0-3', '1-2', '2-3']);
  // 3 x 3 grid: 6 horizontal and 6 vertical neighbours.
  assert.equal(edges(mk({ topology: 'grid', nodes: 9 })), ['0-1', '0-3', '1-2', '1-4', '2-5', '3-4', '3-6', '4-5', '4-7', '5-8', '6-7', '7-8']);
  assert.equal(edges(mk({ topology: 'diamond' })), ['0-1', '0-2', '1-3', '2-3']);
  const two = mk({ topology: 'chain', nodes: 3 });
  assert.is(two.links().length, 4, 'two bands: each edge twice');
  assert.equal(new Set(two.links().map((l) => `${l.ifname}/${l.band}`)), new Set(['mesh0/5GHz', 'mesh1/2.4GHz']));
});

test("'mesh': seeded random geometric graph, always connected, base quality within the model's range", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const w = new SimulatedMesh({ seed, topology: 'mesh', nodes: 60, meshDegree: 4, interfaces: ONE_BAND });
    assert.ok(connected(w), `seed ${seed} connected`);
    const degree = (2 * w.links().length) / w.nodeCount;
    assert.ok(degree > 2.5 && degree < 5.5, `seed ${seed}: mean degree ${degree}`);
    for (const l of w.links()) {
      assert.ok(l.basePdrAB >= 0.8 - 1e-12 && l.basePdrAB <= 0.99 + 1e-12, `base ${l.basePdrAB}`);
      assert.ok(l.basePdrBA <= l.basePdrAB + 1e-12 && l.basePdrBA >= l.basePdrAB * 0.95 - 1e-12, 'asymmetry at most 5 %');
    }
    assert.equal(edges(w), edges(new SimulatedMesh({ seed, topology: 'mesh', nodes: 60, meshDegree: 4, interfaces: ONE_BAND })));
  }
});

test('explicit links: given delivery ratios per direction and per band', async () => {
  const w = new SimulatedMesh({
    seed: 1,
    topology: { links: [{ a: 0, b: 1, pdr: 0.7, pdrBack: 0.4 }, { a: 1, b: 2, bands: [1] }] },
    linkModel: IDEAL_LINK_MODEL,
  });
  assert.is(w.nodeCount, 3);
  const l01 = w.links().filter((l) => l.a === 0 && l.b === 1);
  assert.equal(l01.map((l) => [l.basePdrAB, l.basePdrBA]), [
    [0.7, 0.4],
    [0.7, 0.4],
  ]);
  assert.equal(w.links().filter((l) => l.a === 1 && l.b === 2).map((l) => l.ifname), ['mesh1']);
  w.step(90_000);
  // n3 is heard by n2 on mesh1 only.
  assert.equal((await w.driver(2).neighbours()).map((n) => `${w.describeMac(n.neighbour)}@${n.hardIfname}`), ['n2/mesh1@mesh1']);
});

test('bad world options are typed errors', () => {
  const bad: SimulatedMeshOptions[] = [
    { topology: 'chain' },
    { topology: 'chain', nodes: 0 },
    { topology: 'chain', nodes: 2.5 },
    { topology: 'ring', nodes: 2 },
    { topology: 'diamond', nodes: 5 },
    { topology: 'star' as never, nodes: 3 },
    { topology: 'mesh', nodes: 5, meshDegree: 0 },
    { topology: { links: [{ a: 0, b: 0 }] } },
    { topology: { links: [{ a: 0, b: 1 }, { a: 1, b: 0 }] } },
    { topology: { links: [{ a: 0, b: 3 }] }, nodes: 2 },
    { topology: { links: [{ a: 0, b: 1, pdr: 1.5 }] } },
    { topology: 'chain', nodes: 2, interfaces: [] },
    { topology: 'chain', nodes: 2, interfaces: [{ ifname: 'bat0', band: 'x' }] },
    { topology: 'chain', nodes: 2, interfaces: [{ ifname: 'a', band: 'x' }, { ifname: 'a', band: 'y' }] },
    { topology: 'chain', nodes: 2, interfaces: [{ ifname: 'way too long an ifname', band: 'x' }] },
    { topology: 'chain', nodes: 2, interfaces: [{ ifname: 'w0', band: 'x', pdrScale: 2 }] },
    { topology: 'chain', nodes: 2, nodeNames: ['only-one'] },
    { topology: 'chain', nodes: 2, eventLogLimit: 0 },
    { topology: 'chain', nodes: 2, settings: { hopPenalty: 999 } },
    { topology: 'chain', nodes: 2, seed: Number.NaN },
  ];
  for (const o of bad) {
    assert.throws(() => new SimulatedMesh(o), (e: unknown) => e instanceof SimulatorError && e.code === 'INVALID', JSON.stringify(o));
  }
});

test('names and MACs: stable, lower-case, resolvable both ways', () => {
  const w = new SimulatedMesh({ seed: 'names', topology: 'chain', nodes: 3, nodeNames: ['alpha', 'beta', 'gamma'] });
  const mac = w.macOf(1, 'mesh1');
  assert.match(mac, /^02(:[0-9a-f]{2}){5}$/, 'locally administered, lower case');
  assert.is(w.nodeOfMac(mac.toUpperCase()), 1);
  assert.is(w.describeMac(mac), 'beta/mesh1');
  assert.is(w.describeMac(w.meshMacOf(2)), 'gamma');
  assert.is(w.nodeOfMac('not a mac'), -1);
  assert.is(w.describeMac('02:00:00:00:00:99'), '02:00:00:00:00:99');
  assert.is(new Set([0, 1, 2].flatMap((n) => [w.macOf(n, 'mesh0'), w.macOf(n, 'mesh1'), w.meshMacOf(n)])).size, 9);
  assert.throws(() => w.macOf(1, 'wlan0'), (e: unknown) => e instanceof SimulatorError && e.code === 'NO_INTERFACE');
  assert.throws(() => w.nodeName(3), (e: unknown) => e instanceof SimulatorError && e.code === 'NO_NODE');
});

test('the event log is bounded, listeners can unsubscribe, and a throwing listener breaks nothing', () => {
  const w = new SimulatedMesh({ seed: 1, topology: 'chain', nodes: 3, eventLogLimit: 3 });
  const seen: string[] = [];
  const off = w.on('event', (e) => seen.push(e.kind));
  w.on('event', () => {
    throw new Error('listener bug');
  });
  w.killLink(0, 1);
  w.restoreLink(0, 1);
  w.degradeLink(1, 2, { lossRatio: 0.1 });
  w.partition([0], [1, 2]);
  assert.equal(
    w.events().map((e) => e.kind),
    ['link-restored', 'link-degraded', 'partition'],
  );
  off();
  w.heal();
  assert.equal(seen, ['link-killed', 'link-restored', 'link-degraded', 'partition']);
  // A copy: callers cannot rewrite history.
  w.events()[0]!.nodes.push(99);
  assert.not.ok(w.events()[0]!.nodes.includes(99));
  assert.throws(() => w.on('other' as 'event', () => {}), (e: unknown) => e instanceof SimulatorError);
});

test('runRealtime steps the world by tickMs * speed of virtual time until stopped', async () => {
  const w = new SimulatedMesh({ seed: 1, topology: 'chain', nodes: 2 });
  let steps = 0;
  let stopAt = -1;
  await new Promise<void>((resolve) => {
    const run = runRealtime(w, {
      tickMs: 5,
      speed: 20,
      onStep: () => {
        if (++steps === 3) {
          run.stop();
          stopAt = w.nowMs;
          assert.not.ok(run.running);
          resolve();
        }
      },
    });
  });
  assert.is(stopAt, 300, 'three steps of 5 ms x 20');
  await new Promise((r) => setTimeout(r, 30));
  assert.is(steps, 3, 'no step after stop');
  assert.throws(() => runRealtime(w, { tickMs: 0 }), (e: unknown) => e instanceof SimulatorError);
  assert.throws(() => runRealtime(w, { speed: -1 }), (e: unknown) => e instanceof SimulatorError);
});

test.run();
