// The apk v3 packages (OpenWrt 25.12) built by `npm run package`, installed, upgraded and removed
// by the real apk-tools 3.0.6 (built from the vendored upstream archive, test/packaging/apk-tools.ts)
// in a scratch root. apk runs the packages' scripts there itself (chroot), with the scratch root's
// busybox and the stand-in functions.sh/rc.common/uci of openwrt-shim/ (no procd here: the
// stand-ins record what the scripts ask of it). libc, node, kmod-batman-adv, luci-base and rpcd
// are MOCKS: empty packages of those names and versions, because the real ones exist only as
// OpenWrt target packages; they let apk resolve the dependencies as on a router.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPackages } from '../../scripts/package.mjs';
import { apkIdRoot, buildApk } from '../../scripts/package-apk.mjs';
import { agentMeta } from '../../scripts/package-meta.mjs';
import { buildNodeBinApk } from '../../scripts/package-node-bin.mjs';
import { apkTools, missingForApkTools } from './apk-tools.ts';
import { DIST } from './build-ipks.ts';
import { makeScratchRoot, procdCalls } from './scratch-root.ts';

const ci = process.env.CI === 'true' || process.env.CI === '1';
const missing = missingForApkTools();
if (missing.length && ci) throw new Error(`CI: apk-tools cannot be built: missing ${missing.join(', ')}`);
const EPOCH = 1_700_000_000;
const work = mkdtempSync(join(tmpdir(), 'x0-apk-'));
const roots: string[] = [];
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const APK = missing.length ? '' : apkTools();
const built = APK ? buildPackages({ distDir: DIST, outDir: join(work, 'out'), workDir: join(work, 'work'), epoch: EPOCH, apkTools: { apk: APK } }) : null;
const [agentApk, luciApk] = built?.apks ?? [];
const version = built?.version ?? '';

