// src/agent/privileges.ts for real: this process's /proc/self/status, then children started the
// way ujail starts the agent on a router (another user, CAP_NET_ADMIN only, ambient, bounding
// set cut, no_new_privs) by util-linux setpriv, each in a fresh network namespace so that the
// rtnetlink change they make touches nothing of the host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CAP_NET_ADMIN,
  capNames,
  hasCap,
  hostCommandFor,
  parseProcStatus,
  privilegesHealth,
  PrivilegesError,
  readPrivileges,
  type ProcessPrivileges,
} from '../../src/agent/privileges.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CHILD = join(ROOT, 'test/packaging/privileges-child.ts');
const isRoot = process.getuid?.() === 0;
const haveTools = ['setpriv', 'unshare', 'ip'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
// CI runs as root with util-linux and iproute2; elsewhere the child tests cannot switch users.
const canSwitch = isRoot && haveTools;
if (!canSwitch && process.env.CI === 'true') throw new Error('privileges.test.ts needs root, setpriv, unshare and ip');

const stub = mkdtempSync(join(tmpdir(), 'x0-priv-'));
chmodSync(stub, 0o777);
// A stand-in ubus CLI that records what it was asked (no ubusd here): the reboot mapping's target.
writeFileSync(join(stub, 'ubus'), `#!/bin/sh\necho "$*" > ${stub}/ubus-args\n`);
chmodSync(join(stub, 'ubus'), 0o755);

const SETPRIV_NET_ADMIN = ['--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin', '--bounding-set=-all,+net_admin'];
const SETPRIV_NONE = ['--inh-caps=-all', '--bounding-set=-all'];

function asNobody(caps: string[], argv: string[]) {
  return spawnSync('unshare', ['-n', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...caps, '--no-new-privs', '--', ...argv], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: `${stub}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`, HOME: stub, X0TTA6BL4_ROOT_REASON: '' },
    timeout: 60_000,
  });
}

