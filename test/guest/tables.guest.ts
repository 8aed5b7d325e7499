// Inside the VM: on the live mesh the runner built, every table our driver reads equals what
// batctl (the independent oracle, same kernel, same moment) prints: originators, neighbours,
// gateways, hard interfaces, mesh info and settings. Routes are live, so each comparison
// reads ours, then batctl, then ours again: batctl's TQ must lie between our two reads (±5),
// and a set that changed in between is compared again (up to 3 times; a real disagreement
// persists). Also checks the tables against the topology itself, so that two agreeing but
// empty tables cannot pass.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BatmanDriver } from '../../src/mesh/batman/batman-driver.ts';
import { bandwidth } from '../../src/mesh/batman/batctl-tables.ts';
import type { Gateway, Neighbour, Originator } from '../../src/mesh/driver.ts';
import { parseGateways, parseInterfaces, parseNeighbours, parseOriginators } from './lib/batctl-parse.ts';
import { batctl, loadMesh, openNode, type MeshNodeInfo } from './lib/mesh.ts';

const mesh = loadMesh();
const TQ_TOLERANCE = 5;
/** $X0VM_TABLES limits the tables compared (e.g. "originators,neighbours" on a big mesh, to keep the VM run short). */
const TABLES = new Set((process.env.X0VM_TABLES ?? 'originators,neighbours,gateways,interfaces,settings').split(','));
const tableTest = (table: string, name: string, fn: () => Promise<void>) => {
  if (TABLES.has(table)) test(name, fn);
};
const drivers = new Map<string, BatmanDriver>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async () => {
  for (const n of mesh.nodes) drivers.set(n.name, await openNode(n));
});
test.after(async () => {
  await Promise.allSettled([...drivers.values()].map((d) => d.close()));
});

/** Runs `check` (which returns disagreements) until it returns none, at most 3 times. */
async function agree(what: string, check: () => Promise<string[]>): Promise<void> {
  let problems: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    problems = await check();
    if (problems.length === 0) return;
    await sleep(1000);
  }
  assert.unreachable(`${what}: ours and batctl disagree:\n  ${problems.join('\n  ')}`);
}

