// Inside the VM: batman-adv over real mac80211 radios (mac80211_hwsim, Debian's kernel module),
// each radio in its own namespace as an open 802.11s mesh point with forwarding off (an
// OpenWrt mesh's usual layout), and the agent's nl80211 station reader (src/netlink/
// nl80211-client.ts) through the netlink bridge. First on hwsim's in-kernel medium, which delivers
// every frame between radios on one channel: the stations are the other radios, unicast shows in
// tx packets, the signal is a plausible dBm, and when a neighbour's radio is gone the frames sent
// to it fail — the per-neighbour sign of a dead Wi-Fi link that the kernel gives before any OGM is
// missed. Then through the test bed's own medium (lib/hwsim-medium.ts): a lossy link's retries and
// signal, and failures once out of range, as mac80211 counts them.
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openBridge, type BridgeTransport } from '../../src/netlink/bridge-transport.ts';
import { Nl80211Client, type StationStats } from '../../src/netlink/nl80211-client.ts';
import { HwsimMedium } from './lib/hwsim-medium.ts';
import { inNetns } from './lib/mesh.ts';

const RADIOS = 3;
const log = (s: string) => process.stdout.write(`wifi-guest: ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sh = (...argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Radio { netns: string; ifname: string; ifindex: number; mac: string; ip: string }

/** Loads hwsim with RADIOS radios and gives each its own namespace, mesh point and bat0. */
function buildWifiMesh(): Radio[] {
  sh('modprobe', 'mac80211_hwsim', `radios=${RADIOS}`);
  sh('modprobe', 'batman-adv');
  const phys = readdirSync('/sys/class/ieee80211').sort();
  assert.ok(phys.length >= RADIOS, `hwsim made ${phys.length} radios`);
  return phys.slice(0, RADIOS).map((phy, i) => {
    const ifname = readdirSync(`/sys/class/ieee80211/${phy}/device/net`)[0]!;
    const mac = readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim();
    const netns = `w${i + 1}`;
    const ip = `10.77.0.${i + 1}`;
    sh('ip', 'netns', 'add', netns);
    sh('iw', 'phy', phy, 'set', 'netns', 'name', netns);
    const run = (...argv: string[]) => inNetns(netns, ...argv);
    run('iw', 'dev', ifname, 'set', 'type', 'mp');
    run('ip', 'link', 'set', ifname, 'up');
    // NOHT: with HT, minstrel_ht aggregates the pings, and mac80211 counts no retries for
    // aggregated frames whose status the medium reports frame by frame.
    run('iw', 'dev', ifname, 'mesh', 'join', 'x0mesh', 'freq', '2412', 'NOHT');
    // batman-adv does the routing: 802.11s's own forwarding off, as on OpenWrt's batman meshes.
    run('iw', 'dev', ifname, 'set', 'mesh_param', 'mesh_fwding', '0');
    run('ip', 'link', 'add', 'bat0', 'type', 'batadv');
    run('ip', 'link', 'set', ifname, 'master', 'bat0');
    run('ip', 'link', 'set', 'bat0', 'up');
    run('ip', 'addr', 'add', `${ip}/24`, 'dev', 'bat0');
    // Its index in its new namespace (sysfs here still shows the root namespace's view).
    const ifindex = Number(/^(\d+):/.exec(run('ip', '-o', 'link', 'show', 'dev', ifname))?.[1]);
    return { netns, ifname, ifindex, mac, ip };
  });
}

function stationsOf(client: Nl80211Client, r: Radio): Promise<StationStats[]> {
  return client.stations(r.ifindex);
}

let radios: Radio[] = [];
let bridge: BridgeTransport | undefined;
let client: Nl80211Client | undefined;
let medium: HwsimMedium | undefined;

/**
 * Pings that may well go unanswered (a dying link). Not synchronous: the medium runs in this
 * process, and a blocked event loop would hold every frame.
 */
async function pingQuietly(from: Radio, ip: string, count: number): Promise<void> {
  await new Promise((resolve) => execFile('nsenter', [`--net=/run/netns/${from.netns}`, 'ping', '-c', String(count), '-i', '0.1', '-W', '1', '-q', ip], resolve));
}

test.before(async () => {
  radios = buildWifiMesh();
  log(`radios: ${radios.map((r) => `${r.netns}/${r.ifname} ${r.mac}`).join(', ')}`);
  bridge = await openBridge({ protocol: 'generic', families: ['nl80211'], netns: radios[0]!.netns, ...(process.env.X0TTA6BL4_NLBRIDGE ? { bridgePath: process.env.X0TTA6BL4_NLBRIDGE } : {}) });
  client = await Nl80211Client.open(bridge, { timeoutMs: 20_000, portId: () => bridge!.ready.portId });
});

test.after(async () => {
  await medium?.close();
  client?.close();
  await bridge?.close();
});

test('the stations of a radio are the other radios, with unicast counted and a plausible signal', async () => {
  const [w1, w2, w3] = radios as [Radio, Radio, Radio];
  // Peering (open mesh) and batman-adv's first OGMs take a few seconds under TCG.
  let ok = false;
  for (let i = 0; i < 30 && !ok; i++) {
    await sleep(1000);
    try {
      inNetns(w1.netns, 'ping', '-c', '1', '-W', '1', w2.ip);
      ok = true;
    } catch { /* not yet */ }
  }
  assert.ok(ok, 'w1 reaches w2 over bat0 on the radios');
  inNetns(w1.netns, 'ping', '-c', '20', '-i', '0.05', '-q', w2.ip);
  const stations = await stationsOf(client!, w1);
  log(`w1's stations: ${JSON.stringify(stations)}`);
  const macs = stations.map((s) => s.mac).sort();
  assert.equal(macs, [w2.mac, w3.mac].sort(), 'the other two radios, by their MACs');
  const s2 = stations.find((s) => s.mac === w2.mac)!;
  const s3 = stations.find((s) => s.mac === w3.mac)!;
  assert.ok(s2.txPackets >= 20, `the 20 pings went to w2 as unicast (tx ${s2.txPackets})`);
  assert.ok(s2.txPackets > s3.txPackets, `more unicast to w2 than to w3 (${s2.txPackets} vs ${s3.txPackets})`);
  assert.ok(s2.signalDbm !== null && s2.signalDbm < 0 && s2.signalDbm > -100, `signal ${s2.signalDbm} dBm`);
  assert.ok(s2.inactiveMs < 5000, `w2 heard lately (inactive ${s2.inactiveMs} ms)`);
  assert.is(s2.txFailed ?? 0, 0, 'nothing failed on the perfect medium');
});

