// The monitor against the simulator (a real MeshDriver implementation), stepped in virtual time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IDEAL_LINK_MODEL, SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { Monitor } from '../../src/mapek/monitor.ts';
import { Knowledge } from '../../src/mapek/knowledge.ts';
import { HealthBoard } from '../../src/agent/health.ts';
import { silentLogger } from '../../src/agent/logger.ts';
import { MeshError, type MeshDriver } from '../../src/mesh/driver.ts';
import { SPLIT_DIAMOND } from './sim-agent.ts';

function setup(world: SimulatedMesh, node = 0, driver: MeshDriver = world.driver(node)) {
  const knowledge = new Knowledge({ historyLength: 10 });
  const health = new HealthBoard(world.nodeName(node));
  const monitor = new Monitor(driver, knowledge, health, silentLogger, {
    intervalMs: 1000,
    now: () => world.nowMs,
    describeMac: (m) => world.describeMac(m),
  });
  const poll = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      world.step(1000);
      await monitor.pollOnce();
    }
  };
  return { knowledge, health, monitor, poll };
}

/** The driver, counting the neighbour and originator dumps asked of it. */
function countingDriver(d: MeshDriver) {
  const calls = { neighbours: 0, originators: 0 };
  const counting = new Proxy(d, {
    get: (t, p) => {
      if (p === 'neighbours' || p === 'originators') return () => (calls[p]++, (t[p] as () => Promise<unknown>).call(t));
      return Reflect.get(t, p, t);
    },
  }) as MeshDriver;
  return { calls, counting };
}

/** One interface per link, as on point-to-point links: each neighbour of n1 is alone on its own. */
const splitDiamond = () => new SimulatedMesh({ seed: 7, linkModel: IDEAL_LINK_MODEL, nodeNames: ['n1', 'n2', 'n3', 'n4'], topology: SPLIT_DIAMOND });

const diamond = () =>
  new SimulatedMesh({
    seed: 7,
    topology: 'diamond',
    linkModel: IDEAL_LINK_MODEL,
    nodeNames: ['n1', 'n2', 'n3', 'n4'],
    settings: (n) => ({ gwMode: n === 3 ? 'server' : 'client' }),
  });

test('a converged diamond: links sampled with TQ history, mesh ok, gateway selected', async () => {
  const world = diamond();
  world.step(90_000);
  const { knowledge, health, poll } = setup(world);
  await poll(3);
  const links = knowledge.linkStatus();
  // n1 touches n2 and n3, each over every band the simulator gives a node.
  const peers = new Set(links.map((l) => world.describeMac(l.neighbour).split('/')[0]));
  assert.equal([...peers].sort(), ['n2', 'n3']);
  for (const l of links) {
    assert.is(l.metricKind, 'tq');
    assert.is(l.history.length, 3);
    assert.ok(l.metric !== null && l.metric > 0 && l.metric <= 255, `TQ in range: ${l.metric}`);
  }
  assert.is(health.get('mesh')?.state, 'ok', health.get('mesh')?.reason);
});

test('a killed link is reported dead once its neighbour goes silent, and comes back', async () => {
  const world = diamond();
  world.step(90_000);
  const { knowledge, health, poll } = setup(world);
  await poll(2);
  world.killLink(0, 1);
  await poll(8);
  const dead = knowledge.recentEvents().filter((e) => e.kind === 'finding' && /link to n2\/\S+ on \S+ dead: silent for/.test(e.message));
  assert.ok(dead.length >= 1, JSON.stringify(knowledge.recentEvents(), null, 1));
  const toN2 = knowledge.linkStatus().filter((l) => world.describeMac(l.neighbour).startsWith('n2/'));
  assert.ok(toN2.every((l) => l.metric === null), 'dead links carry no metric');
  // n1 still reaches the gateway n4 through n3.
  assert.is(health.get('mesh')?.state, 'ok', health.get('mesh')?.reason);
  world.restoreLink(0, 1);
  await poll(5);
  assert.ok(knowledge.recentEvents().some((e) => /neighbour n2\/\S+ heard on/.test(e.message)));
});

test('a partition from the gateway degrades the mesh and says why', async () => {
  const world = diamond();
  world.step(90_000);
  const { knowledge, health, poll } = setup(world);
  await poll(2);
  assert.is(health.get('mesh')?.state, 'ok');
  world.partition([0], [1, 2, 3]);
  await poll(8);
  const mesh = health.get('mesh')!;
  assert.is(mesh.state, 'degraded');
  assert.match(mesh.reason, 'no neighbour heard');
  assert.match(mesh.reason, /gateway n4\S* unreachable/);
  assert.ok(knowledge.recentEvents().some((e) => /gateway n4\S* unreachable/.test(e.message)));
});

