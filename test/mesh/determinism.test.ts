// A world is a function of its seed: same seed and same calls give the same tables, events,
// counters and link states, however virtual time is cut into steps; another seed gives another run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LINK_MODEL, Prng, SimulatedMesh, SimulatorError, type WorldEvent } from '../../src/mesh/simulator/index.ts';

const RUN_MS = 450_000;

function makeWorld(seed: number | string): SimulatedMesh {
  return new SimulatedMesh({
    seed,
    topology: 'grid',
    nodes: 12,
    // The default model, with failures frequent enough to happen within the run.
    linkModel: { ...DEFAULT_LINK_MODEL, failureRatePerHour: 3, recoveryMinMs: 20_000, recoveryMeanMs: 60_000 },
    settings: (n) => ({ gwMode: n === 0 ? 'server' : 'client' }),
  });
}

/** The same faults at the same virtual times, whatever the step size (a multiple of 1 s here). */
const FAULTS: [number, (w: SimulatedMesh) => void][] = [
  [60_000, (w) => w.killLink(0, 1)],
  [90_000, (w) => w.degradeLink(4, 5, { lossRatio: 0.6, rampMs: 20_000 })],
  [150_000, (w) => w.flapLink(5, 6, { periodMs: 4_000, count: 5 })],
  [200_000, (w) => w.partition([0, 1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11])],
  [260_000, (w) => w.heal()],
  [300_000, (w) => w.stuckInterface(7, 'mesh1')],
  [320_000, (w) => w.blockNeighbour(8, 'mesh0', w.macOf(9, 'mesh0'))],
  // The driver applies a setting synchronously, as the kernel does before it acks.
  [330_000, (w) => void w.driver(3).setMesh({ hopPenalty: 50, origIntervalMs: 700 })],
  [400_000, (w) => w.restoreLink(0, 1)],
  [420_000, (w) => w.setInterfaceUp(7, 'mesh1', false)],
  [425_000, (w) => w.setInterfaceUp(7, 'mesh1', true)],
];

async function run(seed: number | string, stepMs: number): Promise<{ world: SimulatedMesh; streamed: WorldEvent[] }> {
  const world = makeWorld(seed);
  const streamed: WorldEvent[] = [];
  world.on('event', (e) => streamed.push(e));
  let fi = 0;
  for (let t = 0; t < RUN_MS; t += stepMs) {
    while (fi < FAULTS.length && FAULTS[fi]![0] === t) FAULTS[fi++]![1](world);
    world.step(stepMs);
  }
  assert.is(fi, FAULTS.length, `step ${stepMs} ms lands on every fault time`);
  return { world, streamed };
}

let referenceRun: ReturnType<typeof run> | undefined;
/** Seed 42 stepped by 1 s: the run the others are compared with (computed once). */
const reference = () => (referenceRun ??= run(42, 1000));

/** Everything observable, with MACs replaced by node/interface names so seeds can be compared. */
async function snapshot(world: SimulatedMesh, named: boolean) {
  const name = (m: string) => (named ? world.describeMac(m) : m);
  const nodes = [];
  for (let n = 0; n < world.nodeCount; n++) {
    const d = world.driver(n);
    nodes.push({
      originators: (await d.originators()).map((o) => ({ ...o, originator: name(o.originator), nextHop: name(o.nextHop) })),
      neighbours: (await d.neighbours()).map((x) => ({ ...x, neighbour: name(x.neighbour) })),
      gateways: (await d.gateways()).map((g) => ({ ...g, originator: name(g.originator), router: name(g.router) })),
      settings: await d.settings(),
      counters: world.ifnames.map((i) => world.interfaceCounters(n, i)),
    });
  }
  return { nodes, links: world.links(), events: world.events() };
}

