// The batman-adv MeshDriver over a stand-in kernel (fake-batadv-kernel.ts: the host kernel has
// no batman-adv; the real kernel is checked in test/guest/batadv-*.guest.ts). Checks unit
// normalisation for BATMAN_IV and BATMAN_V, settings write + read-back + config events, and
// that every failure is a MeshError with the right code, never an empty table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatadvClient } from '../../src/netlink/batadv-client.ts';
import { NetlinkRequester } from '../../src/netlink/requester.ts';
import { RtnetlinkClient } from '../../src/netlink/rtnetlink.ts';
import { BatmanDriver } from '../../src/mesh/batman/batman-driver.ts';
import { MeshError, type MeshErrorCode, type MeshSettings } from '../../src/mesh/driver.ts';
import { FakeBatadvKernel, CONFIG_GROUP } from './fake-batadv-kernel.ts';

async function open(kernel = new FakeBatadvKernel(), meshIfname = 'bat0') {
  const batadv = await BatadvClient.open(kernel.genl, { timeoutMs: 500 });
  const links = new RtnetlinkClient(new NetlinkRequester(kernel.route, { timeoutMs: 500 }));
  return { kernel, driver: new BatmanDriver({ meshIfname, batadv, links }) };
}

async function code(p: Promise<unknown>): Promise<MeshErrorCode> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MeshError) return e.code;
    throw e;
  }
  throw new Error('expected a MeshError');
}

test('mesh() and settings(): GET_MESH in the model, gateway bandwidth from 100 kbit/s to kbit/s', async () => {
  const { driver } = await open();
  assert.equal(await driver.mesh(), {
    meshIfname: 'bat0',
    meshIfindex: 5,
    meshAddress: '02:00:00:00:00:05',
    algo: 'BATMAN_IV',
    version: '2022.3',
    primaryIfname: 'eth0',
  });
  const s = await driver.settings();
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
  await driver.close();
});

test('BATMAN_IV tables: TQ, best flag, interface name filled from the hardif list when the kernel omits it', async () => {
  const kernel = new FakeBatadvKernel();
  kernel.originators = [
    { orig: '02:00:00:00:00:03', neigh: '02:00:00:00:00:0a', ifindex: 2, lastSeen: 120, best: true, metric: 225 },
    { orig: '02:00:00:00:00:03', neigh: '02:00:00:00:00:0b', ifindex: 2, ifname: 'eth0', lastSeen: 900, metric: 180 },
  ];
  kernel.gateways = [{ orig: '02:00:00:00:00:03', router: '02:00:00:00:00:0a', ifname: 'eth0', best: true, down: 500, up: 25, metric: 200 }];
  const { driver } = await open(kernel);
  assert.equal(await driver.originators(), [
    { originator: '02:00:00:00:00:03', nextHop: '02:00:00:00:00:0a', hardIfname: 'eth0', hardIfindex: 2, lastSeenMs: 120, best: true, tq: 225 },
    { originator: '02:00:00:00:00:03', nextHop: '02:00:00:00:00:0b', hardIfname: 'eth0', hardIfindex: 2, lastSeenMs: 900, best: false, tq: 180 },
  ]);
  assert.equal(await driver.gateways(), [
    { originator: '02:00:00:00:00:03', router: '02:00:00:00:00:0a', hardIfname: 'eth0', hardIfindex: 2, best: true, bandwidthDownKbps: 50_000, bandwidthUpKbps: 2_500, tq: 200 },
  ]);
  const ifs = await driver.interfaces();
  assert.equal(ifs, [{ ifname: 'eth0', ifindex: 2, address: '02:00:00:00:00:02', active: true, hopPenalty: 0 }]);
  await driver.close();
});

