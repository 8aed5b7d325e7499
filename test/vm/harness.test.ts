// The VM harness's host-side pieces, without a VM: the initramfs archive format, the mesh
// description and the commands that build it, the batctl oracle's parser (on lines batctl
// 2023.0 printed in the VM), and what counts as a passed guest script.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpioNewc } from '../../scripts/vm/cpio.ts';
import { scriptPassed, type ScriptResult } from '../../scripts/vm/job.ts';
import { chain, describeMesh, diamond, linkFaultDevices, meshCommands, triangle, validateTopology } from '../../scripts/vm/topology.ts';
import { parseGateways, parseInterfaces, parseNeighbours, parseOriginators } from '../guest/lib/batctl-parse.ts';

test('cpio newc: cpio itself lists and extracts what we wrote', () => {
  const archive = cpioNewc([
    { path: 'bin', mode: 0o040755 },
    { path: 'bin/x', mode: 0o100755, data: 'hello\n' },
    { path: 'bin/sh', mode: 0o120777, data: 'x' },
    { path: 'odd', mode: 0o100644, data: new Uint8Array([1, 2, 3]) },
  ]);
  assert.is(archive.length % 4, 0);
  const r = spawnSync('cpio', ['-t', '-v'], { input: archive, encoding: 'utf8' });
  if (r.error && process.env.CI !== 'true') return; // no cpio binary on this machine: the VM boot test covers the format
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 4);
  assert.match(lines[0]!, /^d.* bin$/);
  assert.match(lines[1]!, /^-rwxr-xr-x.* 6 .* bin\/x$/);
  assert.match(lines[2]!, /^l.* bin\/sh -> x$/);
  assert.match(lines[3]!, /^-rw-r--r--.* 3 .* odd$/);
});

test('topologies: shapes, MACs, primary interfaces, gateway roles', () => {
  const d = describeMesh(diamond(), { algo: 'BATMAN_V', gatewayServers: [4] });
  assert.is(d.nodes.length, 4);
  assert.equal(d.nodes[0]!.ifaces.map((i) => i.ifname), ['v1-2', 'v1-3']);
  assert.is(d.nodes[0]!.origAddress, '02:00:00:00:01:02');
  assert.equal(d.nodes[3]!.ifaces.map((i) => [i.ifname, i.peer, i.peerMac]), [
    ['v4-2', 'n2', '02:00:00:00:02:04'],
    ['v4-3', 'n3', '02:00:00:00:03:04'],
  ]);
  assert.equal(d.nodes.map((n) => n.gateway), ['client', 'client', 'client', 'server']);
  assert.is(d.bla, false, 'BLA off by default');
  assert.equal(chain(6).links.length, 5);
  assert.equal(triangle().links.length, 3);
  assert.equal(describeMesh(chain(3)).nodes.map((n) => n.gateway), ['off', 'off', 'off']);
});

test('a mesh with a medium: each link is two veth pairs and a bridge there; faults go on the medium ends', () => {
  const mesh = describeMesh(diamond(), { medium: true });
  assert.is(mesh.mediumNetns, 'medium');
  const cmds = meshCommands(mesh);
  assert.match(cmds[0]!.stdin!, /netns add medium\n$/);
  const n3 = cmds.find((c) => c.argv.join(' ') === 'ip -n n3 -batch -')!.stdin!;
  assert.match(n3, /^link add v3-4 address 02:00:00:00:03:04 type veth peer name m3-4 netns medium$/m);
  assert.match(n3, /^link set v3-4 master bat0$/m);
  const air = cmds.find((c) => c.argv.join(' ') === 'ip -n medium -batch -')!.stdin!;
  assert.ok(cmds.indexOf(cmds.find((c) => c.stdin === air)!) > cmds.indexOf(cmds.find((c) => c.stdin === n3)!), 'the bridge after its ports exist');
  for (const [a, b] of diamond().links) {
    assert.match(air, new RegExp(`^link set m${a}-${b} master br${a}-${b}$`, 'm'));
    assert.match(air, new RegExp(`^link set m${b}-${a} master br${a}-${b}$`, 'm'));
  }
  assert.equal(linkFaultDevices(mesh, 3, 4), [{ netns: 'medium', dev: 'm3-4' }, { netns: 'medium', dev: 'm4-3' }]);
  assert.equal(linkFaultDevices(describeMesh(diamond()), 3, 4), [{ netns: 'n3', dev: 'v3-4' }, { netns: 'n4', dev: 'v4-3' }]);
  assert.throws(() => linkFaultDevices(mesh, 1, 4), /no link 1-4 in diamond/);
});

test('topologies: bad shapes are refused with the reason', () => {
  assert.throws(() => validateTopology({ name: 'x', nodes: 2, links: [[1, 3]] }), /bad link 1-3/);
  assert.throws(() => validateTopology({ name: 'x', nodes: 2, links: [[1, 1]] }), /bad link/);
  assert.throws(() => validateTopology({ name: 'x', nodes: 3, links: [[1, 2], [2, 1]] }), /duplicate link 1-2/);
  assert.throws(() => validateTopology({ name: 'x', nodes: 0, links: [] }), /nodes must be/);
});

