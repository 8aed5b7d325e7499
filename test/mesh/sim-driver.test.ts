// The simulator's MeshDriver against the MeshDriver contract (src/mesh/driver.ts) and the
// batman-adv reference: units (kbit/s, ms, lower-case MACs), defaults, setters read back and
// taking effect, and the same refusals as the real batman-adv driver (src/mesh/batman/from-model.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MeshError, type MeshDriver, type MeshErrorCode, type MeshSettings } from '../../src/mesh/driver.ts';
import { IDEAL_LINK_MODEL, SimulatedMesh, SimulatorError } from '../../src/mesh/simulator/index.ts';
import { idealChainTq } from './batman-iv-reference.ts';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function diamond(): SimulatedMesh {
  return new SimulatedMesh({ seed: 9, topology: 'diamond', linkModel: IDEAL_LINK_MODEL });
}

async function code(p: Promise<unknown>): Promise<MeshErrorCode | 'resolved' | string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof MeshError ? e.code : `not a MeshError: ${String(e)}`;
  }
}

test('defaults are batman-adv defaults (reference "Settings")', async () => {
  const d = diamond().driver(0);
  assert.is(d.kind, 'simulator');
  const s = await d.settings();
  assert.equal(s, {
    aggregatedOgms: true,
    apIsolation: false,
    bonding: false,
    bridgeLoopAvoidance: true,
    distributedArpTable: true,
    fragmentation: true,
    gwMode: 'off',
    gwBandwidthDownKbps: 10_000,
    gwBandwidthUpKbps: 2_000,
    gwSelClass: 20,
    hopPenalty: 30,
    isolationMark: 0,
    isolationMask: 0,
    logLevel: 0,
    multicastForceflood: false,
    multicastFanout: 16,
    origIntervalMs: 1000,
  });
  for (const i of await d.interfaces()) {
    assert.is(i.hopPenalty, 0, 'hard interface hop_penalty 0');
    assert.is(i.elpIntervalMs, undefined, 'ELP is BATMAN_V only');
    assert.is(i.throughputOverrideKbps, undefined);
  }
});

test('tables: lower-case MACs, ifindex/ifname consistent with interfaces(), TQ in 0..255, one best per originator', async () => {
  const world = diamond();
  world.step(90_000);
  for (let n = 0; n < 4; n++) {
    const d = world.driver(n);
    const info = await d.mesh();
    assert.is(info.meshIfname, 'bat0');
    assert.match(info.meshAddress, MAC);
    assert.is(info.meshAddress, world.meshMacOf(n));
    assert.is(info.algo, 'BATMAN_IV');
    assert.match(info.version, /^sim-\d+$/);
    assert.is(info.primaryIfname, 'mesh0');
    const ifs = await d.interfaces();
    const byName = new Map(ifs.map((i) => [i.ifname, i]));
    assert.equal([...byName.keys()], ['mesh0', 'mesh1']);
    assert.is(new Set(ifs.map((i) => i.ifindex)).size, 2);
    assert.ok(ifs.every((i) => Number.isInteger(i.ifindex) && i.ifindex !== info.meshIfindex && MAC.test(i.address) && i.active));
    const origs = await d.originators();
    assert.ok(origs.length > 0);
    const best = new Map<string, number>();
    for (const o of origs) {
      assert.match(o.originator, MAC);
      assert.match(o.nextHop, MAC);
      assert.is(byName.get(o.hardIfname)?.ifindex, o.hardIfindex);
      assert.ok(Number.isInteger(o.tq) && o.tq! >= 0 && o.tq! <= 255, `tq ${o.tq}`);
      assert.ok(Number.isInteger(o.lastSeenMs) && o.lastSeenMs >= 0 && o.lastSeenMs < 2_000, `lastSeen ${o.lastSeenMs}`);
      assert.is(o.throughputKbps, undefined, 'no throughput on BATMAN_IV');
      assert.ok(!ifs.some((i) => i.address === o.originator), 'a node is not its own originator');
      best.set(o.originator, (best.get(o.originator) ?? 0) + (o.best ? 1 : 0));
    }
    assert.ok([...best.values()].every((c) => c === 1), 'exactly one best router per originator');
    for (const nb of await d.neighbours()) {
      assert.match(nb.neighbour, MAC);
      assert.is(byName.get(nb.hardIfname)?.ifindex, nb.hardIfindex);
      assert.is(nb.throughputKbps, undefined);
    }
  }
});

