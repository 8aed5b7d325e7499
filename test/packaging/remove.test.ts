// Removal and the fixed user, in a scratch root:
// - the agent's user and group get uid/gid 470 through OpenWrt's own base-files functions.sh
//   (the vendored upstream copy, not our stand-in), as default_postinst runs it from the ipk's
//   postinst and the apk's post-install reads it from /lib/apk/packages/<pkg>.rusers;
// - on `opkg remove`, prerm stops the agent, opkg deletes the listed files (files only: its list
//   has no directories, libopkg/opkg_remove.c), and the postrm removes the directories the package
//   and its init script made, while the node's keys (/etc/x0tta6bl4) and a modified config stay.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VENDOR_DIR } from '../router/openwrt-userspace.ts';
import { apkScripts } from '../../scripts/package-apk.mjs';
import { agentMeta } from '../../scripts/package-meta.mjs';
import { buildIpks } from './build-ipks.ts';
import { inRoot, makeScratchRoot, opkgInstall } from './scratch-root.ts';

const ci = process.env.CI === 'true' || process.env.CI === '1';
const built = buildIpks();
const [agentIpk, luciIpk] = built.packages;
const roots: string[] = [];
const BASEFILES = join(VENDOR_DIR, 'basefiles.tar.gz');

function installed() {
  const root = makeScratchRoot({ boardName: 'xiaomi,mi-router-ax3000t' });
  roots.push(root);
  opkgInstall(root, agentIpk.path);
  opkgInstall(root, luciIpk.path);
  return root;
}

function script(root: string, pkg: string, name: string, arg: string, upgrade = false) {
  return inRoot(root, ['/bin/sh', '-c', `/usr/lib/opkg/info/${pkg}.${name} ${arg}`], { env: { PKG_UPGRADE: upgrade ? '1' : '0' } });
}

/** What opkg does between prerm and postrm: delete the listed files, keeping a modified conffile. */
function opkgDeleteFiles(root: string, pkg: string, keep: string[] = []) {
  for (const f of readFileSync(join(root, `usr/lib/opkg/info/${pkg}.list`), 'utf8').split('\n').filter(Boolean)) {
    if (!keep.includes(f)) rmSync(join(root, f), { force: true });
  }
}

/** Replaces the stand-in /lib/functions.sh with base-files' own (vendored upstream excerpt). */
function realFunctions(root: string): boolean {
  if (!existsSync(BASEFILES)) {
    if (ci) assert.unreachable(`${BASEFILES} is missing (OpenWrt base-files, vendored for the tests)`);
    console.log(`skip: ${BASEFILES} missing`);
    return false;
  }
  const r = spawnSync('tar', ['-xzf', BASEFILES, '-C', root, './lib/functions.sh'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return true;
}

test('ipk postinst with base-files\' own functions.sh creates user and group x0tta6bl4 with id 470', () => {
  const root = installed();
  if (!realFunctions(root)) return;
  assert.match(readFileSync(join(root, 'lib/functions.sh'), 'utf8'), /^add_group_and_user\(\) \{/m, 'the real functions.sh');
  // As an image build runs it (IPKG_INSTROOT set): no lock(1), no procd, same user creation.
  const r = spawnSync('busybox', ['sh', join(root, 'usr/lib/opkg/info/x0tta6bl4.postinst'), 'configure'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, IPKG_INSTROOT: root },
  });
  assert.is(r.status, 0, r.stderr + r.stdout);
  assert.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^x0tta6bl4:x:470:470:x0tta6bl4:\/var\/run\/x0tta6bl4:\/bin\/false$/m);
  assert.match(readFileSync(join(root, 'etc/group'), 'utf8'), /^x0tta6bl4:x:470:x0tta6bl4$/m);
});

test('apk post-install with base-files\' own functions.sh reads /lib/apk/packages/x0tta6bl4.rusers: id 470', () => {
  const root = makeScratchRoot();
  roots.push(root);
  if (!realFunctions(root)) return;
  // What the apk package installs before its post-install runs (package-pack.mk's apk branch).
  mkdirSync(join(root, 'lib/apk/packages'), { recursive: true });
  writeFileSync(join(root, 'lib/apk/packages/x0tta6bl4.rusers'), agentMeta().userid + '\n');
  writeFileSync(join(root, 'lib/apk/packages/x0tta6bl4.list'), '/usr/bin/x0tta6bl4\n');
  const script = join(root, 'tmp/post-install');
  writeFileSync(script, apkScripts('x0tta6bl4')['post-install']!);
  const r = spawnSync('busybox', ['sh', script], { encoding: 'utf8', env: { PATH: process.env.PATH, IPKG_INSTROOT: root } });
  assert.is(r.status, 0, r.stderr + r.stdout);
  assert.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^x0tta6bl4:x:470:470:/m);
  assert.match(readFileSync(join(root, 'etc/group'), 'utf8'), /^x0tta6bl4:x:470:x0tta6bl4$/m);
});