test('mesh commands: namespaces first, every veth created once, every end enslaved, bat0 up last', () => {
  const mesh = describeMesh(triangle(), { algo: 'BATMAN_V', origIntervalMs: 500, gatewayServers: [1] });
  const cmds = meshCommands(mesh);
  assert.equal(cmds[0]!, { argv: ['ip', '-batch', '-'], stdin: 'netns add n1\nnetns add n2\nnetns add n3\n' });
  const batches = cmds.filter((c) => c.stdin !== undefined).map((c) => c.stdin!).join('');
  for (const [a, b] of triangle().links) assert.is(batches.split(`link add v${a}-${b} `).length - 1, 1, `veth ${a}-${b} once`);
  for (const n of mesh.nodes) for (const i of n.ifaces) assert.ok(cmds.some((c) => c.argv.includes(n.netns) && c.stdin?.includes(`link set ${i.ifname} master bat0`)), `${i.ifname} enslaved`);
  const flat = cmds.map((c) => c.argv.join(' '));
  assert.ok(flat.includes('nsenter --net=/run/netns/n1 batctl meshif bat0 gw_mode server'));
  assert.ok(flat.includes('nsenter --net=/run/netns/n2 batctl meshif bat0 orig_interval 500'));
  assert.ok(flat.includes('nsenter --net=/run/netns/n3 batctl meshif bat0 bridge_loop_avoidance 0'));
  assert.is(flat.at(-1), 'ip -n n3 link set bat0 up');
});

test('batctl parser: the rows batctl 2023.0 printed for BATMAN_IV and BATMAN_V', () => {
  assert.equal(parseOriginators(' * 02:00:00:00:03:02    0.876s   ( 10) 02:00:00:00:02:01 [      v1-2]\n'), [
    { best: true, originator: '02:00:00:00:03:02', lastSeenMs: 876, tq: 10, nextHop: '02:00:00:00:02:01', ifname: 'v1-2' },
  ]);
  assert.equal(parseOriginators('   02:00:00:00:03:02    0.160s (     8823.5)  02:00:00:00:02:01 [      v1-2]'), [
    { best: false, originator: '02:00:00:00:03:02', lastSeenMs: 160, throughputMbit: 8823.5, nextHop: '02:00:00:00:02:01', ifname: 'v1-2' },
  ]);
  assert.equal(parseNeighbours('         v2-1\t  02:00:00:00:01:02    0.636s\n'), [{ ifname: 'v2-1', neighbour: '02:00:00:00:01:02', lastSeenMs: 636 }]);
  assert.equal(parseNeighbours('02:00:00:00:02:01    0.088s (    10000.0) [      v1-2]'), [
    { neighbour: '02:00:00:00:02:01', lastSeenMs: 88, throughputMbit: 10000, ifname: 'v1-2' },
  ]);
  assert.equal(parseGateways('* 02:00:00:00:03:02 ( 14) 02:00:00:00:02:01 [      v1-2]: 10.0/2.0 MBit'), [
    { best: true, originator: '02:00:00:00:03:02', tq: 14, router: '02:00:00:00:02:01', ifname: 'v1-2', bandwidth: '10.0/2.0 MBit' },
  ]);
  assert.equal(parseGateways('* 02:00:00:00:01:02 (    10000.0) 02:00:00:00:01:02 [      v2-1]: 10.0/2.0 MBit')[0]!.throughputMbit, 10000);
  assert.equal(parseInterfaces('v2-1: active\nv2-3: inactive\n'), [
    { ifname: 'v2-1', active: true },
    { ifname: 'v2-3', active: false },
  ]);
  assert.equal(parseOriginators(''), []);
});

test('batctl parser: a line it does not know is an error, not a shorter table', () => {
  assert.throws(() => parseOriginators('[B.A.T.M.A.N. adv 2022.3, MainIF/MAC: v1-2/02:00:00:00:01:02 (bat0/2e:7f:be:24:06:10 BATMAN_IV)]'), /cannot read line/);
  assert.throws(() => parseNeighbours('Error - interface bat0 is not present'), /cannot read line/);
  assert.throws(() => parseGateways('garbage'), /cannot read line/);
});

test('a guest script passes only with exit 0, no timeout, and all of at least one uvu test passed', () => {
  const base: ScriptResult = { path: 'x', exitCode: 0, signal: null, timedOut: false, seconds: 1, output: '' };
  assert.ok(scriptPassed(base));
  assert.ok(scriptPassed({ ...base, tests: { total: 3, passed: 3 } }));
  assert.not.ok(scriptPassed({ ...base, tests: { total: 3, passed: 2 } }));
  assert.not.ok(scriptPassed({ ...base, tests: { total: 0, passed: 0 } }));
  assert.not.ok(scriptPassed({ ...base, exitCode: 1 }));
  assert.not.ok(scriptPassed({ ...base, exitCode: null, signal: 'SIGKILL' }));
  assert.not.ok(scriptPassed({ ...base, timedOut: true }));
});

test.run();
