// Inside the VM, on the step's mesh: failures reach the caller as errors, never as an empty
// table. No primary interface (batman-adv puts -ENOENT in NLMSG_DONE), an unknown ifindex, a
// name that is not a batadv interface, and permission denied (not root; root without
// CAP_NET_ADMIN: batman-adv's admin-only dumps and every SET). batctl fails on the same cases.
// With --probe this file is the unprivileged child: it prints one JSON line of what it saw.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openBatmanDriver } from '../../src/mesh/batman/open-batman-driver.ts';
import { MeshError } from '../../src/mesh/driver.ts';
import { NetlinkKernelError } from '../../src/netlink/errors.ts';
import { GUEST_TIMEOUT_MS, batctlStatus, ip, loadMesh, openNode, rejection } from './lib/mesh.ts';

async function probe(): Promise<void> {
  const d = await openBatmanDriver({ meshIfname: 'bat0', timeoutMs: GUEST_TIMEOUT_MS });
  const out: Record<string, unknown> = {};
  const tryIt = async (name: string, fn: () => Promise<unknown>) => {
    try {
      const v = await fn();
      out[name] = { ok: Array.isArray(v) ? `${v.length} rows` : 'value' };
    } catch (e) {
      out[name] = e instanceof MeshError ? { code: e.code, errno: e.errno, message: e.message } : { other: String(e) };
    }
  };
  await tryIt('mesh', () => d.mesh());
  await tryIt('interfaces', () => d.interfaces());
  await tryIt('originators', () => d.originators());
  await tryIt('neighbours', () => d.neighbours());
  await tryIt('gateways', () => d.gateways());
  await tryIt('setMesh', () => d.setMesh({ hopPenalty: 31 }));
  await d.close();
  process.stdout.write(`PROBE ${JSON.stringify(out)}\n`);
}