function child(caps: string[]) {
  const r = asNobody(caps, [process.execPath, '--import', 'tsx', CHILD]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('this process: /proc/self/status parsed to the same uid and capability masks', () => {
  const p = readPrivileges();
  assert.is(p.uid, process.geteuid!());
  const text = readFileSync('/proc/self/status', 'utf8');
  assert.is(p.caps.effective, BigInt('0x' + /^CapEff:\s*(\w+)/m.exec(text)![1]));
  assert.is(p.caps.bounding, BigInt('0x' + /^CapBnd:\s*(\w+)/m.exec(text)![1]));
  if (isRoot) {
    assert.is(p.user, 'root');
    assert.ok(hasCap(p.caps.effective, CAP_NET_ADMIN));
    assert.ok(capNames(p.caps.effective).includes('CAP_SYS_ADMIN'));
    assert.is(privilegesHealth(p, { needsNetAdmin: true }).state, 'degraded');
    assert.match(privilegesHealth(p, { needsNetAdmin: true }).reason, /root with every capability: not started by the x0tta6bl4 init script/);
    const told = readPrivileges({ env: { X0TTA6BL4_ROOT_REASON: '/sbin/ujail is missing' } });
    assert.match(privilegesHealth(told, { needsNetAdmin: true }).reason, /root with every capability: \/sbin\/ujail is missing/);
    assert.is(privilegesHealth(p, { needsNetAdmin: false }).state, 'ok', 'the simulator needs nothing');
  }
});

test('malformed or missing status: a clear PrivilegesError, never a crash', () => {
  assert.throws(() => parseProcStatus('Name: x\n'), (e: Error) => e instanceof PrivilegesError && /no Uid line/.test(e.message));
  assert.throws(() => parseProcStatus('Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\tzz\n'), /CapEff is not a hex mask: 'zz'/);
  assert.throws(() => readPrivileges({ statusPath: join(stub, 'absent') }), /cannot read .*absent/);
  // A kernel before 4.3 has no CapAmb line: read as empty.
  const old = parseProcStatus('Uid:\t5\t5\t5\t5\nGid:\t5\t5\t5\t5\nCapInh:\t0\nCapPrm:\t1000\nCapEff:\t1000\nCapBnd:\t1000\n');
  assert.is(old.caps.ambient, 0n);
  assert.equal(capNames(old.caps.effective), ['CAP_NET_ADMIN']);
});

test('host commands: unchanged as root; as a user reboot/wifi go to ubus, root-only ones are refused', () => {
  const caps = (m: bigint) => ({ effective: m, permitted: m, inheritable: m, bounding: m, ambient: m });
  const root: ProcessPrivileges = { uid: 0, gid: 0, user: 'root', caps: caps((1n << 41n) - 1n), noNewPrivs: false, rootReason: null };
  const agent: ProcessPrivileges = { uid: 32768, gid: 32768, user: 'x0tta6bl4', caps: caps(1n << 12n), noNewPrivs: true, rootReason: null };
  const bare: ProcessPrivileges = { ...agent, caps: caps(0n) };
  assert.equal(hostCommandFor(['reboot'], root), { argv: ['reboot'] });
  assert.equal(hostCommandFor(['/etc/init.d/network', 'restart'], root), { argv: ['/etc/init.d/network', 'restart'] });
  assert.equal(hostCommandFor(['reboot'], agent), { argv: ['ubus', 'call', 'system', 'reboot'] });
  assert.equal(hostCommandFor(['/sbin/wifi', 'reload'], agent), { argv: ['ubus', 'call', 'network', 'reload'] });
  assert.equal(hostCommandFor(['test', '-x', '/etc/init.d/network'], agent), { argv: ['test', '-x', '/etc/init.d/network'] });
  const refused = hostCommandFor(['/etc/init.d/network', 'restart'], agent);
  assert.ok('refused' in refused);
  assert.match((refused as { refused: string }).refused, /needs root; the agent runs as x0tta6bl4 \(uid 32768\)/);
  assert.equal(hostCommandFor(['nft', '-f', '-'], agent), { argv: ['nft', '-f', '-'] });
  assert.match((hostCommandFor(['ip', 'link', 'set', 'dev', 'wlan0', 'down'], bare) as { refused: string }).refused, /ip needs CAP_NET_ADMIN/);
});

test('as nobody with CAP_NET_ADMIN only (what ujail gives the agent): reported ok, ip works, reboot goes to ubus', () => {
  if (!canSwitch) return console.log('skipped: needs root, setpriv, unshare, ip');
  const r = child(SETPRIV_NET_ADMIN);
  assert.is(r.uid, 65534);
  assert.equal(r.effective, ['CAP_NET_ADMIN']);
  assert.equal(r.ambient, ['CAP_NET_ADMIN']);
  assert.equal(r.bounding, ['CAP_NET_ADMIN']);
  assert.is(r.noNewPrivs, true);
  assert.is(r.health.state, 'ok');
  assert.match(r.health.reason, /^running as \S+ \(uid 65534\) with CAP_NET_ADMIN \(ambient/);
  assert.equal(r.ip, { code: 0, stdout: '', stderr: '' }, 'ip link set lo up in the namespace: the capability reached the child');
  assert.is(r.reboot.code, 0);
  assert.is(readFileSync(join(stub, 'ubus-args'), 'utf8'), 'call system reboot\n');
});

test('as nobody without capabilities: reported down with the reason; the kernel refuses ip too', () => {
  if (!canSwitch) return console.log('skipped: needs root, setpriv, unshare, ip');
  const r = child(SETPRIV_NONE);
  assert.is(r.uid, 65534);
  assert.equal(r.effective, []);
  assert.is(r.health.state, 'down');
  assert.match(r.health.reason, /without CAP_NET_ADMIN/);
  assert.is(r.ip.code, 126);
  assert.match(r.ip.stderr, /ip needs CAP_NET_ADMIN/);
  // The refusal above is not a guess: the same command run directly is refused by the kernel.
  const direct = asNobody(SETPRIV_NONE, ['ip', 'link', 'set', 'dev', 'lo', 'up']);
  assert.is.not(direct.status, 0);
  assert.match(direct.stderr, /Operation not permitted/);
});

test.after(() => rmSync(stub, { recursive: true, force: true }));
test.run();
