// TQ as batman-adv computes it: the simulator's tables against an independent statement of the
// kernel's arithmetic (batman-iv-reference.ts), on chains of perfect links and on a degraded link.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IDEAL_LINK_MODEL, SimulatedMesh, type InterfaceSpec } from '../../src/mesh/simulator/index.ts';
import { calcTq, hopPenalty, idealChainTq, TqRing } from './batman-iv-reference.ts';

const ONE_BAND: InterfaceSpec[] = [{ ifname: 'mesh0', band: '5GHz' }];
// 64 OGMs fill the link windows, 5 more fill the TQ ring: 120 s of 1 s OGMs is converged.
const CONVERGE_MS = 120_000;

function chain(nodes: number, opts: { bands?: 1 | 2; hopPenalty?: number; seed?: number } = {}): SimulatedMesh {
  return new SimulatedMesh({
    seed: opts.seed ?? 11,
    topology: 'chain',
    nodes,
    linkModel: IDEAL_LINK_MODEL,
    ...(opts.bands === 2 ? {} : { interfaces: ONE_BAND }),
    ...(opts.hopPenalty === undefined ? {} : { settings: { hopPenalty: opts.hopPenalty } }),
  });
}

/** The best (router) entry per originator as node `r` reports it, keyed by the originator's MAC. */
async function bestRoutes(world: SimulatedMesh, r: number) {
  const out = new Map<string, { nextHop: string; tq: number }>();
  for (const o of await world.driver(r).originators()) if (o.best) out.set(o.originator, { nextHop: o.nextHop, tq: o.tq! });
  return out;
}

/** Steps 1 ms at a time until node r has just processed a new OGM of `orig`; returns its TQ. */
async function nextOgm(world: SimulatedMesh, r: number, orig: string, limitMs = 2_000): Promise<number> {
  const d = world.driver(r);
  for (let i = 0; i < limitMs; i++) {
    world.step(1);
    const o = (await d.originators()).find((x) => x.originator === orig && x.best);
    if (o && o.lastSeenMs === 0) return o.tq!;
  }
  throw new Error(`no OGM of ${world.describeMac(orig)} at node ${r} within ${limitMs} ms`);
}

test('the reference arithmetic gives the hand-computed values', () => {
  // hop_penalty 30, one band: each relay costs (225/255) twice: 255 -> 225 -> 198 -> 174 -> 153 ...
  assert.equal([1, 2, 3, 4, 5, 6].map((k) => idealChainTq(k, 30, 1)), [255, 198, 153, 119, 92, 71]);
  // hop_penalty 15: 255 -> 240 -> 225 -> 211 -> 198 ...
  assert.equal([1, 2, 3, 4, 5, 6].map((k) => idealChainTq(k, 15, 1)), [255, 225, 198, 175, 154, 135]);
  // Two bands: one penalty per relay, the reference page's "each hop multiplies by (255 - hp)/255".
  assert.equal([1, 2, 3, 4, 5].map((k) => idealChainTq(k, 30, 2)), [255, 225, 198, 174, 153]);
  assert.is(hopPenalty(255, 0), 255);
  // A full, symmetric window costs nothing; a half-filled one costs the asymmetry penalty.
  assert.is(calcTq(255, 64, 64), 255);
  assert.is(calcTq(255, 32, 32), 255 - Math.floor((255 * 32 ** 3) / 64 ** 3));
  const ring = new TqRing();
  for (const v of [200, 0, 100]) ring.push(v);
  assert.is(ring.average(), 150, 'zeros are not averaged');
});

for (const hp of [30, 15]) {
  test(`one-band ideal chain, hop_penalty ${hp}: every node's TQ to every other node at k hops is the kernel's`, async () => {
    const n = 7;
    const world = chain(n, hp === 30 ? {} : { hopPenalty: hp });
    if (hp === 30) assert.is((await world.driver(0).settings()).hopPenalty, 30, 'batman-adv default hop_penalty');
    world.step(CONVERGE_MS);
    for (let r = 0; r < n; r++) {
      const routes = await bestRoutes(world, r);
      assert.is(routes.size, n - 1, `node ${r} knows every other node`);
      for (let o = 0; o < n; o++) {
        if (o === r) continue;
        const route = routes.get(world.macOf(o, 'mesh0'));
        assert.ok(route, `n${r + 1} has a route to n${o + 1}`);
        const k = Math.abs(o - r);
        assert.is(route.tq, idealChainTq(k, hp, 1), `TQ n${r + 1} -> n${o + 1} at ${k} hops`);
        const towards = o > r ? r + 1 : r - 1;
        assert.is(route.nextHop, world.macOf(towards, 'mesh0'), 'next hop is the neighbour on the way');
      }
    }
  });
}

