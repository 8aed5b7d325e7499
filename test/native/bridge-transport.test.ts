// openBridge (src/netlink/bridge-transport.ts) with the real x64 bridge on the host kernel:
// rtnetlink traffic, refusals turned into netlink errors, group membership, death and
// restart with re-joined groups (in a private network namespace), and the clean failures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshError } from '../../src/mesh/driver.ts';
import { openBridge, type BridgeTransport } from '../../src/netlink/bridge-transport.ts';
import { binaryPath, ensureBuilt, hasCommand } from './bridge-process.ts';
import { NLMSG_DONE, NLMSG_ERROR, RTM_GETADDR, RTM_NEWLINK, attrs, getLink, linkName, messages, nlmsg, type Msg } from '../guest/lib/netlink-bytes.ts';

const tmp = mkdtempSync(join(tmpdir(), 'x0-transport-'));
const netns = `x0t-${process.pid}`;

test.before(() => {
  ensureBuilt();
  execFileSync('ip', ['netns', 'add', netns]);
});
test.after(async () => {
  await closeAll();
  try {
    execFileSync('ip', ['netns', 'del', netns]);
  } catch {
    /* already gone */
  }
  rmSync(tmp, { recursive: true, force: true });
});

// Every transport a test opens is closed even when the test fails: a live bridge child would
// keep this process (and the test run) from ever exiting.
const open = new Set<BridgeTransport>();
async function track(p: Promise<BridgeTransport>): Promise<BridgeTransport> {
  const t = await p;
  open.add(t);
  return t;
}
async function closeAll(): Promise<void> {
  await Promise.all([...open].map((t) => t.close()));
  open.clear();
}
test.after.each(closeAll);

/** Collects messages until one matches; the guard only prevents a hang. */
function waitFor(t: BridgeTransport, pred: (m: Msg) => boolean, guardMs = 20_000): Promise<Msg[]> {
  return new Promise((resolve, reject) => {
    const seen: Msg[] = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`message not seen; got types ${seen.map((m) => m.type).join(',')}; log: ${t.log().join(' | ')}`));
    }, guardMs);
    const off = t.onDatagram((d) => {
      const ms = messages(d);
      seen.push(...ms);
      if (ms.some(pred)) {
        clearTimeout(timer);
        off();
        resolve(seen);
      }
    });
  });
}

async function rejects(p: Promise<unknown>, code: string, includes?: string): Promise<MeshError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, MeshError);
    assert.is((e as MeshError).code, code, (e as Error).message);
    if (includes) assert.ok((e as Error).message.includes(includes), (e as Error).message);
    return e as MeshError;
  }
  throw new Error(`expected a MeshError ${code}`);
}

test('route: a link dump comes back whole, in order', async () => {
  const t = await track(openBridge({ protocol: 'route' }));
  assert.is(t.ready.protocol, 'route');
  const got = waitFor(t, (m) => m.type === NLMSG_DONE && m.seq === 3);
  t.send(getLink(3));
  const msgs = await got;
  assert.ok(msgs.filter((m) => m.type === RTM_NEWLINK).map(linkName).includes('lo'));
  assert.is(msgs[msgs.length - 1]!.type, NLMSG_DONE);
  await t.close();
});

test('a refused request comes back as an NLMSG_ERROR for its seq, with the reason', async () => {
  const t = await track(openBridge({ protocol: 'route' }));
  const got = waitFor(t, (m) => m.type === NLMSG_ERROR && m.seq === 99);
  t.send(nlmsg(RTM_GETADDR, 0x301, 99, Buffer.alloc(8)));
  const err = (await got).find((m) => m.seq === 99)!;
  assert.is(err.payload.readInt32LE(0), -1, '-EPERM');
  assert.is(err.payload.readUInt32LE(4 + 8), 99, 'original header echoed');
  assert.is(err.pid, t.ready.portId);
  const msg = attrs(err.payload.subarray(20)).find((a) => a.type === 1);
  assert.ok(msg?.value.toString().includes('rtnetlink type not allowed'), String(msg?.value));
  assert.ok(t.log().some((l) => l.includes('refused')));
  await t.close();
});

test('send: bounds checked before anything is written', async () => {
  const t = await track(openBridge({ protocol: 'route' }));
  assert.throws(() => t.send(new Uint8Array(8)), (e: unknown) => e instanceof MeshError && e.code === 'INVALID');
  assert.throws(() => t.send(new Uint8Array(16385)), (e: unknown) => e instanceof MeshError && e.code === 'INVALID');
  await t.close();
  assert.throws(() => t.send(getLink(1, 1)), (e: unknown) => e instanceof MeshError && e.code === 'TRANSPORT');
});

test('joinGroup: allowed group joins; others and bad ids are INVALID', async () => {
  const t = await track(openBridge({ protocol: 'route' }));
  await t.joinGroup(1);
  await rejects(t.joinGroup(7), 'INVALID', 'does not belong');
  await rejects(t.joinGroup(0), 'INVALID');
  await rejects(t.joinGroup(1.5), 'INVALID');
  await t.close();
});

