// Gateway selection as batman-adv's BATMAN_IV does it (gateway_client.c, bat_iv_ogm.c):
// class 1 picks by tq^2 * bandwidth and then stays; class 2 stays; class 3 switches to any
// better TQ; class > 3 switches when the other gateway's TQ is at least `class` points better.
// Client n1; gateway A = n2, one hop, 1 Mbit/s; gateway B = n4, two hops (via n3), 100 Mbit/s
// unless a test says otherwise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IDEAL_LINK_MODEL, SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { idealChainTq } from './batman-iv-reference.ts';

const A = 1;
const B = 3;

async function world(aKbps = 1_000, bKbps = 100_000): Promise<SimulatedMesh> {
  const w = new SimulatedMesh({
    seed: 23,
    topology: { links: [{ a: 0, b: 1 }, { a: 0, b: 2 }, { a: 2, b: 3 }] },
    linkModel: IDEAL_LINK_MODEL,
  });
  await w.driver(A).setMesh({ gwMode: 'server', gwBandwidthDownKbps: aKbps, gwBandwidthUpKbps: 1_000 });
  await w.driver(B).setMesh({ gwMode: 'server', gwBandwidthDownKbps: bKbps, gwBandwidthUpKbps: 10_000 });
  w.step(120_000);
  return w;
}

/** n1's gateway list: TQ per gateway node and which one is selected. */
async function view(w: SimulatedMesh) {
  const gws = await w.driver(0).gateways();
  const tq = (n: number) => gws.find((g) => g.originator === w.macOf(n, 'mesh0'))?.tq ?? 0;
  const best = gws.find((g) => g.best);
  return { a: tq(A), b: tq(B), best: best ? w.nodeOfMac(best.originator) : -1 };
}

/** batadv_iv_gw_get_best_gw_node, class 1: (tq^2 * bandwidth in 100 kbit/s * 100 * 100) >> 18. */
const factor = (tq: number, kbps: number) => Math.floor((tq * tq * (kbps / 100) * 10_000) / 2 ** 18);

test('class 1 (fast connection): bandwidth weighs in, the far fat gateway wins', async () => {
  const w = await world();
  await w.driver(0).setMesh({ gwMode: 'client', gwSelClass: 1 });
  w.step(2_000);
  const v = await view(w);
  assert.equal([v.a, v.b], [idealChainTq(1, 30, 2), idealChainTq(2, 30, 2)]);
  assert.ok(factor(v.b, 100_000) > factor(v.a, 1_000));
  assert.is(v.best, B);
  const g = (await w.driver(0).gateways()).find((x) => x.best)!;
  assert.equal([g.bandwidthDownKbps, g.bandwidthUpKbps], [100_000, 10_000]);
});

test('class 1: TQ counts squared, so 20 % more bandwidth two hops away does not beat one hop', async () => {
  // 225^2 * 120 < 255^2 * 100, although 225 * 120 > 255 * 100.
  const w = await world(10_000, 12_000);
  await w.driver(0).setMesh({ gwMode: 'client', gwSelClass: 1 });
  w.step(2_000);
  const v = await view(w);
  assert.ok(factor(v.a, 10_000) > factor(v.b, 12_000) && v.b * 120 > v.a * 100);
  assert.is(v.best, A);
});

for (const cls of [20, 3, 2]) {
  test(`class ${cls}: TQ decides; as the near gateway's link fades the selection follows the kernel's rule`, async () => {
    const w = await world();
    await w.driver(0).setMesh({ gwMode: 'client', gwSelClass: cls });
    w.step(2_000);
    assert.equal(await view(w), { a: 255, b: 225, best: A }, 'best statistic: the one-hop gateway');
    w.degradeLink(0, 1, { lossRatio: 0.8, rampMs: 120_000 });
    const trace: { a: number; b: number; best: number }[] = [];
    for (let s = 0; s < 200; s++) {
      w.step(1_000);
      trace.push(await view(w));
    }
    const switched = trace.findIndex((v) => v.best === B);
    if (cls === 2) {
      assert.is(switched, -1, 'class 2 (stable) never leaves a working gateway');
      return;
    }
    assert.ok(switched > 0, `switched to B: ${JSON.stringify(trace.slice(-1))}`);
    // Eligible: B at least `cls` points better (class 3: better at all). Election runs once a
    // second, so allow the switch to come one reading after the first eligible one.
    const eligible = (v: { a: number; b: number }) => (cls === 3 ? v.b > v.a : v.b - v.a >= cls);
    const first = trace.findIndex(eligible);
    assert.ok(first >= 0 && switched >= first && switched <= first + 1, `first eligible ${first}, switched ${switched}`);
    for (const v of trace.slice(0, first)) assert.is(v.best, A);
    if (cls === 20) assert.ok(trace.slice(0, first).some((v) => v.b > v.a), 'B was better but not by 20 for a while');
  });
}

test('a selected gateway that stops serving is replaced; a client without servers selects none', async () => {
  const w = await world();
  await w.driver(0).setMesh({ gwMode: 'client' });
  w.step(2_000);
  assert.is((await view(w)).best, A);
  await w.driver(A).setMesh({ gwMode: 'off' });
  w.step(3_000);
  assert.equal(await view(w), { a: 0, b: 225, best: B });
  await w.driver(B).setMesh({ gwMode: 'client' });
  w.step(3_000);
  assert.equal(await w.driver(0).gateways(), []);
  const sel = w.events().filter((e) => e.kind === 'gateway-selected' && e.nodes[0] === 0).map((e) => e.description);
  assert.equal(sel, ['n1 selected n2/mesh0', 'n1 selected n4/mesh0', 'n1 selected no gateway']);
});

test.run();