function apk(root: string, args: string[]) {
  return spawnSync(APK, ['--root', root, '--allow-untrusted', '--no-network', '--no-interactive', ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** An empty stand-in package (see the header: a mock of an OpenWrt target package). */
function mockPackage(name: string, ver: string): string {
  const files = join(work, 'mock', `${name}-${ver}`);
  mkdirSync(join(files, 'usr/share/mock'), { recursive: true });
  writeFileSync(join(files, 'usr/share/mock', name), `${name} ${ver}\n`);
  const out = join(work, 'mock', `${name}-${ver}.apk`);
  const r = spawnSync(APK, ['--root', apkIdRoot(work), 'mkpkg', '--info', `name:${name}`, '--info', `version:${ver}`, '--info', 'arch:noarch', '--files', files, '--output', out], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return out;
}

function routerRoot(nodeVersion = '20.20.2-r1'): { root: string; mocks: string[] } {
  const root = makeScratchRoot({ boardName: 'xiaomi,mi-router-ax3000t' });
  roots.push(root);
  const mocks = [mockPackage('libc', '1.2.5-r4'), mockPackage('node', nodeVersion), mockPackage('kmod-batman-adv', '6.6.73.2024.3-r1'), mockPackage('luci-base', '25.100-r1'), mockPackage('rpcd', '2025.01-r1')];
  return { root, mocks };
}

function installed() {
  const { root, mocks } = routerRoot();
  const r = apk(root, ['add', '--initdb', ...mocks, agentApk!.path, luciApk!.path]);
  assert.is(r.status, 0, r.stdout + r.stderr);
  return root;
}

const read = (root: string, p: string) => readFileSync(join(root, p), 'utf8');
const maybe = (name: string, fn: () => void) => test(name, () => (APK ? fn() : console.log(`skip (${missing.join(', ')} missing): ${name}`)));

maybe('npm run package metadata in the apk: name, version, depends, scripts, /lib/apk/packages files', () => {
  const dump = spawnSync(APK, ['adbdump', agentApk!.path], { encoding: 'utf8' }).stdout;
  assert.match(dump, /\n {2}name: x0tta6bl4\n {2}version: 0\.1\.0-r1\n/);
  assert.match(dump, /\n {2}arch: noarch\n/);
  assert.match(dump, /\n {2}license: GPL-2\.0-only\n/);
  assert.match(dump, /depends: # 3 items\n {4}- kmod-batman-adv\n {4}- libc\n {4}- node>=18\.20\n/);
  for (const s of ['post-install', 'post-upgrade', 'pre-deinstall', 'post-deinstall']) assert.match(dump, new RegExp(`\\n {2}${s}: `), s);
  assert.ok(existsSync(agentApk!.path) && agentApk!.path.endsWith(`x0tta6bl4-${version}.apk`));
  // Same bytes from the same sources and epoch.
  const again = buildPackages({ distDir: DIST, outDir: join(work, 'again'), workDir: join(work, 'work2'), epoch: EPOCH, apkTools: { apk: APK } });
  for (const i of [0, 1]) assert.is(sha(readFileSync(again.apks[i]!.path)), sha(readFileSync(built!.apks[i]!.path)), `${again.apks[i]!.path} rebuilt identically`);
});

maybe('apk add: post-install creates user 470, enables and starts the agent; package files and conffile list', () => {
  const root = installed();
  assert.match(read(root, 'etc/passwd'), /^x0tta6bl4:x:470:470:/m, 'from /lib/apk/packages/x0tta6bl4.rusers');
  assert.match(read(root, 'etc/group'), /^x0tta6bl4:x:470:/m);
  assert.is(readlinkSync(join(root, 'etc/rc.d/S95x0tta6bl4')), '../init.d/x0tta6bl4');
  assert.ok(procdCalls(root).some((c) => c[0] === 'procd_set_param' && c[1] === 'user' && c[2] === 'x0tta6bl4'), 'started, as x0tta6bl4');
  assert.match(read(root, 'etc/x0tta6bl4/.board-defaults'), /^xiaomi,mi-router-ax3000t:/, 'uci-defaults ran once');
  assert.is(read(root, 'tmp/service-calls'), 'rpcd reload\n', 'the LuCI app\'s own postinst ran');
  const list = read(root, 'lib/apk/packages/x0tta6bl4.list').trim().split('\n');
  assert.ok(list.includes('/etc/init.d/x0tta6bl4') && list.includes('/usr/lib/x0tta6bl4/x0tta6bl4.mjs') && list.includes('/lib/apk/packages/x0tta6bl4.rusers'));
  const conf = readFileSync(join(DIST, '..', 'openwrt/x0tta6bl4/files/x0tta6bl4.config'));
  assert.is(read(root, 'lib/apk/packages/x0tta6bl4.conffiles'), '/etc/config/x0tta6bl4\n');
  assert.is(read(root, 'lib/apk/packages/x0tta6bl4.conffiles_static'), `/etc/config/x0tta6bl4 ${sha(conf)}\n`);
  assert.match(read(root, 'lib/apk/db/installed'), new RegExp(`P:x0tta6bl4\\nV:${version.replace(/\./g, '\\.')}\\n`));
});

maybe('apk add refuses a node older than 18.20', () => {
  const { root, mocks } = routerRoot('18.19.1-r1');
  const r = apk(root, ['add', '--initdb', ...mocks, agentApk!.path]);
  assert.is.not(r.status, 0);
  assert.match(r.stdout + r.stderr, /node>=18\.20/);
  assert.not.ok(existsSync(join(root, 'usr/lib/x0tta6bl4/x0tta6bl4.mjs')));
});

maybe('upgrade keeps a modified config; the new default lands as .apk-new; no re-enable, no board defaults again', () => {
  const root = installed();
  const conf = join(root, 'etc/config/x0tta6bl4');
  writeFileSync(conf, read(root, 'etc/config/x0tta6bl4') + "\nconfig status 'operator'\n");
  const mine = read(root, 'etc/config/x0tta6bl4');
  rmSync(join(root, 'etc/rc.d/S95x0tta6bl4')); // operator disabled it
  rmSync(join(root, 'tmp/procd-calls'));
  const uciCalls = read(root, 'tmp/uci-calls');

  // The next release: same trees, another release number and a changed default config.
  const stage = join(work, 'work', 'x0tta6bl4');
  const newDefault = read(stage, 'etc/config/x0tta6bl4') + '\n# new default in r2\n';
  writeFileSync(join(stage, 'etc/config/x0tta6bl4'), newDefault);
  const next = version.replace(/-r(\d+)$/, (_, n) => `-r${Number(n) + 1}`);
  const m = agentMeta();
  const r2 = buildApk({ apk: APK, name: 'x0tta6bl4', version: next, dataDir: stage, meta: m, description: 'x0tta6bl4 agent', conffiles: ['/etc/config/x0tta6bl4'], own: { postrm: m.postrm }, outDir: join(work, 'r2'), epoch: EPOCH, workDir: join(work, 'r2w') });

  const r = apk(root, ['add', r2.path]);
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(read(root, 'lib/apk/db/installed'), new RegExp(`P:x0tta6bl4\\nV:${next.replace(/\./g, '\\.')}\\n`));
  assert.is(read(root, 'etc/config/x0tta6bl4'), mine, 'the operator\'s config stays');
  assert.is(read(root, 'etc/config/x0tta6bl4.apk-new'), newDefault, 'the new default beside it');
  assert.not.ok(existsSync(join(root, 'etc/rc.d/S95x0tta6bl4')), 'post-upgrade does not re-enable');
  assert.is(read(root, 'tmp/uci-calls'), uciCalls, 'board defaults not applied again');
  assert.ok(procdCalls(root).some((c) => c[0] === 'procd_open_instance'), 'restarted');
});

maybe('apk del: stops and disables, removes files and empty directories; keeps /etc/x0tta6bl4 and a modified config', () => {
  const root = installed();
  writeFileSync(join(root, 'etc/x0tta6bl4/node.key'), 'secret');
  writeFileSync(join(root, 'etc/config/x0tta6bl4'), read(root, 'etc/config/x0tta6bl4') + "\nconfig status 'operator'\n");
  rmSync(join(root, 'tmp/procd-calls'));
  const r = apk(root, ['del', 'luci-app-x0tta6bl4', 'x0tta6bl4']);
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.equal(procdCalls(root), [['procd_kill', 'x0tta6bl4']]);
  assert.not.ok(existsSync(join(root, 'etc/rc.d/S95x0tta6bl4')));
  for (const p of ['usr/lib/x0tta6bl4', 'usr/share/x0tta6bl4', 'var/run/x0tta6bl4', 'etc/init.d/x0tta6bl4', 'usr/bin/x0tta6bl4', 'www/luci-static/resources/view/x0tta6bl4', 'lib/apk/packages/x0tta6bl4.list'])
    assert.not.ok(existsSync(join(root, p)), `${p} removed`);
  assert.is(read(root, 'etc/x0tta6bl4/node.key'), 'secret', 'the node identity stays');
  assert.match(read(root, 'etc/config/x0tta6bl4'), /config status 'operator'/, 'a modified config in /etc stays (apk protects /etc)');
  assert.not.match(read(root, 'lib/apk/db/installed'), /P:x0tta6bl4\n/);
});

// 25.12 has no target node: scripts/package-node-bin.mjs wraps a musl Node binary as package
// `node`. No musl Node is on this machine, and a real one is ~100 MB to compress, so a small ELF
// of the same machine (our own x64/arm64 netlink bridge) stands in for it: what this proves is
// the wrapper's checks and apk resolving the agent's node>=18.20 against it, not Node on musl.
maybe('a node wrapped by package-node-bin.mjs satisfies the agent\'s node>=18.20 (no mock node)', () => {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : null;
  if (!arch) return console.log(`skip: no wrapper test on ${process.arch}`);
  const hostNode = join(DIST, 'native', `x0tta6bl4-nlbridge-${process.arch}`);
  const wrapped = buildNodeBinApk({ apk: APK, node: hostNode, version: process.versions.node, arch, outDir: join(work, 'node-bin'), epoch: EPOCH });
  assert.match(spawnSync(APK, ['adbdump', wrapped], { encoding: 'utf8' }).stdout, new RegExp(`name: node\n {2}version: ${process.versions.node.replace(/\./g, '\\.')}-r1\n`));
  assert.throws(() => buildNodeBinApk({ apk: APK, node: hostNode, version: '16.20.2', arch, outDir: join(work, 'node-bin') }), /too old/);
  assert.throws(() => buildNodeBinApk({ apk: APK, node: hostNode, version: process.versions.node, arch: arch === 'x86_64' ? 'aarch64' : 'x86_64', outDir: join(work, 'node-bin') }), /not built for/);
  const root = makeScratchRoot({ boardName: 'xiaomi,mi-router-ax3000t' });
  roots.push(root);
  rmSync(join(root, 'usr/bin/node')); // the scratch root's own (a hard link to this machine's node: never written through)
  const mocks = [mockPackage('libc', '1.2.5-r4'), mockPackage('libstdcpp', '14.2.0-r4'), mockPackage('libgcc', '14.2.0-r4'), mockPackage('kmod-batman-adv', '6.6.73.2024.3-r1')];
  const r = apk(root, ['add', '--initdb', '--arch', arch, ...mocks, wrapped, agentApk!.path]);
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(read(root, 'lib/apk/db/installed'), /P:node\n/);
  assert.is(sha(readFileSync(join(root, 'usr/bin/node'))), sha(readFileSync(hostNode)));
});

test.after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});
test.run();
