// Inside the VM: every mesh and hard-interface setting written through our driver reads back
// through batctl (mj and the per-setting commands), every setting written with batctl reads
// back through our driver, and a batctl write reaches our settings listener through the
// kernel's `config` multicast. Runs on n1 of the step's mesh and puts the defaults back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BatmanDriver } from '../../src/mesh/batman/batman-driver.ts';
import { DEFAULT_MESH_SETTINGS, MeshError, type MeshSettings } from '../../src/mesh/driver.ts';
import { batctl, inNetns, loadMesh, openNode } from './lib/mesh.ts';

const mesh = loadMesh();
const node = mesh.nodes[0]!;
const hardif = node.ifaces[0]!.ifname;
const isV = mesh.algo === 'BATMAN_V';
let d: BatmanDriver;
let initial: MeshSettings;

const mj = () => JSON.parse(batctl(node.netns, 'mj')) as Record<string, unknown>;
const cmd = (...a: string[]) => batctl(node.netns, ...a).trim();
const hardCmd = (...a: string[]) => inNetns(node.netns, 'batctl', 'hardif', hardif, ...a).trim();
const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

test.before(async () => {
  d = await openNode(node);
  initial = await d.settings();
});
test.after(async () => {
  try {
    // Back to how the runner built it, so later scripts in the step see the same mesh.
    await d.setMesh(initial);
    await d.setHardIf(hardif, { hopPenalty: 0, ...(isV ? { elpIntervalMs: 500, throughputOverrideKbps: 0 } : {}) });
  } finally {
    await d.close();
  }
});

/** [our change, what batctl mj must then show, what the batctl command prints]. */
const OURS_TO_BATCTL: Array<[Partial<MeshSettings>, Record<string, unknown>, [string, string]]> = [
  [{ aggregatedOgms: false }, { aggregated_ogms_enabled: false }, ['aggregation', 'disabled']],
  [{ apIsolation: true }, { ap_isolation_enabled: true }, ['ap_isolation', 'enabled']],
  [{ bonding: true }, { bonding_enabled: true }, ['bonding', 'enabled']],
  [{ bridgeLoopAvoidance: true }, { bridge_loop_avoidance_enabled: true }, ['bridge_loop_avoidance', 'enabled']],
  [{ distributedArpTable: false }, { distributed_arp_table_enabled: false }, ['distributed_arp_table', 'disabled']],
  [{ fragmentation: false }, { fragmentation_enabled: false }, ['fragmentation', 'disabled']],
  [{ hopPenalty: 77 }, { hop_penalty: 77 }, ['hop_penalty', '77']],
  [{ isolationMark: 0x10, isolationMask: 0xff }, { isolation_mark: 0x10, isolation_mask: 0xff }, ['isolation_mark', `${hex(0x10)}/${hex(0xff)}`]],
  [{ multicastForceflood: true }, { multicast_forceflood_enabled: true }, ['multicast_forceflood', 'enabled']],
  [{ multicastFanout: 7 }, { multicast_fanout: 7 }, ['multicast_fanout', '7']],
  [{ origIntervalMs: 1500 }, { orig_interval: 1500 }, ['orig_interval', '1500']],
  [
    { gwMode: 'server', gwBandwidthDownKbps: 5000, gwBandwidthUpKbps: 1000 },
    { gw_mode: 'server', gw_bandwidth_down: 50, gw_bandwidth_up: 10 },
    ['gw_mode', 'server (announced bw: 5.0/1.0 MBit)'],
  ],
  [{ gwMode: 'client', gwSelClass: 3 }, { gw_mode: 'client', gw_sel_class: 3 }, ['gw_mode', 'client (selection class: ']],
  [{ gwMode: 'off' }, { gw_mode: 'off' }, ['gw_mode', 'off']],
];

for (const [changes, expectMj, [name, printed]] of OURS_TO_BATCTL) {
  test(`ours -> batctl: ${JSON.stringify(changes)}`, async () => {
    const kept = await d.setMesh(changes);
    for (const [k, v] of Object.entries(changes)) assert.equal(kept[k as keyof MeshSettings], v, `read-back ${k}`);
    const m = mj();
    for (const [k, v] of Object.entries(expectMj)) assert.equal(m[k], v, `batctl mj ${k}`);
    // gw_mode client's class is printed per algorithm; the prefix and mj's number are enough.
    if (printed.endsWith(': ')) assert.ok(cmd(name).startsWith(printed), `batctl ${name}: ${cmd(name)}`);
    else assert.is(cmd(name), printed, `batctl ${name}`);
  });
}