test('same seed, same calls: identical tables, events, links and counters', async () => {
  const a = await reference();
  const b = await run(42, 1000);
  const sa = await snapshot(a.world, false);
  assert.equal(sa, await snapshot(b.world, false));
  assert.equal(a.streamed, b.streamed);
  // The run did something worth comparing: natural transitions and every injected fault.
  const kinds = new Set(a.streamed.map((e) => e.kind));
  for (const k of ['link-killed', 'link-degraded', 'link-flap-down', 'partition', 'heal', 'interface-stuck', 'neighbour-blocked', 'gateway-selected']) {
    assert.ok(kinds.has(k as WorldEvent['kind']), `event ${k} happened`);
  }
  assert.ok(a.streamed.some((e) => e.kind === 'link-failed' || e.kind === 'link-degrading'), 'natural failures happened');
  assert.ok(sa.nodes.every((n) => n.originators.length > 0));
});

test('the result does not depend on how virtual time is cut into steps', async () => {
  const ref = await reference();
  for (const stepMs of [5_000, 250]) {
    const other = await run(42, stepMs);
    assert.equal(await snapshot(other.world, false), await snapshot(ref.world, false), `step ${stepMs} ms`);
    assert.equal(other.streamed, ref.streamed);
  }
});

test('another seed gives another run on the same topology (compared by node names, not MACs)', async () => {
  const a = await snapshot((await reference()).world, true);
  const b = await snapshot((await run(43, 1000)).world, true);
  const tqs = (s: typeof a) => s.nodes.map((n) => n.originators.map((o) => `${o.originator}>${o.nextHop}:${o.tq}`));
  assert.not.equal(tqs(a), tqs(b));
  assert.not.equal(
    a.links.map((l) => l.basePdrAB),
    b.links.map((l) => l.basePdrAB),
  );
  assert.not.equal(
    a.events.map((e) => `${e.atMs}:${e.kind}`),
    b.events.map((e) => `${e.atMs}:${e.kind}`),
  );
  // MACs carry the seed: two worlds side by side never share an address.
  const w1 = makeWorld(42);
  const w2 = makeWorld(43);
  assert.is.not(w1.macOf(0, 'mesh0'), w2.macOf(0, 'mesh0'));
});

test('string seeds work the same way; numeric seeds 1 and 1.5 differ', async () => {
  const a = await snapshot((await run('field-test', 5000)).world, false);
  assert.equal(a, await snapshot((await run('field-test', 5000)).world, false));
  const one = new Prng(1);
  const oneAndHalf = new Prng(1.5);
  assert.not.equal([one.u32(), one.u32()], [oneAndHalf.u32(), oneAndHalf.u32()]);
});

test('the world reads no clock and no Math.random', async () => {
  const realRandom = Math.random;
  const realNow = Date.now;
  const realPerf = performance.now;
  const forbidden = () => {
    throw new Error('the simulator used a nondeterministic source');
  };
  Math.random = forbidden;
  Date.now = forbidden;
  performance.now = forbidden;
  try {
    const { world } = await run(7, 5000);
    await snapshot(world, true);
  } finally {
    Math.random = realRandom;
    Date.now = realNow;
    performance.now = realPerf;
  }
});

test('Prng: the same stream for the same seed, uniform floats, bad seeds refused', () => {
  const a = new Prng('x');
  const b = new Prng('x');
  const xs = Array.from({ length: 1000 }, () => a.float());
  assert.equal(xs, Array.from({ length: 1000 }, () => b.float()));
  const c = new Prng(123);
  let sum = 0;
  const buckets = new Array<number>(10).fill(0);
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    const f = c.float();
    assert.ok(f >= 0 && f < 1);
    sum += f;
    buckets[Math.floor(f * 10)]!++;
  }
  assert.ok(Math.abs(sum / N - 0.5) < 0.005);
  // Chi-square with 9 degrees of freedom: 27.9 is the 0.1 % tail.
  const chi = buckets.reduce((s, k) => s + (k - N / 10) ** 2 / (N / 10), 0);
  assert.ok(chi < 27.9, `chi-square ${chi}`);
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => new SimulatedMesh({ seed: bad, topology: 'chain', nodes: 2 }), (e: unknown) => e instanceof SimulatorError && e.code === 'INVALID');
  }
});

test.run();
