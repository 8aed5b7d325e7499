// Inside the VM, before batman-adv is loaded (the runner also switched module autoloading off:
// this is a system without batman-adv): the batadv family is -ENOENT at the controller, our
// driver answers NO_MODULE on every call, and batctl agrees the module is missing. Then the
// module is loaded and the same driver, never reopened, starts answering.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openBatmanDriver } from '../../src/mesh/batman/open-batman-driver.ts';
import { MeshError } from '../../src/mesh/driver.ts';
import { BatadvClient } from '../../src/netlink/batadv-client.ts';
import { openBridge } from '../../src/netlink/bridge-transport.ts';
import { NetlinkKernelError } from '../../src/netlink/errors.ts';
import { GUEST_TIMEOUT_MS, batctlStatus, ip, rejection } from './lib/mesh.ts';

const NS = 'nomod';

test.before(() => {
  assert.not.ok(existsSync('/sys/module/batman_adv'), 'batman-adv must not be loaded for this step');
  ip('netns', 'add', NS);
});
test.after(() => {
  ip('netns', 'del', NS);
});

test('the batadv family lookup fails with ENOENT from the controller', async () => {
  const t = await openBridge({ protocol: 'generic', families: ['batadv'], netns: NS });
  try {
    const e = await rejection(BatadvClient.open(t, { timeoutMs: GUEST_TIMEOUT_MS }), 'BatadvClient.open');
    assert.instance(e, NetlinkKernelError, String(e));
    assert.is((e as NetlinkKernelError).errnoName, 'ENOENT');
  } finally {
    await t.close();
  }
});

test('the driver opens, answers NO_MODULE on every call, then recovers after modprobe without reopening', async () => {
  const d = await openBatmanDriver({ meshIfname: 'bat0', netns: NS, timeoutMs: GUEST_TIMEOUT_MS });
  try {
    for (const [what, p] of [
      ['mesh', () => d.mesh()],
      ['settings', () => d.settings()],
      ['interfaces', () => d.interfaces()],
      ['originators', () => d.originators()],
      ['neighbours', () => d.neighbours()],
      ['gateways', () => d.gateways()],
      ['setMesh', () => d.setMesh({ hopPenalty: 40 })],
    ] as const) {
      const e = await rejection(p(), what);
      assert.instance(e, MeshError, `${what}: ${e}`);
      assert.is((e as MeshError).code, 'NO_MODULE', `${what}: ${e.message}`);
    }
    const oracle = batctlStatus(NS, 'bat0', 'originators', '-H');
    assert.ok(oracle.status !== 0, 'batctl o fails too');
    assert.match(execFileSync('batctl', ['-v'], { encoding: 'utf8' }), /module not loaded/);

    // Load it (explicitly: autoloading is off in this step) and give the namespace a one-node mesh.
    execFileSync('modprobe', ['batman-adv']);
    execFileSync('modprobe', ['veth']);
    ip('-n', NS, 'link', 'add', 'bat0', 'type', 'batadv');
    ip('-n', NS, 'link', 'add', 'vm0', 'type', 'veth', 'peer', 'name', 'vm1');
    ip('-n', NS, 'link', 'set', 'vm0', 'master', 'bat0');
    for (const l of ['vm0', 'vm1', 'bat0']) ip('-n', NS, 'link', 'set', l, 'up');
    // The kernel activates the hard interface (and so names the primary) from its netdev
    // notifier once the link is up; under a loaded TCG guest that can trail `ip link set up`.
    let info = await d.mesh();
    for (let i = 0; i < 50 && info.primaryIfname === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      info = await d.mesh();
    }
    assert.is(info.meshIfname, 'bat0');
    assert.is(info.primaryIfname, 'vm0');
    assert.equal((await d.interfaces()).map((i) => [i.ifname, i.active]), [['vm0', true]]);
    // Alone in its mesh: no originators is the true answer here, and batctl agrees (exit 0, no rows).
    assert.equal(await d.originators(), []);
    const o = batctlStatus(NS, 'bat0', 'originators', '-H');
    assert.is(o.status, 0, o.out);
    assert.is(o.out.trim(), '');
    assert.is((await d.setMesh({ hopPenalty: 40 })).hopPenalty, 40);
  } finally {
    await d.close();
  }
});

test.run();
