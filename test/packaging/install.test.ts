// The ipks installed into a scratch root the way opkg lays them out, then their maintainer
// scripts and the init script run there under chroot with busybox sh. procd, ubus and uci do
// not exist on this machine: openwrt-shim/ holds stand-ins that record what the scripts ask
// of them (procd calls, uci calls, rpcd reloads), and the test checks those records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIpks } from './build-ipks.ts';
import { inRoot, makeScratchRoot, opkgInstall, procdCalls, type ScratchRootOptions } from './scratch-root.ts';

const built = buildIpks();
const [agentIpk, luciIpk] = built.packages;
const roots: string[] = [];

function installed(opts: ScratchRootOptions = { boardName: 'xiaomi,mi-router-ax3000t' }) {
  const root = makeScratchRoot(opts);
  roots.push(root);
  assert.is(opkgInstall(root, agentIpk.path), 'x0tta6bl4');
  assert.is(opkgInstall(root, luciIpk.path), 'luci-app-x0tta6bl4');
  return root;
}

// opkg runs maintainer scripts as `/bin/sh -c "<info>/<pkg>.<script> <arg>"` with PKG_UPGRADE set.
function script(root: string, pkg: string, name: string, arg: string, upgrade = false) {
  return inRoot(root, ['/bin/sh', '-c', `/usr/lib/opkg/info/${pkg}.${name} ${arg}`], { env: { PKG_UPGRADE: upgrade ? '1' : '0' } });
}

const read = (root: string, p: string) => readFileSync(join(root, p), 'utf8');

const CAPS = '/etc/capabilities/x0tta6bl4.json';
const NO_USER = 'user x0tta6bl4 does not exist (the package\'s postinst creates it)';