test('lastSeenMs counts milliseconds of virtual time', async () => {
  const world = diamond();
  world.step(60_000);
  world.killLink(0, 1);
  world.step(5_000);
  const nb = (await world.driver(0).neighbours()).filter((x) => world.nodeOfMac(x.neighbour) === 1);
  assert.ok(nb.length === 2);
  // Last heard at most one OGM interval (1000 ms + 20 ms jitter) before the kill.
  for (const x of nb) assert.ok(x.lastSeenMs >= 5_000 && x.lastSeenMs <= 6_020, `${x.lastSeenMs} ms`);
});

test('gateways in kbit/s: a server announces its bandwidth, the client lists it and selects it', async () => {
  const world = diamond();
  assert.equal(await world.driver(0).gateways(), []);
  const server = await world.driver(3).setMesh({ gwMode: 'server', gwBandwidthDownKbps: 50_000, gwBandwidthUpKbps: 5_000 });
  assert.equal([server.gwMode, server.gwBandwidthDownKbps, server.gwBandwidthUpKbps], ['server', 50_000, 5_000]);
  assert.is((await world.driver(0).setMesh({ gwMode: 'client' })).gwMode, 'client');
  world.step(90_000);
  const gws = await world.driver(0).gateways();
  assert.is(gws.length, 1);
  const g = gws[0]!;
  const route = (await world.driver(0).originators()).find((o) => o.best && o.originator === g.originator)!;
  assert.is(g.originator, world.macOf(3, 'mesh0'), 'the gateway is the server node primary MAC');
  assert.equal([g.bandwidthDownKbps, g.bandwidthUpKbps, g.best], [50_000, 5_000, true]);
  assert.is(g.router, route.nextHop);
  assert.is(g.tq, route.tq);
  assert.is(g.tq, idealChainTq(2, 30, 2));
  assert.ok(world.events().some((e) => e.kind === 'gateway-selected' && e.nodes[0] === 0 && e.nodes[1] === 3));
  // The server stops serving: its next OGM carries no gateway announcement.
  await world.driver(3).setMesh({ gwMode: 'off' });
  world.step(3_000);
  assert.equal(await world.driver(0).gateways(), []);
});

test('setters read back and take effect: hop_penalty, orig_interval, hard-interface hop_penalty', async () => {
  const world = diamond();
  for (let n = 0; n < 4; n++) assert.is((await world.driver(n).setMesh({ hopPenalty: 15 })).hopPenalty, 15);
  world.step(90_000);
  const toN4 = (await world.driver(0).originators()).find((o) => o.best && o.originator === world.macOf(3, 'mesh0'))!;
  assert.is(toN4.tq, idealChainTq(2, 15, 2), 'two hops at hop_penalty 15');
  // orig_interval: n1 now sends every 500 ms; n2 hears it that often.
  assert.is((await world.driver(0).setMesh({ origIntervalMs: 500 })).origIntervalMs, 500);
  assert.is((await world.driver(0).settings()).origIntervalMs, 500);
  world.step(2_000);
  const d1 = world.driver(1);
  let longest = 0;
  for (let i = 0; i < 400; i++) {
    world.step(25);
    const o = (await d1.originators()).find((x) => x.best && x.originator === world.macOf(0, 'mesh0'))!;
    longest = Math.max(longest, o.lastSeenMs);
  }
  assert.ok(longest >= 450 && longest <= 520, `longest gap ${longest} ms at orig_interval 500`);
  const hi = await world.driver(0).setHardIf('mesh1', { hopPenalty: 20 });
  assert.equal([hi.ifname, hi.hopPenalty], ['mesh1', 20]);
  assert.is((await world.driver(0).interfaces()).find((i) => i.ifname === 'mesh1')!.hopPenalty, 20);
  assert.is((await world.driver(0).interfaces()).find((i) => i.ifname === 'mesh0')!.hopPenalty, 0);
  assert.is((await world.driver(1).interfaces()).find((i) => i.ifname === 'mesh1')!.hopPenalty, 0, 'per node');
});

test('kernel read-back semantics: values batman-adv drops or masks', async () => {
  const d = diamond().driver(0);
  // BATMAN_IV's gw_sel_class is a TQ difference: above 255 the kernel keeps the old value.
  assert.is((await d.setMesh({ gwSelClass: 300 })).gwSelClass, 20);
  assert.is((await d.setMesh({ gwSelClass: 3 })).gwSelClass, 3);
  // log_level is masked to BATADV_DBG_ALL.
  assert.is((await d.setMesh({ logLevel: 0x1ff })).logLevel, 0xff);
  const s = await d.setMesh({ bonding: true, fragmentation: false, multicastFanout: 4, isolationMark: 7, isolationMask: 0xff });
  assert.equal([s.bonding, s.fragmentation, s.multicastFanout, s.isolationMark, s.isolationMask], [true, false, 4, 7, 0xff]);
  assert.is((await d.setMesh({ origIntervalMs: 40 })).origIntervalMs, 40, 'the smallest interval batman-adv keeps');
});