test('two-band ideal chain: the relay forwards out of the other band, one hop penalty per relay', async () => {
  const n = 5;
  const world = chain(n, { bands: 2 });
  world.step(CONVERGE_MS);
  const routes = await bestRoutes(world, 0);
  for (let o = 1; o < n; o++) {
    // Primary interfaces (mesh0) are the node-wide originators.
    assert.is(routes.get(world.macOf(o, 'mesh0'))?.tq, idealChainTq(o, 30, 2), `TQ to n${o + 1}/mesh0 at ${o} hops`);
  }
  // A secondary interface's OGM (TTL 2) is only rebroadcast out of the interface it came in on:
  // n3/mesh1 two hops away pays the same-interface penalty too.
  assert.is(routes.get(world.macOf(2, 'mesh1'))?.tq, idealChainTq(2, 30, 1));
  // Its TTL ends there: n4/mesh1, three hops away, is unknown to n1.
  assert.not.ok(routes.has(world.macOf(3, 'mesh1')));
});

test('a hard interface hop_penalty on the receiving side lowers every TQ learnt through it', async () => {
  const world = chain(3);
  await world.driver(1).setHardIf('mesh0', { hopPenalty: 40 });
  world.step(CONVERGE_MS);
  const at1 = await bestRoutes(world, 1);
  // n2 hears n1 and n3 on mesh0: the direct TQ is 255 * (255 - 40) / 255.
  assert.is(at1.get(world.macOf(0, 'mesh0'))?.tq, calcTq(255, 64, 64, 40));
  assert.is(at1.get(world.macOf(2, 'mesh0'))?.tq, 215);
  // n3 learns n1 through n2, which forwards with both its interface penalty and the mesh one.
  const at2 = await bestRoutes(world, 2);
  const relayed = hopPenalty(calcTq(255, 64, 64, 40, 30), 30);
  assert.is(at2.get(world.macOf(0, 'mesh0'))?.tq, relayed);
  assert.ok(relayed < idealChainTq(2, 30, 1));
});

test('5-sample average: a relay raising its hop_penalty moves the TQ one fifth per OGM', async () => {
  const world = chain(3);
  world.step(CONVERGE_MS);
  const n1 = world.macOf(0, 'mesh0');
  const before = idealChainTq(2, 30, 1);
  assert.is((await bestRoutes(world, 2)).get(n1)?.tq, before);
  const read = await world.driver(1).setMesh({ hopPenalty: 60 });
  assert.is(read.hopPenalty, 60);
  const sample = idealChainTq(2, 60, 1);
  const ring = new TqRing();
  for (let i = 0; i < 5; i++) ring.push(before);
  const seen: number[] = [];
  const expected: number[] = [];
  for (let i = 0; i < 6; i++) {
    seen.push(await nextOgm(world, 2, n1));
    ring.push(sample);
    expected.push(ring.average());
  }
  // (1 x 149 + 4 x 198) / 5 = 188 after one OGM, ..., 149 after five.
  assert.equal(expected, [188, 178, 168, 158, 149, 149]);
  assert.equal(seen, expected);
});

test('5-sample average: a penalised link drops from 255 to 255 - penalty over exactly five OGMs', async () => {
  const world = chain(2);
  world.step(CONVERGE_MS);
  const n1 = world.macOf(0, 'mesh0');
  await world.driver(1).setHardIf('mesh0', { hopPenalty: 100 });
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) seen.push(await nextOgm(world, 1, n1));
  // Ring [155, 255, 255, 255, 255] -> 235 after one sample; all 155 after five.
  assert.equal(seen, [235, 215, 195, 175, 155]);
});