test('remove: empty directories go; /etc/x0tta6bl4 and a modified config stay', () => {
  const root = installed();
  assert.is(script(root, 'x0tta6bl4', 'postinst', 'configure').status, 0);
  assert.ok(existsSync(join(root, 'var/run/x0tta6bl4')), 'the init script made the socket directory');
  mkdirSync(join(root, 'etc/x0tta6bl4/keys'), { recursive: true });
  writeFileSync(join(root, 'etc/x0tta6bl4/keys/node.key'), 'secret');
  writeFileSync(join(root, 'var/run/x0tta6bl4/status.sock'), '');
  const conf = join(root, 'etc/config/x0tta6bl4');
  writeFileSync(conf, readFileSync(conf, 'utf8') + "\nconfig status 'extra'\n");

  for (const pkg of ['luci-app-x0tta6bl4', 'x0tta6bl4']) {
    assert.is(script(root, pkg, 'prerm', 'remove').status, 0);
    opkgDeleteFiles(root, pkg, ['/etc/config/x0tta6bl4']);
    const r = script(root, pkg, 'postrm', 'remove');
    assert.is(r.status, 0, r.stderr);
  }
  for (const d of ['usr/lib/x0tta6bl4', 'usr/share/x0tta6bl4', 'var/run/x0tta6bl4', 'www/luci-static/resources/view/x0tta6bl4'])
    assert.not.ok(existsSync(join(root, d)), `${d} removed`);
  // Directories other packages use stay.
  for (const d of ['etc/init.d', 'usr/bin', 'usr/share/acl.d', 'etc/uci-defaults', 'www/luci-static/resources/view']) assert.ok(existsSync(join(root, d)), `${d} kept`);
  assert.is(readFileSync(join(root, 'etc/x0tta6bl4/keys/node.key'), 'utf8'), 'secret', 'the node identity stays');
  assert.match(readFileSync(conf, 'utf8'), /config status 'extra'/, 'the modified config stays');
});

test('remove leaves a directory that is not empty, and upgrade runs no cleanup', () => {
  const root = installed();
  assert.is(script(root, 'x0tta6bl4', 'postinst', 'configure').status, 0);
  writeFileSync(join(root, 'usr/share/x0tta6bl4/operator-notes'), 'mine');
  opkgDeleteFiles(root, 'x0tta6bl4');
  assert.is(script(root, 'x0tta6bl4', 'postrm', 'remove').status, 0);
  assert.ok(existsSync(join(root, 'usr/share/x0tta6bl4/operator-notes')), 'a file opkg did not install is not deleted');

  const up = installed();
  assert.is(script(up, 'x0tta6bl4', 'postinst', 'configure').status, 0);
  rmSync(join(up, 'usr/lib/x0tta6bl4/native'), { recursive: true });
  mkdirSync(join(up, 'usr/lib/x0tta6bl4/native'));
  assert.is(script(up, 'x0tta6bl4', 'postrm', 'upgrade', true).status, 0);
  assert.ok(statSync(join(up, 'usr/lib/x0tta6bl4/native')).isDirectory(), 'PKG_UPGRADE=1: nothing removed');
});

test.after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
  rmSync(built.dir, { recursive: true, force: true });
});
test.run();