test('BATMAN_V units: originator/neighbour throughput is kbit/s, gateway throughput is 100 kbit/s', async () => {
  const kernel = new FakeBatadvKernel();
  kernel.algo = 'BATMAN_V';
  kernel.originators = [{ orig: '02:00:00:00:00:03', neigh: '02:00:00:00:00:0a', ifindex: 2, ifname: 'eth0', lastSeen: 40, best: true, metric: 54_300 }];
  kernel.neighbours = [{ neigh: '02:00:00:00:00:0a', ifindex: 2, lastSeen: 10, throughput: 100_000 }];
  kernel.gateways = [{ orig: '02:00:00:00:00:03', router: '02:00:00:00:00:0a', ifname: 'eth0', ifindex: 2, down: 100, up: 20, metric: 543 }];
  kernel.hardifs[0]!.override = 25; // 2.5 Mbit/s
  const { driver } = await open(kernel);
  assert.is((await driver.originators())[0]!.throughputKbps, 54_300);
  assert.equal(await driver.neighbours(), [{ neighbour: '02:00:00:00:00:0a', hardIfname: 'eth0', hardIfindex: 2, lastSeenMs: 10, throughputKbps: 100_000 }]);
  const gw = (await driver.gateways())[0]!;
  assert.equal([gw.throughputKbps, gw.bandwidthDownKbps, gw.bandwidthUpKbps, gw.tq], [54_300, 10_000, 2_000, undefined]);
  assert.equal(await driver.interfaces(), [
    { ifname: 'eth0', ifindex: 2, address: '02:00:00:00:00:02', active: true, hopPenalty: 0, elpIntervalMs: 500, throughputOverrideKbps: 2_500 },
  ]);
  await driver.close();
});

test('setMesh writes batman-adv units, reads back, and the config event reaches onSettingsChanged', async () => {
  const { kernel, driver } = await open();
  const events: MeshSettings[] = [];
  driver.onSettingsChanged((s) => events.push(s));
  const s = await driver.setMesh({ hopPenalty: 60, gwMode: 'server', gwBandwidthDownKbps: 50_000, gwBandwidthUpKbps: 5_000, bonding: true });
  assert.equal([s.hopPenalty, s.gwMode, s.gwBandwidthDownKbps, s.gwBandwidthUpKbps, s.bonding], [60, 'server', 50_000, 5_000, true]);
  const set = kernel.sentGenl.find((r) => r.payload[0] === 15)!;
  assert.ok(set, 'SET_MESH sent');
  assert.is(kernel.settings.get(49), 500, 'GW_BANDWIDTH_DOWN sent in 100 kbit/s');
  assert.is(kernel.settings.get(51), 2, 'GW_MODE server = 2');
  await new Promise((r) => setImmediate(r));
  assert.equal(kernel.genl.joined, [CONFIG_GROUP]);
  assert.is(events.length, 1);
  assert.is(events[0]!.hopPenalty, 60);
  await driver.close();
});

test('setHardIf by name: hop penalty and BATMAN_V knobs, read back', async () => {
  const kernel = new FakeBatadvKernel();
  kernel.algo = 'BATMAN_V';
  const { driver } = await open(kernel);
  const hi = await driver.setHardIf('eth0', { hopPenalty: 15, elpIntervalMs: 250, throughputOverrideKbps: 100_000 });
  assert.equal([hi.hopPenalty, hi.elpIntervalMs, hi.throughputOverrideKbps], [15, 250, 100_000]);
  assert.is(kernel.hardifs[0]!.override, 1000);
  assert.is(await code(driver.setHardIf('wlan9', { hopPenalty: 1 })), 'NO_DEVICE');
  await driver.close();
});

test('bad values are INVALID before anything reaches the kernel', async () => {
  const { kernel, driver } = await open();
  const before = kernel.sentGenl.length;
  assert.is(await code(driver.setMesh({ hopPenalty: 300 })), 'INVALID');
  assert.is(await code(driver.setMesh({ gwBandwidthDownKbps: 10_050 })), 'INVALID');
  assert.is(await code(driver.setMesh({ gwMode: 'on' as never })), 'INVALID');
  assert.is(await code(driver.setMesh({ origIntervalMs: 10 })), 'INVALID');
  assert.is(await code(driver.setMesh({ bonding: 'yes' as never })), 'INVALID');
  assert.is(await code(driver.setMesh({})), 'INVALID');
  assert.is(await code(driver.setMesh({ nonsense: 1 } as never)), 'INVALID');
  assert.is(await code(driver.setHardIf('eth0', { throughputOverrideKbps: 150 })), 'INVALID');
  assert.is(kernel.sentGenl.length, before);
  await driver.close();
});