function sameKeys(what: string, ours: Iterable<string>, theirs: Iterable<string>): string[] {
  const a = [...ours].sort();
  const b = [...theirs].sort();
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${what}: ours ${JSON.stringify(a)} batctl ${JSON.stringify(b)}`];
}

/** batctl's Mbit/s with one decimal, truncated, from our kbit/s. */
const asBatctlMbit = (kbps: number) => Math.floor(kbps / 100) / 10;

function between(what: string, v: number, a: number | undefined, b: number | undefined, tol: number): string[] {
  if (a === undefined || b === undefined) return [`${what}: missing in our reads`];
  return v >= Math.min(a, b) - tol && v <= Math.max(a, b) + tol ? [] : [`${what}: batctl ${v} not within ours ${a}..${b} ±${tol}`];
}

const origKey = (o: { originator: string; nextHop: string; hardIfname?: string; ifname?: string }) => `${o.originator} via ${o.nextHop} [${o.hardIfname ?? o.ifname}]`;

for (const node of mesh.nodes) {
  tableTest('originators', `${node.name}: originators equal batctl o -H (${mesh.algo})`, async () => {
    const d = drivers.get(node.name)!;
    await agree(`${node.name} originators`, async () => {
      const before = await d.originators();
      const theirs = parseOriginators(batctl(node.netns, 'originators', '-H'));
      const after = await d.originators();
      const p: string[] = [];
      const keysBefore = before.map(origKey);
      const keysAfter = after.map(origKey);
      const theirKeys = theirs.map(origKey);
      const set = sameKeys('rows', keysBefore, theirKeys).length === 0 ? before : sameKeys('rows', keysAfter, theirKeys).length === 0 ? after : undefined;
      if (!set) return sameKeys('rows', keysBefore, theirKeys);
      const byKey = (rows: Originator[]) => new Map(rows.map((r) => [origKey(r), r]));
      const b = byKey(before);
      const a = byKey(after);
      const chosen = byKey(set);
      for (const t of theirs) {
        const k = origKey(t);
        if (chosen.get(k)!.best !== t.best) p.push(`${k}: best ours ${chosen.get(k)!.best} batctl ${t.best}`);
        if (mesh.algo === 'BATMAN_IV') {
          if (t.tq === undefined) p.push(`${k}: batctl printed no TQ on BATMAN_IV`);
          else p.push(...between(`${k} TQ`, t.tq, b.get(k)?.tq, a.get(k)?.tq, TQ_TOLERANCE));
          if (chosen.get(k)!.throughputKbps !== undefined) p.push(`${k}: throughput on BATMAN_IV`);
        } else {
          const x = b.get(k)?.throughputKbps;
          const y = a.get(k)?.throughputKbps;
          p.push(...between(`${k} throughput Mbit/s`, t.throughputMbit ?? -1, x === undefined ? x : asBatctlMbit(x), y === undefined ? y : asBatctlMbit(y), 0.1));
        }
        // last-seen restarts with every OGM, so only its scale is comparable (catches a unit or field mix-up).
        if (Math.abs(chosen.get(k)!.lastSeenMs - t.lastSeenMs) > 3 * mesh.origIntervalMs + 1000) p.push(`${k}: last-seen ours ${chosen.get(k)!.lastSeenMs} ms batctl ${t.lastSeenMs} ms`);
      }
      return p;
    });
    // The topology itself: one best route to every other node, through an interface of ours.
    const rows = await d.originators();
    for (const other of mesh.nodes) {
      if (other === node) continue;
      const best = rows.filter((r) => r.originator === other.origAddress && r.best);
      assert.is(best.length, 1, `${node.name}: one best route to ${other.name} (${other.origAddress})`);
      assert.ok(node.ifaces.some((i) => i.ifname === best[0]!.hardIfname && i.peerMac === best[0]!.nextHop), `${node.name}: next hop to ${other.name} is a direct peer`);
    }
    // BATMAN_IV also lists a neighbour's secondary interfaces (their own OGMs): any interface MAC of the mesh.
    const macs = new Set(mesh.nodes.flatMap((n) => n.ifaces.map((i) => i.mac)));
    assert.ok(rows.every((r) => macs.has(r.originator) && macs.has(r.nextHop)), 'no unknown originators or next hops');
  });

  tableTest('neighbours', `${node.name}: neighbours equal batctl n -H and the topology`, async () => {
    const d = drivers.get(node.name)!;
    const key = (n: { neighbour: string; hardIfname?: string; ifname?: string }) => `${n.neighbour} [${n.hardIfname ?? n.ifname}]`;
    await agree(`${node.name} neighbours`, async () => {
      const before = await d.neighbours();
      const theirs = parseNeighbours(batctl(node.netns, 'neighbors', '-H'));
      const after = await d.neighbours();
      const p = sameKeys('rows', before.map(key), theirs.map(key));
      if (p.length) return p;
      const a = new Map(after.map((n: Neighbour) => [key(n), n]));
      for (const t of theirs) {
        const ours = before.find((n) => key(n) === key(t))!;
        if (mesh.algo === 'BATMAN_V') {
          const x = ours.throughputKbps;
          const y = a.get(key(t))?.throughputKbps;
          p.push(...between(`${key(t)} throughput`, t.throughputMbit ?? -1, x === undefined ? x : asBatctlMbit(x), y === undefined ? y : asBatctlMbit(y), 0.1));
        } else if (ours.throughputKbps !== undefined || t.throughputMbit !== undefined) p.push(`${key(t)}: throughput on BATMAN_IV`);
        if (Math.abs(ours.lastSeenMs - t.lastSeenMs) > 3000) p.push(`${key(t)}: last-seen ours ${ours.lastSeenMs} batctl ${t.lastSeenMs}`);
      }
      return p;
    });
    const rows = await d.neighbours();
    assert.equal(rows.map(key).sort(), node.ifaces.map((i) => `${i.peerMac} [${i.ifname}]`).sort(), 'one neighbour per veth peer');
  });

  tableTest('gateways', `${node.name}: gateways equal batctl gwl -H`, async () => {
    const d = drivers.get(node.name)!;
    const key = (g: { originator: string; router: string; hardIfname?: string; ifname?: string }) => `${g.originator} via ${g.router} [${g.hardIfname ?? g.ifname}]`;
    await agree(`${node.name} gateways`, async () => {
      const before = await d.gateways();
      const theirs = parseGateways(batctl(node.netns, 'gateways', '-H'));
      const after = await d.gateways();
      const pb = sameKeys('rows', before.map(key), theirs.map(key));
      const pa = sameKeys('rows', after.map(key), theirs.map(key));
      if (pb.length && pa.length) return pb;
      const chosen = new Map((pb.length ? after : before).map((g: Gateway) => [key(g), g]));
      const b = new Map(before.map((g) => [key(g), g]));
      const a = new Map(after.map((g) => [key(g), g]));
      const p: string[] = [];
      for (const t of theirs) {
        const ours = chosen.get(key(t))!;
        if (ours.best !== t.best) p.push(`${key(t)}: best ours ${ours.best} batctl ${t.best}`);
        if (bandwidth(ours.bandwidthDownKbps, ours.bandwidthUpKbps) !== t.bandwidth) p.push(`${key(t)}: bandwidth ours ${bandwidth(ours.bandwidthDownKbps, ours.bandwidthUpKbps)} batctl ${t.bandwidth}`);
        if (mesh.algo === 'BATMAN_IV') p.push(...between(`${key(t)} TQ`, t.tq ?? -1, b.get(key(t))?.tq, a.get(key(t))?.tq, TQ_TOLERANCE));
        else {
          const x = b.get(key(t))?.throughputKbps;
          const y = a.get(key(t))?.throughputKbps;
          p.push(...between(`${key(t)} throughput`, t.throughputMbit ?? -1, x === undefined ? x : asBatctlMbit(x), y === undefined ? y : asBatctlMbit(y), 0.1));
        }
      }
      return p;
    });
    // Gateway clients see every server; a server lists no gateway when it is the only one.
    const servers = mesh.nodes.filter((n) => n.gateway === 'server' && n !== node).map((n) => n.origAddress);
    if (node.gateway === 'client') assert.equal([...new Set((await d.gateways()).map((g) => g.originator))].sort(), servers.sort(), `${node.name}: gateways = the servers`);
  });

  tableTest('interfaces', `${node.name}: interfaces equal batctl if and the topology`, async () => {
    const d = drivers.get(node.name)!;
    const ours = (await d.interfaces()).map((i) => ({ ifname: i.ifname, active: i.active }));
    const theirs = parseInterfaces(batctl(node.netns, 'interface'));
    const sort = (l: Array<{ ifname: string }>) => [...l].sort((x, y) => x.ifname.localeCompare(y.ifname));
    assert.equal(sort(ours), sort(theirs));
    assert.equal(sort(ours), sort(node.ifaces.map((i) => ({ ifname: i.ifname, active: true }))));
    const addrs = new Map((await d.interfaces()).map((i) => [i.ifname, i.address]));
    for (const i of node.ifaces) assert.is(addrs.get(i.ifname), i.mac, `${i.ifname} address`);
  });

  tableTest('settings', `${node.name}: mesh info and settings equal batctl mj and the settings commands`, async () => {
    const d = drivers.get(node.name)!;
    const mj = JSON.parse(batctl(node.netns, 'mj')) as Record<string, unknown>;
    const info = await d.mesh();
    assert.is(info.version, mj.version);
    assert.is(info.algo, mj.algo_name);
    assert.is(info.algo, mesh.algo);
    assert.is(info.meshIfindex, mj.mesh_ifindex);
    assert.is(info.meshIfname, mj.mesh_ifname);
    assert.is(info.meshAddress, mj.mesh_address);
    assert.is(info.primaryIfname, mj.hard_ifname);
    assert.is(info.primaryIfname, node.ifaces[0]!.ifname);
    assertSettingsEqualBatctl(node, await d.settings(), mj);
  });
}

/** Our MeshSettings against `batctl mj` and the per-setting commands. */
function assertSettingsEqualBatctl(node: MeshNodeInfo, s: Awaited<ReturnType<BatmanDriver['settings']>>, mj: Record<string, unknown>): void {
  assert.equal(
    {
      aggregated_ogms_enabled: s.aggregatedOgms,
      ap_isolation_enabled: s.apIsolation,
      bonding_enabled: s.bonding,
      bridge_loop_avoidance_enabled: s.bridgeLoopAvoidance,
      distributed_arp_table_enabled: s.distributedArpTable,
      fragmentation_enabled: s.fragmentation,
      gw_mode: s.gwMode,
      gw_bandwidth_down: s.gwBandwidthDownKbps / 100,
      gw_bandwidth_up: s.gwBandwidthUpKbps / 100,
      gw_sel_class: s.gwSelClass,
      hop_penalty: s.hopPenalty,
      isolation_mark: s.isolationMark,
      isolation_mask: s.isolationMask,
      multicast_forceflood_enabled: s.multicastForceflood,
      multicast_fanout: s.multicastFanout,
      orig_interval: s.origIntervalMs,
    },
    Object.fromEntries(
      ['aggregated_ogms_enabled', 'ap_isolation_enabled', 'bonding_enabled', 'bridge_loop_avoidance_enabled', 'distributed_arp_table_enabled', 'fragmentation_enabled', 'gw_mode', 'gw_bandwidth_down', 'gw_bandwidth_up', 'gw_sel_class', 'hop_penalty', 'isolation_mark', 'isolation_mask', 'multicast_forceflood_enabled', 'multicast_fanout', 'orig_interval'].map((k) => [k, mj[k]]),
    ),
  );
  const onOff = (b: boolean) => (b ? 'enabled' : 'disabled');
  const cmd = (...a: string[]) => batctl(node.netns, ...a).trim();
  assert.is(cmd('aggregation'), onOff(s.aggregatedOgms));
  assert.is(cmd('bonding'), onOff(s.bonding));
  assert.is(cmd('bridge_loop_avoidance'), onOff(s.bridgeLoopAvoidance));
  assert.is(cmd('fragmentation'), onOff(s.fragmentation));
  assert.is(cmd('hop_penalty'), String(s.hopPenalty));
  assert.is(cmd('orig_interval'), String(s.origIntervalMs));
  assert.is(cmd('multicast_fanout'), String(s.multicastFanout));
  const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
  assert.is(cmd('isolation_mark'), `${hex(s.isolationMark)}/${hex(s.isolationMask)}`);
  const gw = cmd('gw_mode');
  if (s.gwMode === 'server') assert.is(gw, `server (announced bw: ${bandwidth(s.gwBandwidthDownKbps, s.gwBandwidthUpKbps)})`);
  else assert.ok(gw.startsWith(s.gwMode), `gw_mode: ${gw} vs ${s.gwMode}`);
}

test.run();