test('a lost path keeps its average until five newer OGMs passed it by (zeros do not count), then the route moves', async () => {
  const world = new SimulatedMesh({ seed: 3, topology: 'diamond', interfaces: ONE_BAND, linkModel: IDEAL_LINK_MODEL });
  world.step(CONVERGE_MS);
  const n4 = world.macOf(3, 'mesh0');
  const before = (await bestRoutes(world, 0)).get(n4)!;
  assert.is(before.tq, idealChainTq(2, 30, 1));
  const relay = world.nodeOfMac(before.nextHop);
  const other = relay === 1 ? 2 : 1;
  world.killLink(relay, 3);
  const trace: string[] = [];
  for (let i = 0; i < 6; i++) {
    await nextOgm(world, 0, n4);
    const r = (await bestRoutes(world, 0)).get(n4)!;
    trace.push(`${world.nodeName(world.nodeOfMac(r.nextHop))}:${r.tq}`);
  }
  // Each new seqno through `other` pushes a 0 into the lost path's ring; its average ignores
  // zeros, so it stays 198 (ties keep the router) until the fifth, when it is 0 and the route moves.
  const via = (n: number) => `${world.nodeName(n)}:198`;
  assert.equal(trace, [via(relay), via(relay), via(relay), via(relay), via(other), via(other)]);
});

test('a degraded link: every reported TQ is the 5-sample average of calc_tq over the link windows', async () => {
  const world = chain(2, { seed: 5 });
  world.step(CONVERGE_MS);
  const n1 = world.macOf(0, 'mesh0');
  const link = world.links().find((l) => l.a === 0 && l.b === 1)!;
  const d = 2 * link.index; // n1 -> n2, the direction whose OGMs n2 counts
  const engine = world.engine;
  const h2 = 1; // n2/mesh0: one interface per node
  const ring = new TqRing();
  for (let i = 0; i < 5; i++) ring.push(255);
  world.degradeLink(0, 1, { lossRatio: 0.4 });
  const driver = world.driver(1);
  let samples = 0;
  let firstAfter = -1;
  let lowest = 255;
  for (let t = 0; t < 150_000; t++) {
    const eqBefore = engine.echoCount[d]!;
    const ownSeqBefore = engine.seqno[h2]!;
    world.step(1);
    const o = (await driver.originators()).find((x) => x.originator === n1 && x.best);
    if (!o || o.lastSeenMs !== 0) continue;
    const rq = engine.recvCount[d]!;
    // n2's own OGM in the same millisecond slides its echo window: either order is possible.
    const eqs = engine.seqno[h2] !== ownSeqBefore ? [engine.echoCount[d]!, eqBefore] : [engine.echoCount[d]!];
    let matched = false;
    for (const eq of eqs) {
      const s = calcTq(255, rq, eq);
      const trial = ring.clone();
      if (s >= 1) trial.push(s);
      if (trial.average() === o.tq) {
        if (s >= 1) ring.push(s);
        matched = true;
        break;
      }
    }
    assert.ok(matched, `at ${world.nowMs} ms: reported ${o.tq}, expected ${ring.average()} (rq ${rq}, eq ${eqs.join('/')})`);
    if (firstAfter < 0) firstAfter = o.tq!;
    lowest = Math.min(lowest, o.tq!);
    samples++;
  }
  // ~150 OGMs, 60 % of them delivered.
  assert.ok(samples > 60 && samples < 120, `${samples} OGMs received`);
  // One OGM after the loss started the windows have lost at most one OGM: the TQ barely moves.
  assert.ok(firstAfter >= 250, `first TQ after degradation ${firstAfter}`);
  assert.ok(lowest < 180, `the TQ fell: lowest ${lowest}`);
});

test('a lossy link settles near 255 * p * (1 - (1 - p)^3), the expectation of calc_tq', async () => {
  for (const p of [0.9, 0.6]) {
    const world = chain(2, { seed: 21 });
    world.degradeLink(0, 1, { lossRatio: 1 - p });
    world.step(CONVERGE_MS);
    let sum = 0;
    let count = 0;
    for (let s = 0; s < 600; s++) {
      world.step(1000);
      for (const r of [0, 1]) {
        const o = (await world.driver(r).originators()).find((x) => x.best)!;
        sum += o.tq!;
        count++;
      }
    }
    const mean = sum / count;
    // rq ~ Bin(64, p), eq ~ Bin(64, p^2): tq_own ~ 255 p, asymmetry factor ~ 1 - (1 - p)^3.
    const expected = 255 * p * (1 - (1 - p) ** 3);
    assert.ok(Math.abs(mean - expected) < 0.06 * expected, `p=${p}: mean TQ ${mean.toFixed(1)}, expected ~${expected.toFixed(1)}`);
  }
});

test.run();