if (process.argv.includes('--probe')) {
  await probe();
} else {
  const mesh = loadMesh();
  const node = mesh.nodes[0]!;
  const ns = node.netns;

  test.before(() => {
    // bat9: a mesh interface with no hard interface; bat8: one whose only hard interface is down.
    ip('-n', ns, 'link', 'add', 'bat9', 'type', 'batadv');
    ip('-n', ns, 'link', 'set', 'bat9', 'up');
    ip('-n', ns, 'link', 'add', 'bat8', 'type', 'batadv');
    ip('-n', ns, 'link', 'add', 'vx0', 'type', 'veth', 'peer', 'name', 'vx1');
    ip('-n', ns, 'link', 'set', 'vx0', 'master', 'bat8');
    ip('-n', ns, 'link', 'set', 'bat8', 'up');
  });
  test.after(() => {
    for (const l of ['bat9', 'bat8', 'vx0']) ip('-n', ns, 'link', 'del', l);
  });

  for (const meshif of ['bat9', 'bat8']) {
    test(`${meshif} (${meshif === 'bat9' ? 'no hard interface' : 'hard interface down'}): originators, neighbours, gateways fail NO_PRIMARY (ENOENT in NLMSG_DONE), like batctl`, async () => {
      const d = await openNode(node, meshif);
      try {
        for (const [what, p] of [
          ['originators', () => d.originators()],
          ['neighbours', () => d.neighbours()],
          ['gateways', () => d.gateways()],
        ] as const) {
          const e = await rejection(p(), what);
          assert.instance(e, MeshError, `${what}: ${e}`);
          assert.is((e as MeshError).code, 'NO_PRIMARY', `${what}: ${e.message}`);
          assert.is((e as MeshError).errno, 2);
          assert.match(e.message, /NLMSG_DONE/);
        }
        const oracle = batctlStatus(ns, meshif, 'originators', '-H');
        assert.ok(oracle.status !== 0, `batctl o also fails (exit ${oracle.status})`);
        assert.is(oracle.out.trim().split('\n').filter((l) => /([0-9a-f]{2}:){5}/.test(l)).length, 0, 'batctl prints no rows');
        // The mesh itself is there: its info and settings read fine, with no primary.
        const info = await d.mesh();
        assert.is(info.meshIfname, meshif);
        assert.is(info.primaryIfname, undefined);
        assert.is((await d.settings()).hopPenalty, 30);
        const hard = await d.interfaces();
        assert.equal(hard.map((h) => [h.ifname, h.active]), meshif === 'bat9' ? [] : [['vx0', false]]);
        assert.is(batctlStatus(ns, meshif, 'interface').out.trim(), meshif === 'bat9' ? '' : 'vx0: inactive');
      } finally {
        await d.close();
      }
    });
  }

  test('unknown and wrong ifindexes: kernel errors from the batadv client, never an empty table', async () => {
    const d = await openNode(node);
    try {
      const b = await d.client();
      for (const [what, p] of [
        ['originators of ifindex 999999', () => b.getOriginators(999999)],
        ['neighbours of ifindex 999999', () => b.getNeighbours(999999)],
        ['gateways of ifindex 999999', () => b.getGateways(999999)],
        ['hardifs of ifindex 999999', () => b.getHardifs(999999)],
        ['mesh of ifindex 999999', () => b.getMesh(999999)],
      ] as const) {
        const e = await rejection(p(), what);
        assert.instance(e, NetlinkKernelError, `${what}: ${e}`);
        assert.is((e as NetlinkKernelError).errnoName, 'ENODEV', `${what}: ${e.message}`);
      }
      // lo (ifindex 1) exists but is not a batadv interface: batman-adv 2022.3 answers a dump with
      // ENODEV in NLMSG_DONE and GET_MESH with EINVAL (seen on this kernel).
      for (const [what, p, errno] of [
        ['originators of lo', () => b.getOriginators(1), 'ENODEV'],
        ['mesh of lo', () => b.getMesh(1), 'EINVAL'],
      ] as const) {
        const e = await rejection(p(), what);
        assert.instance(e, NetlinkKernelError);
        assert.is((e as NetlinkKernelError).errnoName, errno, `${what}: ${e.message}`);
      }
      const hard = (await d.interfaces())[0]!;
      const e2 = await rejection(b.getHardif((await d.mesh()).meshIfindex, 999999), 'hardif 999999');
      assert.instance(e2, NetlinkKernelError);
      assert.ok(['ENODEV', 'EINVAL'].includes((e2 as NetlinkKernelError).errnoName), e2.message);
      assert.is((await b.getHardif((await d.mesh()).meshIfindex, hard.ifindex)).hardIfname, hard.ifname);
    } finally {
      await d.close();
    }
  });

  test('a name that is missing, or not batadv, is NO_MESH on every table', async () => {
    for (const name of ['batnosuch', 'lo', node.ifaces[0]!.ifname]) {
      const d = await openNode(node, name);
      try {
        for (const [what, p] of [
          ['originators', () => d.originators()],
          ['interfaces', () => d.interfaces()],
          ['settings', () => d.settings()],
        ] as const) {
          const e = await rejection(p(), `${name} ${what}`);
          assert.instance(e, MeshError);
          assert.is((e as MeshError).code, 'NO_MESH', `${name} ${what}: ${e.message}`);
        }
      } finally {
        await d.close();
      }
      assert.ok(batctlStatus(ns, name, 'originators', '-H').status !== 0, `batctl fails on ${name} too`);
    }
  });

  /** Runs this file with --probe in the node's namespace under `setpriv ARGS`. */
  function probeAs(setpriv: string[]): Record<string, { ok?: string; code?: string; errno?: number; message?: string }> {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'setpriv', ...setpriv, process.execPath, ...process.execArgv, process.argv[1]!, '--probe'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('PROBE '));
    if (!line) throw new Error(`probe printed nothing (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
    return JSON.parse(line.slice(6));
  }

  function assertDenied(r: ReturnType<typeof probeAs>, who: string): void {
    // GET_MESH and GET_HARDIF need no privilege; the table dumps and every SET need CAP_NET_ADMIN.
    assert.equal(r.mesh, { ok: 'value' }, `${who} mesh: ${JSON.stringify(r.mesh)}`);
    assert.is(r.interfaces?.ok, `${node.ifaces.length} rows`, `${who} interfaces: ${JSON.stringify(r.interfaces)}`);
    for (const k of ['originators', 'neighbours', 'gateways', 'setMesh']) {
      assert.is(r[k]?.code, 'PERMISSION', `${who} ${k}: ${JSON.stringify(r[k])}`);
      assert.is(r[k]?.errno, 1, `${who} ${k}: EPERM`);
    }
  }

  test('not root (uid 65534, no capabilities): PERMISSION, not an empty table', () => {
    assertDenied(probeAs(['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all']), 'nobody');
  });

  test('root without CAP_NET_ADMIN: PERMISSION on the admin commands', () => {
    assertDenied(probeAs(['--inh-caps=-net_admin', '--bounding-set=-net_admin']), 'root -net_admin');
  });

  test.run();
}