/** Expected procd calls for one start, for a profile's heap numbers; rootReason: the agent stays root. */
function startCalls(heap: number, semi: number, board: string, rootReason: string | null = null): string[][] {
  return [
    ['procd_open_service', 'x0tta6bl4', '/etc/init.d/x0tta6bl4'],
    ['procd_open_instance', 'agent'],
    ['procd_set_param', 'command', '/usr/bin/node', `--max-old-space-size=${heap}`, `--max-semi-space-size=${semi}`, '--v8-pool-size=1', '/usr/lib/x0tta6bl4/x0tta6bl4.mjs', 'agent', '--config', '/etc/config/x0tta6bl4'],
    ...(rootReason === null
      ? [
          // ujail passes on only the variables named here, so PATH too (ip, nft, ubus live in /sbin, /usr/sbin).
          ['procd_set_param', 'env', `X0TTA6BL4_BOARD=${board}`, 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
          // ujail, no namespaces: user x0tta6bl4 with the capability sets of CAPS.
          ['procd_add_jail', 'x0tta6bl4'],
          ['procd_set_param', 'user', 'x0tta6bl4'],
          ['procd_set_param', 'group', 'x0tta6bl4'],
          ['procd_set_param', 'capabilities', CAPS],
          ['procd_set_param', 'no_new_privs', '1'],
        ]
      : [['procd_set_param', 'env', `X0TTA6BL4_BOARD=${board}`, `X0TTA6BL4_ROOT_REASON=${rootReason}`]]),
    ['procd_set_param', 'respawn', '3600', '10', '5'],
    ['procd_set_param', 'stdout', '1'],
    ['procd_set_param', 'stderr', '1'],
    ['procd_set_param', 'file', '/etc/config/x0tta6bl4'],
    ['procd_set_param', 'term_timeout', '15'],
    ['procd_close_instance'],
    ['procd_add_reload_trigger', 'x0tta6bl4'],
    ['procd_close_service'],
  ];
}

test('opkg layout: files, info files and the list default_postinst reads', () => {
  const root = installed();
  for (const f of ['control', 'conffiles', 'postinst', 'prerm', 'list']) assert.ok(existsSync(join(root, `usr/lib/opkg/info/x0tta6bl4.${f}`)), f);
  assert.ok(existsSync(join(root, 'usr/lib/opkg/info/luci-app-x0tta6bl4.postinst-pkg')));
  const list = read(root, 'usr/lib/opkg/info/x0tta6bl4.list').trim().split('\n');
  assert.ok(list.includes('/etc/init.d/x0tta6bl4'));
  assert.ok(list.includes('/etc/uci-defaults/90-x0tta6bl4-board'));
  assert.ok(list.includes('/usr/lib/x0tta6bl4/x0tta6bl4.mjs'));
  assert.is(statSync(join(root, 'etc/config/x0tta6bl4')).mode & 0o777, 0o600);
  assert.is(statSync(join(root, 'usr/bin/x0tta6bl4')).mode & 0o777, 0o755);
  assert.match(read(root, 'usr/lib/opkg/status'), /Package: x0tta6bl4\nVersion: [^\n]+\nDepends: node \(>= 18\.20\), libc, node, kmod-batman-adv\n/);
});

test('postinst on a router: user, board defaults once, enabled, started under procd as recorded', () => {
  const root = installed();
  const r = script(root, 'x0tta6bl4', 'postinst', 'configure');
  assert.is(r.status, 0, r.stderr + r.stdout);

  assert.match(read(root, 'etc/passwd'), /^x0tta6bl4:x:470:470:/m, 'Require-User created the user with its fixed id');
  assert.match(read(root, 'etc/group'), /^x0tta6bl4:x:470:/m);
  // The AX3000T profile's defaults, applied with uci and committed, then the marker.
  assert.equal(read(root, 'tmp/uci-calls').trim().split('\n'), ['-q set x0tta6bl4.federation.max_connections=8', '-q commit x0tta6bl4']);
  assert.match(read(root, 'etc/x0tta6bl4/.board-defaults'), /^xiaomi,mi-router-ax3000t: federation.max_connections/);
  assert.not.ok(existsSync(join(root, 'etc/uci-defaults/90-x0tta6bl4-board')), 'a uci-defaults script that succeeded is removed');

  assert.is(readlinkSync(join(root, 'etc/rc.d/S95x0tta6bl4')), '../init.d/x0tta6bl4');
  assert.is(readlinkSync(join(root, 'etc/rc.d/K10x0tta6bl4')), '../init.d/x0tta6bl4');
  assert.equal(procdCalls(root), startCalls(48, 1, 'xiaomi-ax3000t'));

  // The state dir belongs to the unprivileged user, readable by nobody else.
  const uid = Number(/^x0tta6bl4:x:(\d+):/m.exec(read(root, 'etc/passwd'))![1]);
  const st = statSync(join(root, 'etc/x0tta6bl4'));
  assert.is(st.uid, uid);
  assert.is(st.mode & 0o777, 0o700);
  // The config: root's, readable by the agent's group only (it can hold the MQTT password).
  const gid = Number(/^x0tta6bl4:x:(\d+):/m.exec(read(root, 'etc/group'))![1]);
  const conf = statSync(join(root, 'etc/config/x0tta6bl4'));
  assert.equal([conf.uid, conf.gid, conf.mode & 0o777], [0, gid, 0o640]);
  // The status socket's directory, from the shipped config, belongs to the agent (owner and group only).
  assert.match(read(root, 'etc/config/x0tta6bl4'), /option socket '\/var\/run\/x0tta6bl4\/status.sock'/);
  const run = statSync(join(root, 'var/run/x0tta6bl4'));
  assert.equal([run.uid, run.mode & 0o777], [uid, 0o750]);
});

test('capability file and ubus ACL: CAP_NET_ADMIN in all five sets; only reboot and network reload', () => {
  const root = installed();
  // ujail reads OCI-style sets; a set left out means "all" (procd jail/capabilities.c), so all five are there.
  const caps = JSON.parse(read(root, 'etc/capabilities/x0tta6bl4.json'));
  assert.equal(Object.keys(caps).sort(), ['ambient', 'bounding', 'effective', 'inheritable', 'permitted']);
  for (const set of Object.values(caps)) assert.equal(set, ['CAP_NET_ADMIN']);
  const acl = JSON.parse(read(root, 'usr/share/acl.d/x0tta6bl4.json'));
  assert.equal(acl, { user: 'x0tta6bl4', access: { system: { methods: ['reboot'] }, network: { methods: ['reload'] } } });
  // ubusd ignores ACL files not owned by root or writable by group/others.
  const st = statSync(join(root, 'usr/share/acl.d/x0tta6bl4.json'));
  assert.equal([st.uid, st.gid, st.mode & 0o022], [0, 0, 0]);
});

test('no procd-ujail, or a socket straight in /var/run: the agent stays root and says why', () => {
  let root = installed({ boardName: 'xiaomi,mi-router-ax3000t', ujail: false });
  let r = script(root, 'x0tta6bl4', 'postinst', 'configure');
  assert.is(r.status, 0, r.stderr);
  const why = '/sbin/ujail is missing (opkg install procd-ujail): procd grants capabilities only through it';
  assert.match(r.stderr, new RegExp(`the agent runs as root: ${why.replace(/[()/]/g, '\\$&')}`));
  assert.equal(procdCalls(root), startCalls(48, 1, 'xiaomi-ax3000t', why));
  assert.is(statSync(join(root, 'etc/config/x0tta6bl4')).mode & 0o777, 0o600, 'config left root-only');

  root = installed();
  const conf = join(root, 'etc/config/x0tta6bl4');
  writeFileSync(conf, read(root, 'etc/config/x0tta6bl4').replace('/var/run/x0tta6bl4/status.sock', '/var/run/x0tta6bl4.sock'));
  r = script(root, 'x0tta6bl4', 'postinst', 'configure');
  assert.is(r.status, 0, r.stderr);
  assert.equal(
    procdCalls(root),
    startCalls(48, 1, 'xiaomi-ax3000t', 'status.socket /var/run/x0tta6bl4.sock is in a directory only root may write; use /var/run/x0tta6bl4/status.sock'),
  );
});

test('upgrade: files come back, board defaults are not applied again, the service is restarted', () => {
  const root = installed();
  assert.is(script(root, 'x0tta6bl4', 'postinst', 'configure').status, 0);
  rmSync(join(root, 'tmp/procd-calls'));
  rmSync(join(root, 'etc/rc.d/S95x0tta6bl4')); // operator disabled it: an upgrade must not re-enable
  opkgInstall(root, agentIpk.path);
  const r = script(root, 'x0tta6bl4', 'postinst', 'configure', true);
  assert.is(r.status, 0, r.stderr);
  assert.equal(read(root, 'tmp/uci-calls').trim().split('\n').length, 2, 'no new uci calls');
  assert.not.ok(existsSync(join(root, 'etc/rc.d/S95x0tta6bl4')));
  assert.equal(procdCalls(root), startCalls(48, 1, 'xiaomi-ax3000t'));
});

test('uci commit x0tta6bl4: the reload trigger runs reload, which hands procd the same instance again', () => {
  const root = installed();
  assert.is(script(root, 'x0tta6bl4', 'postinst', 'configure').status, 0);
  const first = procdCalls(root);
  const trigger = first.find((c) => c[0] === 'procd_add_reload_trigger');
  assert.equal(trigger, ['procd_add_reload_trigger', 'x0tta6bl4']);
  rmSync(join(root, 'tmp/procd-calls'));
  // procd runs "/etc/init.d/<name> reload" for a config.change of package x0tta6bl4.
  const r = inRoot(root, ['/etc/init.d/x0tta6bl4', 'reload']);
  assert.is(r.status, 0, r.stderr);
  assert.equal(procdCalls(root), first);
  // ... and since the instance lists the config as a file, procd restarts it only when it changed.
  assert.ok(first.some((c) => c[0] === 'procd_set_param' && c[1] === 'file' && c[2] === '/etc/config/x0tta6bl4'));
});

test('board profiles: MIPS refuses with the reason, x86 matches by target, unknown boards size from RAM', () => {
  let root = installed({ boardName: 'glinet,gl-ar300m-nor', target: 'ath79/generic' });
  let r = inRoot(root, ['/etc/init.d/x0tta6bl4', 'start']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /gl-ar300m' cannot run the agent/);
  assert.not.ok(procdCalls(root).some((c) => c[0] === 'procd_open_instance'));

  root = installed({ boardName: 'qemu-standard-pc-i440fx-piix-1996', target: 'x86/64' });
  assert.is(inRoot(root, ['/etc/init.d/x0tta6bl4', 'start']).status, 0);
  assert.equal(procdCalls(root), startCalls(256, 8, 'x86-64', NO_USER));

  // 1000000 kB = 976 MB: a fifth is 195 MB of heap; from 384 MB the semi-space is 4 MB.
  root = installed({ boardName: 'acme,unknown-router', target: 'acme/generic', memTotalKb: 1_000_000 });
  assert.is(inRoot(root, ['/etc/init.d/x0tta6bl4', 'start']).status, 0);
  assert.equal(procdCalls(root), startCalls(195, 4, 'generic', NO_USER));

  // 128 MB: the floor of 32 MB applies.
  root = installed({ boardName: 'acme,tiny', target: 'acme/generic', memTotalKb: 131072 });
  assert.is(inRoot(root, ['/etc/init.d/x0tta6bl4', 'start']).status, 0);
  assert.equal(procdCalls(root)[2], startCalls(32, 1, 'generic')[2]);
});

test('agent.enabled 0: start hands procd no instance and says why', () => {
  const root = installed();
  const conf = join(root, 'etc/config/x0tta6bl4');
  const text = read(root, 'etc/config/x0tta6bl4');
  assert.match(text, /config agent 'agent'\n\toption enabled '1'/);
  writeFileSync(conf, text.replace(/(config agent 'agent'\n\toption enabled )'1'/, "$1'0'"));
  const r = inRoot(root, ['/etc/init.d/x0tta6bl4', 'start']);
  assert.is(r.status, 0);
  assert.match(r.stderr, /agent disabled/);
  assert.equal(procdCalls(root).map((c) => c[0]), ['procd_open_service', 'procd_add_reload_trigger', 'procd_close_service']);
});

test('prerm on removal stops the service and disables it', () => {
  const root = installed();
  assert.is(script(root, 'x0tta6bl4', 'postinst', 'configure').status, 0);
  rmSync(join(root, 'tmp/procd-calls'));
  const r = script(root, 'x0tta6bl4', 'prerm', 'remove');
  assert.is(r.status, 0, r.stderr);
  assert.equal(procdCalls(root), [['procd_kill', 'x0tta6bl4']]);
  assert.not.ok(existsSync(join(root, 'etc/rc.d/S95x0tta6bl4')));
  assert.not.ok(existsSync(join(root, 'etc/rc.d/K10x0tta6bl4')));
});

test('image build (IPKG_INSTROOT set): postinst only enables, runs nothing else', () => {
  const root = installed();
  const r = spawnSync('busybox', ['sh', join(root, 'usr/lib/opkg/info/x0tta6bl4.postinst'), 'configure'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, IPKG_INSTROOT: root },
  });
  assert.is(r.status, 0, r.stderr);
  assert.ok(lstatSync(join(root, 'etc/rc.d/S95x0tta6bl4')).isSymbolicLink());
  assert.equal(procdCalls(root), []);
  assert.ok(existsSync(join(root, 'etc/uci-defaults/90-x0tta6bl4-board')), 'left for the first boot');
  assert.not.ok(existsSync(join(root, 'tmp/uci-calls')));
});

test('luci postinst reloads rpcd and drops LuCI\'s caches', () => {
  const root = installed();
  writeFileSync(join(root, 'tmp/luci-indexcache.abc'), 'stale');
  const r = script(root, 'luci-app-x0tta6bl4', 'postinst', 'configure');
  assert.is(r.status, 0, r.stderr);
  assert.is(read(root, 'tmp/service-calls'), 'rpcd reload\n');
  assert.not.ok(existsSync(join(root, 'tmp/luci-indexcache.abc')));
});

test.after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
  rmSync(built.dir, { recursive: true, force: true });
});
test.run();