test('bridge death: onReset fires, sends fail meanwhile, it restarts and re-joins its groups', async () => {
  const t = await track(openBridge({ protocol: 'route', netns, restartMinMs: 50 }));
  await t.joinGroup(1); // RTNLGRP_LINK
  const firstPid = t.pid!;
  const reset = new Promise<Error>((resolve) =>
    t.onReset((e) => {
      // in-flight work must fail now, and nothing can be sent until the restart
      assert.throws(() => t.send(getLink(5, 1)), (x: unknown) => x instanceof MeshError && x.code === 'TRANSPORT');
      resolve(e);
    }),
  );
  process.kill(firstPid, 'SIGKILL');
  const e = await reset;
  assert.instance(e, MeshError);
  assert.is((e as MeshError).code, 'TRANSPORT');
  assert.ok(e.message.includes('SIGKILL'), e.message);
  while (t.pid === undefined) await new Promise((r) => setTimeout(r, 20));
  assert.is.not(t.pid, firstPid);
  assert.is(t.restarts, 1);
  // The re-joined RTNLGRP_LINK membership delivers notifications for link changes in the
  // namespace (seq 0, not replies). Re-joining runs just after READY, so keep flipping lo
  // until one arrives; without the re-join none ever would and the guard fails the test.
  let seen = false;
  const event = waitFor(t, (m) => m.type === RTM_NEWLINK && m.seq === 0 && linkName(m) === 'lo').then(() => (seen = true));
  for (let up = true; !seen; up = !up) {
    execFileSync('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', up ? 'up' : 'down']);
    await Promise.race([event, new Promise((r) => setTimeout(r, 100))]);
  }
  await event;
  await t.close();
});

test('missing binary: TRANSPORT naming the path', async () => {
  await rejects(openBridge({ protocol: 'route', bridgePath: join(tmp, 'nope') }), 'TRANSPORT', join(tmp, 'nope'));
});

test('socket that cannot open (arm64 bridge under qemu-user): TRANSPORT with the bridge reason', async () => {
  assert.ok(hasCommand('qemu-aarch64-static'), 'qemu-user-static is required');
  const wrapper = join(tmp, 'qemu-bridge');
  writeFileSync(wrapper, `#!/bin/sh\nexec qemu-aarch64-static ${binaryPath('arm64')} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const e = await rejects(openBridge({ protocol: 'generic', families: ['batadv'], bridgePath: wrapper }), 'TRANSPORT');
  assert.ok(e.message.includes('NETLINK_GENERIC'), e.message);
  assert.ok(e.message.includes('errno 93'), e.message);
  assert.ok(e.message.includes('code 2'), e.message);
});

test('mipsel bridge under qemu-user: the agent side reads its fatal ERROR (MIPS errno 120)', async () => {
  assert.ok(hasCommand('qemu-mipsel-static'), 'qemu-user-static is required');
  const wrapper = join(tmp, 'qemu-bridge-mipsel');
  writeFileSync(wrapper, `#!/bin/sh\nexec qemu-mipsel-static ${binaryPath('mipsel')} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const e = await rejects(openBridge({ protocol: 'generic', families: ['batadv'], bridgePath: wrapper }), 'TRANSPORT');
  assert.ok(e.message.includes('NETLINK_GENERIC'), e.message);
  assert.ok(e.message.includes('errno 120'), e.message); // EPROTONOSUPPORT on MIPS
  assert.ok(e.message.includes('code 2'), e.message);
});

test('a bridge that writes garbage is killed and reported', async () => {
  const liar = join(tmp, 'liar');
  writeFileSync(liar, '#!/bin/sh\nprintf "not a record at all"\nsleep 30\n');
  chmodSync(liar, 0o755);
  await rejects(openBridge({ protocol: 'route', bridgePath: liar }), 'TRANSPORT', 'signal SIGKILL');
});

test('generic batadv without the module: opens, READY says ENOENT', async () => {
  const t = await track(openBridge({ protocol: 'generic', families: ['batadv'] }));
  const fam = t.ready.families.get('batadv');
  assert.ok(fam);
  assert.is(fam.errno, 2);
  assert.is(fam.id, 0);
  await t.close();
  assert.is(t.pid, undefined);
});

test('bad options are INVALID before anything runs', async () => {
  await rejects(openBridge({ protocol: 'route', families: ['batadv'] }), 'INVALID');
  await rejects(openBridge({ protocol: 'generic' }), 'INVALID');
  await rejects(openBridge({ protocol: 'generic', families: ['a', 'b', 'c', 'd', 'e'] }), 'INVALID');
  await rejects(openBridge({ protocol: 'generic', families: ['no spaces'] }), 'INVALID');
  await rejects(openBridge({ protocol: 'route', netns: '../x' }), 'INVALID');
});

test.run();