test('bad input is a MeshError INVALID (as the real driver) and writes nothing', async () => {
  const world = diamond();
  const d = world.driver(0);
  const before = await d.settings();
  const bad: unknown[] = [
    { hopPenalty: 256 },
    { hopPenalty: -1 },
    { hopPenalty: 1.5 },
    { gwMode: 'on' },
    { gwMode: 2 },
    { gwBandwidthDownKbps: 10_050 }, // batman-adv's unit is 100 kbit/s
    { gwBandwidthUpKbps: -100 },
    { gwBandwidthDownKbps: Number.NaN },
    { origIntervalMs: 10 }, // below 2 * jitter
    { origIntervalMs: 1000.5 },
    { bonding: 'yes' },
    { gwSelClass: 0 },
    { nonsense: 1 },
    {},
    null,
    [],
    'hopPenalty=10',
    { hopPenalty: 10, gwMode: 'bogus' }, // all or nothing
  ];
  for (const b of bad) assert.is(await code(d.setMesh(b as Partial<MeshSettings>)), 'INVALID', JSON.stringify(b));
  assert.equal(await d.settings(), before);
  const hardBad: unknown[] = [{ hopPenalty: 300 }, { throughputOverrideKbps: 150 }, { elpIntervalMs: 0 }, { elpIntervalMs: 'fast' }, {}, { bogus: 1 }, null];
  for (const b of hardBad) assert.is(await code(d.setHardIf('mesh0', b as never)), 'INVALID', JSON.stringify(b));
  assert.is(await code(d.setHardIf('wlan9', { hopPenalty: 1 })), 'NO_DEVICE');
  assert.is((await d.interfaces()).find((i) => i.ifname === 'mesh0')!.hopPenalty, 0);
});

test('onSettingsChanged: every SET_* is multicast with the full settings, per node, until unsubscribed', async () => {
  const world = diamond();
  const d0 = world.driver(0);
  const seen0: MeshSettings[] = [];
  const seen1: MeshSettings[] = [];
  const off = d0.onSettingsChanged((s) => seen0.push(s));
  world.driver(1).onSettingsChanged((s) => seen1.push(s));
  await d0.setMesh({ hopPenalty: 42 });
  await d0.setHardIf('mesh0', { hopPenalty: 5 });
  await new Promise((r) => setImmediate(r));
  assert.equal(seen0.map((s) => s.hopPenalty), [42, 42]);
  assert.is(seen1.length, 0, 'another node hears nothing');
  off();
  await d0.setMesh({ hopPenalty: 43 });
  await new Promise((r) => setImmediate(r));
  assert.is(seen0.length, 2);
});

test('errors: no active primary interface is NO_PRIMARY, a closed driver is TRANSPORT', async () => {
  const world = diamond();
  world.step(10_000);
  const d: MeshDriver = world.driver(2);
  world.setInterfaceUp(2, 'mesh0', false);
  world.setInterfaceUp(2, 'mesh1', false);
  for (const call of [d.originators(), d.neighbours(), d.gateways()]) assert.is(await code(call), 'NO_PRIMARY');
  assert.is((await d.mesh()).primaryIfname, undefined);
  assert.ok((await d.interfaces()).every((i) => !i.active));
  world.setInterfaceUp(2, 'mesh1', true);
  assert.is((await d.mesh()).primaryIfname, 'mesh1');
  assert.ok(Array.isArray(await d.originators()));
  const heard: MeshSettings[] = [];
  d.onSettingsChanged((s) => heard.push(s));
  await d.close();
  for (const call of [d.mesh(), d.settings(), d.originators(), d.setMesh({ hopPenalty: 1 })]) assert.is(await code(call), 'TRANSPORT');
  await world.driver(2).setMesh({ hopPenalty: 50 });
  await new Promise((r) => setImmediate(r));
  assert.is(heard.length, 0, 'closing unsubscribes');
});

test('BATMAN_V is not simulated: asking for it is a typed error, not a silent BATMAN_IV', () => {
  assert.throws(
    () => new SimulatedMesh({ topology: 'chain', nodes: 2, algo: 'BATMAN_V' }),
    (e: unknown) => e instanceof SimulatorError && e.code === 'INVALID' && /BATMAN_V/.test(e.message),
  );
});

test.run();