test('a neighbour whose radio is gone: the frames sent to it fail, and it goes inactive', async () => {
  const [w1, , w3] = radios as [Radio, Radio, Radio];
  inNetns(w1.netns, 'ping', '-c', '3', '-i', '0.2', '-q', w3.ip);
  const before = (await stationsOf(client!, w1)).find((s) => s.mac === w3.mac)!;
  inNetns(w3.netns, 'ip', 'link', 'set', w3.ifname, 'down');
  // batman-adv keeps w3 as a neighbour for seconds: its unicast still goes to w3's MAC, unacked.
  await pingQuietly(w1, w3.ip, 10);
  const after = (await stationsOf(client!, w1)).find((s) => s.mac === w3.mac);
  log(`w3 before ${JSON.stringify(before)}; after its radio went down ${JSON.stringify(after)}`);
  assert.ok(after, 'w3 is still a station (its peer link times out later)');
  assert.ok(after!.txFailed !== null && after!.txFailed > (before.txFailed ?? 0), `frames to w3 failed (${before.txFailed} -> ${after!.txFailed})`);
  assert.ok(after!.inactiveMs >= 1000, `w3 inactive for ${after!.inactiveMs} ms`);
});

test('through the test-bed medium (hwsim-medium.ts): a lossy link retries at its signal, an out-of-range one fails', async () => {
  const [w1, w2] = radios as [Radio, Radio, Radio];
  medium = await HwsimMedium.start(radios.map((r) => r.mac));
  medium.link(w1.mac, w2.mac, { loss: 0.3, signalDbm: -78 });
  const s0 = (await stationsOf(client!, w1)).find((s) => s.mac === w2.mac)!;
  await pingQuietly(w1, w2.ip, 30);
  const s1 = (await stationsOf(client!, w1)).find((s) => s.mac === w2.mac)!;
  log(`medium ${JSON.stringify(medium.stats)}; w2 at 30 % loss: ${JSON.stringify(s0)} -> ${JSON.stringify(s1)}`);
  assert.ok(medium.stats.frames > 30, `the medium carried the frames (${medium.stats.frames})`);
  assert.ok(s1.txPackets - s0.txPackets >= 20, `unicast to w2 went on (${s1.txPackets - s0.txPackets} packets)`);
  assert.ok((s1.txRetries ?? 0) - (s0.txRetries ?? 0) >= 3, `a 30 %-loss link retries (${s0.txRetries} -> ${s1.txRetries})`);
  assert.ok(s1.signalDbm !== null && s1.signalDbm <= -70 && s1.signalDbm >= -86, `the medium's signal, -78 dBm, is what mac80211 reports (${s1.signalDbm})`);
  medium.link(w1.mac, w2.mac, { loss: 1, signalDbm: -100 });
  await pingQuietly(w1, w2.ip, 5);
  const s2 = (await stationsOf(client!, w1)).find((s) => s.mac === w2.mac);
  log(`w2 out of range: ${JSON.stringify(s2)}`);
  assert.ok(s2 && (s2.txFailed ?? 0) > (s1.txFailed ?? 0), `frames to w2 fail once it is out of range (${s1.txFailed} -> ${s2?.txFailed})`);
});

test.run();