test('driver failures: NO_PRIMARY degrades, anything else is down; one event per distinct error', async () => {
  const world = diamond();
  world.step(30_000);
  const real = world.driver(0);
  let failWith: MeshError | null = null;
  // Wraps the real driver to fail on demand: the simulator has no way to make batman-adv itself vanish.
  const flaky = new Proxy(real, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (prop === 'originators' && failWith) return () => Promise.reject(failWith);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as MeshDriver;
  const { knowledge, health, monitor, poll } = setup(world, 0, flaky);
  failWith = new MeshError('NO_PRIMARY', 'no active primary interface');
  await poll(3);
  assert.is(health.get('mesh')?.state, 'degraded');
  failWith = new MeshError('NO_MODULE', 'batman-adv is not loaded');
  await poll(3);
  assert.is(health.get('mesh')?.state, 'down');
  assert.is(monitor.stats.pollErrors, 6);
  assert.is(knowledge.recentEvents().filter((e) => e.message.startsWith('mesh unreadable')).length, 2);
  failWith = null;
  await poll(1);
  assert.is(monitor.stats.consecutiveErrors, 0);
  assert.is.not(health.get('mesh')?.state, 'down');
});

test('a neighbour overdue with its OGM: the neighbour table alone is polled fast, the rest at the interval', async () => {
  const world = diamond();
  world.step(90_000);
  world.killLink(0, 1);
  world.step(1500); // n2 is 1.5 OGM intervals overdue on n1
  const d = world.driver(0);
  const { calls, counting } = countingDriver(d);
  const knowledge = new Knowledge();
  let steps = 0;
  const monitor = new Monitor(counting, knowledge, new HealthBoard('n1'), silentLogger, {
    intervalMs: 1000, fastIntervalMs: 50, now: () => world.nowMs, afterPoll: async () => void steps++,
  });
  monitor.start();
  await new Promise((r) => setTimeout(r, 600));
  await monitor.stop();
  assert.ok(monitor.urgent, 'overdue neighbour seen');
  assert.is(calls.originators, 1, 'one full poll in 600 ms');
  assert.ok(calls.neighbours >= 4, `neighbour table polled fast: ${calls.neighbours}`);
  assert.is(steps, calls.neighbours, 'the loop ran after every poll');
});

test('a neighbour alone on its interface: a light poll when its OGM becomes overdue, not a whole interval later', async () => {
  const world = splitDiamond();
  world.step(90_000);
  const d = world.driver(0);
  const { calls, counting } = countingDriver(d);
  // The world stands still: each neighbour was last heard under 1.2 OGM intervals ago, so one is
  // due within 1.2 s; the interval (5 s) alone would not poll again in that time.
  const monitor = new Monitor(counting, new Knowledge(), new HealthBoard('n1'), silentLogger, { intervalMs: 5000, now: () => world.nowMs });
  const lastSeen = (await d.neighbours()).map((n) => n.lastSeenMs);
  calls.neighbours = 0;
  assert.ok(lastSeen.every((ms) => ms < 1200), JSON.stringify(lastSeen));
  monitor.start();
  await new Promise((r) => setTimeout(r, 1500));
  await monitor.stop();
  assert.is(calls.originators, 1, 'one full poll');
  assert.ok(calls.neighbours >= 2, `a light poll when the OGM came due: ${calls.neighbours} neighbour polls`);
});

test('due polls do not spin while the ages stand still (between the simulator steps)', async () => {
  const world = splitDiamond();
  world.step(90_000);
  const d = world.driver(0);
  // n2 falls silent and the world stops 10 ms before its OGM is overdue: due "now", every time.
  world.killLink(0, 1);
  const n2 = (await d.neighbours()).find((n) => n.hardIfname === 'mesh0')!;
  world.step(1190 - n2.lastSeenMs);
  const { calls, counting } = countingDriver(d);
  const monitor = new Monitor(counting, new Knowledge(), new HealthBoard('n1'), silentLogger, { intervalMs: 5000, now: () => world.nowMs });
  monitor.start();
  await new Promise((r) => setTimeout(r, 1000));
  await monitor.stop();
  assert.ok(calls.neighbours <= 11, `at most one due poll per 100 ms: ${calls.neighbours} in 1 s`);
});

test.run();