/** [batctl args, what our driver must then read]. */
const BATCTL_TO_OURS: Array<[string[], Partial<MeshSettings>]> = [
  [['aggregation', '1'], { aggregatedOgms: true }],
  [['ap_isolation', '0'], { apIsolation: false }],
  [['bonding', '0'], { bonding: false }],
  [['bridge_loop_avoidance', '0'], { bridgeLoopAvoidance: false }],
  [['distributed_arp_table', '1'], { distributedArpTable: true }],
  [['fragmentation', '1'], { fragmentation: true }],
  [['hop_penalty', '42'], { hopPenalty: 42 }],
  [['isolation_mark', '0x20/0xf0'], { isolationMark: 0x20, isolationMask: 0xf0 }],
  [['multicast_forceflood', '0'], { multicastForceflood: false }],
  [['multicast_fanout', '21'], { multicastFanout: 21 }],
  [['orig_interval', '900'], { origIntervalMs: 900 }],
  [['gw_mode', 'server', '8mbit/3mbit'], { gwMode: 'server', gwBandwidthDownKbps: 8000, gwBandwidthUpKbps: 3000 }],
  // batctl reads BATMAN_V's selection class as a throughput (unitless = kbit/s, kept in 100 kbit/s):
  // give the unit. On BATMAN_IV it is a plain number.
  isV ? [['gw_mode', 'client', '5mbit'], { gwMode: 'client', gwSelClass: 50 }] : [['gw_mode', 'client', '5'], { gwMode: 'client', gwSelClass: 5 }],
  [['gw_mode', 'off'], { gwMode: 'off' }],
];

for (const [args, expected] of BATCTL_TO_OURS) {
  test(`batctl -> ours: ${args.join(' ')}`, async () => {
    batctl(node.netns, ...args);
    const s = await d.settings();
    for (const [k, v] of Object.entries(expected)) assert.equal(s[k as keyof MeshSettings], v, k);
  });
}

test('orig_interval below 40: our driver refuses it; the kernel itself raises it to 40 silently, seen by both', async () => {
  const e = await d.setMesh({ origIntervalMs: 10 }).then(() => undefined, (x: Error) => x);
  assert.ok(e instanceof MeshError && e.code === 'INVALID', `driver: ${e}`);
  // Past our check, straight to the kernel: it keeps 40 and says nothing.
  const b = await d.client();
  const kept = await b.setMesh((await d.mesh()).meshIfindex, { origInterval: 10 });
  assert.is(kept.origInterval, 40);
  assert.is(cmd('orig_interval'), '40');
  await d.setMesh({ origIntervalMs: mesh.origIntervalMs });
});

test('hard interface: ours -> batctl and batctl -> ours', async () => {
  let h = await d.setHardIf(hardif, { hopPenalty: 20 });
  assert.is(h.hopPenalty, 20);
  assert.is(hardCmd('hop_penalty'), '20');
  hardCmd('hop_penalty', '40');
  h = (await d.interfaces()).find((i) => i.ifname === hardif)!;
  assert.is(h.hopPenalty, 40);
  if (!isV) {
    assert.is(h.elpIntervalMs, undefined, 'no BATMAN_V knobs on a BATMAN_IV mesh');
    return;
  }
  h = await d.setHardIf(hardif, { elpIntervalMs: 300, throughputOverrideKbps: 25_000 });
  assert.is(h.elpIntervalMs, 300);
  assert.is(h.throughputOverrideKbps, 25_000);
  assert.is(hardCmd('elp_interval'), '300');
  assert.is(hardCmd('throughput_override'), '25.0 MBit');
  hardCmd('elp_interval', '700');
  hardCmd('throughput_override', '30mbit'); // batctl 2023.0 reads a bare number as kbit/s, despite its help text

  h = (await d.interfaces()).find((i) => i.ifname === hardif)!;
  assert.is(h.elpIntervalMs, 700);
  assert.is(h.throughputOverrideKbps, 30_000);
  assert.is(hardCmd('throughput_override'), '30.0 MBit');
});

test('a batctl write reaches our settings listener through the config multicast group', async () => {
  const seen: MeshSettings[] = [];
  let wake: () => void = () => {};
  const got = new Promise<void>((r) => (wake = r));
  const off = d.onSettingsChanged((s) => {
    seen.push(s);
    if (s.hopPenalty === 61) wake();
  });
  try {
    // The subscription is made in the background: settle it with a read, then write.
    await d.settings();
    await new Promise((r) => setTimeout(r, 500));
    batctl(node.netns, 'hop_penalty', '61');
    await Promise.race([got, new Promise((_, rej) => setTimeout(() => rej(new Error(`no config event with hop_penalty 61; saw ${JSON.stringify(seen.map((s) => s.hopPenalty))}`)), 20_000))]);
    assert.is(seen.at(-1)!.hopPenalty, 61);
  } finally {
    off();
  }
});

test('defaults are batman-adv defaults apart from what the runner set', () => {
  assert.is(initial.hopPenalty, DEFAULT_MESH_SETTINGS.hopPenalty);
  assert.is(initial.bridgeLoopAvoidance, mesh.bla);
  assert.is(initial.origIntervalMs, mesh.origIntervalMs);
});

test.run();