test('errors: no primary (ENOENT in DONE), no module, no mesh, not batadv, permission', async () => {
  const kernel = new FakeBatadvKernel();
  kernel.primaryActive = false;
  const { driver } = await open(kernel);
  assert.is(await code(driver.originators()), 'NO_PRIMARY');
  assert.is(await code(driver.neighbours()), 'NO_PRIMARY');
  assert.is(await code(driver.gateways()), 'NO_PRIMARY');
  kernel.primaryActive = true;
  kernel.refuse.set(8, 1);
  try {
    await driver.originators();
    assert.unreachable();
  } catch (e) {
    assert.ok(e instanceof MeshError);
    assert.is(e.code, 'PERMISSION');
    assert.is(e.errno, 1);
    assert.match(e.message, /originators of bat0: permission denied/);
  }
  await driver.close();

  const { driver: missing } = await open(new FakeBatadvKernel(), 'bat7');
  assert.is(await code(missing.mesh()), 'NO_MESH');
  await missing.close();
  const { driver: plain } = await open(new FakeBatadvKernel(), 'eth0');
  assert.is(await code(plain.settings()), 'NO_MESH');
  await plain.close();

});

test('no batman-adv module: NO_MODULE per call, and the driver recovers once the module is there', async () => {
  const kernel = new FakeBatadvKernel();
  kernel.moduleLoaded = false;
  const errors: MeshError[] = [];
  const driver = new BatmanDriver({
    meshIfname: 'bat0',
    batadv: () => BatadvClient.open(kernel.genl, { timeoutMs: 500 }),
    links: new RtnetlinkClient(new NetlinkRequester(kernel.route, { timeoutMs: 500 })),
    onBackgroundError: (e) => errors.push(e),
  });
  const events: MeshSettings[] = [];
  driver.onSettingsChanged((s) => events.push(s));
  try {
    await driver.originators();
    assert.unreachable();
  } catch (e) {
    assert.ok(e instanceof MeshError);
    assert.is(e.code, 'NO_MODULE');
    assert.match(e.message, /originators of bat0: batman-adv is not loaded/);
  }
  await new Promise((r) => setImmediate(r));
  assert.ok(errors.length >= 1 && errors.every((e) => e.code === 'NO_MODULE'));
  kernel.moduleLoaded = true; // modprobe batman-adv
  assert.is((await driver.mesh()).algo, 'BATMAN_IV');
  await new Promise((r) => setImmediate(r));
  assert.equal(kernel.genl.joined, [CONFIG_GROUP], 'settings subscription made once the family resolved');
  await driver.setMesh({ hopPenalty: 31 });
  await new Promise((r) => setImmediate(r));
  assert.equal(events.map((e) => e.hopPenalty), [31]);
  await driver.close();
});

test('a re-created mesh interface (new ifindex) is found again after one failure', async () => {
  const { kernel, driver } = await open();
  assert.is((await driver.mesh()).meshIfindex, 5);
  kernel.links.set('bat0', { index: 9, kind: 'batadv' });
  // The fake kernel answers for index 9 with the same attributes; what matters is the retry.
  const info = await driver.settings();
  assert.is(info.hopPenalty, 30);
  const asked = kernel.sentGenl.slice(-1)[0]!;
  assert.is(asked.payload.readUInt32LE(4 + 4), 9, 'last request used the new ifindex');
  await driver.close();
});

test('transport reset mid-request: TRANSPORT, not a hang', async () => {
  const { kernel, driver } = await open();
  await driver.mesh();
  kernel.genl.respond = () => undefined;
  const p = driver.interfaces();
  await new Promise((r) => setTimeout(r, 5));
  kernel.genl.reset(new Error('bridge died'));
  assert.is(await code(p), 'TRANSPORT');
  await driver.close();
  assert.is(await code(driver.mesh()), 'TRANSPORT');
});

test.run();
