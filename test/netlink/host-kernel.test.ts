// The real path on the build machine's own kernel: the netlink bridge binary, rtnetlink
// link operations in a throw-away network namespace (checked against `ip -j link`), and
// batman-adv's absence reported as NO_MODULE (this kernel has no batman-adv, which is itself
// the "no module" case). Needs root, `ip` and dist/native (npm test builds it first).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { BatadvClient } from '../../src/netlink/batadv-client.ts';
import { openBridge } from '../../src/netlink/bridge-transport.ts';
import { NetlinkKernelError } from '../../src/netlink/errors.ts';
import { NetlinkRequester } from '../../src/netlink/requester.ts';
import { RtnetlinkClient } from '../../src/netlink/rtnetlink.ts';
import { openBatmanDriver } from '../../src/mesh/batman/open-batman-driver.ts';
import { MeshError } from '../../src/mesh/driver.ts';

const NS = `xt-nl-${process.pid}`;
const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
const ipLinks = (): Array<{ ifindex: number; ifname: string; flags: string[] }> => JSON.parse(ip('-n', NS, '-j', 'link', 'show'));

test.before(() => {
  ip('netns', 'add', NS);
  ip('-n', NS, 'link', 'add', 'vt0', 'type', 'veth', 'peer', 'name', 'vt1');
});
test.after(() => {
  try {
    ip('netns', 'del', NS);
  } catch {
    /* already gone */
  }
});

test('rtnetlink through the bridge: links by name and index, and a dump, equal `ip -j link`', async () => {
  const t = await openBridge({ protocol: 'route', netns: NS });
  try {
    const links = new RtnetlinkClient(new NetlinkRequester(t));
    const oracle = ipLinks();
    const listed = await links.listLinks();
    assert.equal(
      listed.map((l) => [l.ifindex, l.ifname]).sort(),
      oracle.map((l) => [l.ifindex, l.ifname]).sort(),
    );
    const vt0 = await links.getLink('vt0');
    assert.is(vt0.ifindex, oracle.find((l) => l.ifname === 'vt0')!.ifindex);
    assert.is(vt0.kind, 'veth');
    assert.match(vt0.address ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.is((await links.getLink(vt0.ifindex)).ifname, 'vt0');
    try {
      await links.getLink('nosuch0');
      assert.unreachable();
    } catch (e) {
      assert.ok(e instanceof NetlinkKernelError);
      assert.is(e.errnoName, 'ENODEV');
    }
  } finally {
    await t.close();
  }
});

test('rtnetlink through the bridge: set up/down and delete, seen by `ip`', async () => {
  const t = await openBridge({ protocol: 'route', netns: NS });
  try {
    const links = new RtnetlinkClient(new NetlinkRequester(t));
    const up = await links.setUp('vt1', true);
    assert.ok(up.up);
    assert.ok(ipLinks().find((l) => l.ifname === 'vt1')!.flags.includes('UP'));
    assert.not.ok((await links.setUp('vt1', false)).up);
    assert.not.ok(ipLinks().find((l) => l.ifname === 'vt1')!.flags.includes('UP'));
    // This kernel has no batman-adv: creating bat0 fails with the kernel's own reason.
    try {
      await links.createBatadv('bat0', { algo: 'BATMAN_V' });
      assert.unreachable();
    } catch (e) {
      assert.ok(e instanceof NetlinkKernelError, String(e));
      assert.is(e.errnoName, 'EOPNOTSUPP');
      assert.match(e.extAckMessage ?? '', /Unknown device type/);
    }
    await links.deleteLink('vt0');
    assert.not.ok(ipLinks().some((l) => l.ifname === 'vt0' || l.ifname === 'vt1'));
  } finally {
    await t.close();
  }
});

test('no batman-adv in the kernel: family resolution is ENOENT and the driver says NO_MODULE, never an empty table', async () => {
  const t = await openBridge({ protocol: 'generic', families: ['batadv'] });
  try {
    await BatadvClient.open(t);
    assert.unreachable();
  } catch (e) {
    assert.ok(e instanceof NetlinkKernelError, String(e));
    assert.is(e.errno, 2);
  } finally {
    await t.close();
  }
  const driver = await openBatmanDriver({ meshIfname: 'bat0' });
  try {
    for (const read of [() => driver.originators(), () => driver.neighbours(), () => driver.mesh()]) {
      try {
        await read();
        assert.unreachable();
      } catch (e) {
        assert.ok(e instanceof MeshError, String(e));
        assert.is(e.code, 'NO_MODULE');
      }
    }
  } finally {
    await driver.close();
  }
});

test.run();
