// The built ipks, unpacked header by header (test/packaging/tar-reader.ts) and checked against
// what OpenWrt's scripts/ipkg-build and include/package-pack.mk produce: members, order,
// owners, modes, mtimes, control fields and their order, Installed-Size, conffiles, scripts,
// every data file; plus reproducibility, busybox tar, and agreement with the feed Makefiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { boardDefaultsTable, boardProfileTable, loadBoardConfigs } from '../../board-configs/load.mjs';
import { buildIpks, DIST } from './build-ipks.ts';
import { readTar, type TarEntry } from './tar-reader.ts';

const EPOCH = 1_700_000_000;
const ROOT = new URL('../../', import.meta.url).pathname;
const FILES = join(ROOT, 'openwrt/x0tta6bl4/files');
const LUCI = join(ROOT, 'openwrt/luci-app-x0tta6bl4');
const ci = process.env.CI === 'true' || process.env.CI === '1';
const pkgVersion = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;

const built = buildIpks(EPOCH);
const [agentIpk, luciIpk] = built.packages;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function open(path: string) {
  const outer = readTar(readFileSync(path));
  const get = (n: string) => outer.find((e) => e.name === n)!;
  const control = readTar(get('./control.tar.gz').data);
  const data = readTar(get('./data.tar.gz').data);
  const file = (entries: TarEntry[], n: string) => {
    const e = entries.find((x) => x.name === n);
    assert.ok(e, `missing ${n} in ${path}`);
    return e!;
  };
  return { outer, control, data, get, file };
}

// What include/package-pack.mk writes into every package (with default_postinst/prerm).
const OPENWRT_POSTINST = `#!/bin/sh
[ "\${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s \${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. \${IPKG_INSTROOT}/lib/functions.sh
default_postinst $0 $@
`;
const OPENWRT_PRERM = `#!/bin/sh
[ -s \${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. \${IPKG_INSTROOT}/lib/functions.sh
default_prerm $0 $@
`;
const FIELD_ORDER = ['Package', 'Version', 'Depends', 'Conflicts', 'Provides', 'Source', 'SourceName', 'License', 'LicenseFiles', 'Section', 'Require-User', 'SourceDateEpoch', 'URL', 'Maintainer', 'Architecture', 'Installed-Size', 'Description'];

function parseControl(text: string): [string, string][] {
  const fields: [string, string][] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith(' ')) {
      fields[fields.length - 1]![1] += '\n' + line;
      continue;
    }
    const m = /^([A-Za-z-]+): (.*)$/.exec(line);
    assert.ok(m, `control line is not "Field: value": ${JSON.stringify(line)}`);
    fields.push([m![1]!, m![2]!]);
  }
  return fields;
}

function checkCommon(path: string, name: string) {
  const { outer, control, data, get, file } = open(path);
  assert.is(path.split('/').pop(), `${name}_${pkgVersion}-r1_all.ipk`);
  assert.equal(outer.map((e) => e.name), ['./debian-binary', './data.tar.gz', './control.tar.gz'], 'outer members in ipkg-build order');
  for (const e of [...outer, ...control, ...data]) {
    assert.is(e.uid, 0, `${e.name} uid`);
    assert.is(e.gid, 0, `${e.name} gid`);
    assert.is(e.mtime, EPOCH, `${e.name} mtime`);
    assert.is(e.magic, 'ustar  \0', `${e.name}: GNU tar format`);
    assert.ok(e.type === 'file' || e.type === 'dir', `${e.name}: only files and directories`);
  }
  for (const e of outer) assert.is(e.mode, 0o644, e.name);
  assert.is(get('./debian-binary').data.toString(), '2.0\n');
  // gzip -n: no name, mtime 0 in every gzip header.
  for (const gz of [readFileSync(path), get('./data.tar.gz').data, get('./control.tar.gz').data]) {
    assert.equal([...gz.subarray(0, 3)], [0x1f, 0x8b, 8]);
    assert.is(gz.readUInt32LE(4), 0, 'gzip mtime');
    assert.is(gz[3]! & 0x08, 0, 'gzip FNAME flag');
  }

  const ctl = file(control, './control').data.toString('utf8');
  const fields = parseControl(ctl);
  const keys = fields.map(([k]) => k);
  const positions = keys.map((k) => FIELD_ORDER.indexOf(k));
  assert.ok(positions.every((p) => p >= 0), `unknown fields in ${keys}`);
  assert.equal(positions, [...positions].sort((a, b) => a - b), `fields out of OpenWrt's order: ${keys}`);
  const f = Object.fromEntries(fields);
  assert.is(f.Package, name);
  assert.is(f.Version, `${pkgVersion}-r1`);
  assert.is(f.Architecture, 'all');
  assert.is(f.SourceDateEpoch, String(EPOCH));
  assert.is(f.License, 'GPL-2.0-only');
  assert.is(f.LicenseFiles, 'LICENSE');
  assert.ok(existsSync(join(ROOT, 'LICENSE')), 'LicenseFiles names a file in the source tree');
  assert.match(f.Maintainer!, /^[^<>]+ <[^<>@\s]+@[^<>@\s]+>$/, 'Maintainer: Name <address>');
  assert.match(f.URL!, /^https:\/\//);
  assert.is(Number(f['Installed-Size']), gunzipSync(get('./data.tar.gz').data).length, 'Installed-Size = bytes of the data tar');
  assert.ok(ctl.includes('\nDescription:  '), 'Description as package-pack.mk writes it (two spaces)');
  assert.ok(ctl.endsWith('\n'));
  assert.is(file(control, './control').mode, 0o644);
  assert.is(file(control, './postinst').data.toString(), OPENWRT_POSTINST);
  assert.is(file(control, './prerm').data.toString(), OPENWRT_PRERM);
  assert.is(file(control, './postinst').mode, 0o755);
  assert.is(file(control, './prerm').mode, 0o755);
  for (const e of data.filter((x) => x.type === 'dir')) assert.is(e.mode, 0o755, e.name);
  // --sort=name: within the archive, names come in byte order of their paths' components.
  const names = data.map((e) => e.name.replace(/\/$/, ''));
  assert.equal(names, [...names].sort((a, b) => (a.split('/').join('\0') < b.split('/').join('\0') ? -1 : 1)));
  return { f, control, data, file };
}

const ELF_MACHINE: Record<string, number> = { x64: 62, ia32: 3, arm64: 183, arm: 40, mipsel: 8 };

test('agent ipk: control, conffiles, scripts and every file with its mode', () => {
  const { f, control, data, file } = checkCommon(agentIpk.path, 'x0tta6bl4');
  // As package-pack.mk writes DEPENDS:=+node +kmod-batman-adv with EXTRA_DEPENDS:=node (>= 18.20).
  assert.is(f.Depends, 'node (>= 18.20), libc, node, kmod-batman-adv');
  assert.is(f.Section, 'net');
  assert.is(f['Require-User'], 'x0tta6bl4=470:x0tta6bl4=470', 'a fixed uid/gid, as mosquitto (200) does');
  assert.equal(control.map((e) => e.name), ['./', './conffiles', './control', './postinst', './postinst-pkg', './postrm', './prerm']);
  assert.match(file(control, './postrm').data.toString(), /^#!\/bin\/sh\n/);
  // ubusd loads the agent's ubus ACL only on SIGHUP (test/router shows the refusal without it).
  assert.match(file(control, './postinst-pkg').data.toString(), /killall -HUP ubusd/);
  assert.is(file(control, './conffiles').data.toString(), '/etc/config/x0tta6bl4\n');

  const files = Object.fromEntries(data.filter((e) => e.type === 'file').map((e) => [e.name, e]));
  const expected: Record<string, number> = {
    './etc/capabilities/x0tta6bl4.json': 0o644,
    './etc/config/x0tta6bl4': 0o600,
    './etc/init.d/x0tta6bl4': 0o755,
    './etc/uci-defaults/90-x0tta6bl4-board': 0o755,
    './lib/upgrade/keep.d/x0tta6bl4': 0o644,
    './usr/bin/x0tta6bl4': 0o755,
    './usr/lib/x0tta6bl4/x0tta6bl4.mjs': 0o644,
    './usr/share/acl.d/x0tta6bl4.json': 0o644,
    './usr/share/x0tta6bl4/board-defaults': 0o644,
    './usr/share/x0tta6bl4/board-profiles': 0o644,
  };
  const wasm = join(DIST, 'core.wasm');
  if (ci) assert.ok(existsSync(wasm), 'CI builds the WASM core: it must be in the package');
  if (existsSync(wasm)) expected['./usr/lib/x0tta6bl4/core.wasm'] = 0o644;
  const scalarWasm = join(DIST, 'core-scalar.wasm');
  if (ci) assert.ok(existsSync(scalarWasm), 'CI builds the scalar WASM core: it must be in the package');
  if (existsSync(scalarWasm)) expected['./usr/lib/x0tta6bl4/core-scalar.wasm'] = 0o644;
  for (const arch of Object.keys(ELF_MACHINE)) {
    const b = join(DIST, 'native', `x0tta6bl4-nlbridge-${arch}`);
    if (ci) assert.ok(existsSync(b), `CI builds the ${arch} bridge: it must be in the package`);
    if (existsSync(b)) expected[`./usr/lib/x0tta6bl4/native/x0tta6bl4-nlbridge-${arch}`] = 0o755;
  }
  assert.equal(Object.keys(files).sort(), Object.keys(expected).sort());
  for (const [n, mode] of Object.entries(expected)) assert.is(files[n]!.mode, mode, `${n} mode`);

  // Content: the build outputs byte for byte, the bridges really for the arch in their name.
  const same = (entry: string, src: string) => {
    assert.is(files[entry]!.size, statSync(src).size, `${entry} size`);
    assert.is(sha(files[entry]!.data), sha(readFileSync(src)), `${entry} content`);
  };
  same('./usr/lib/x0tta6bl4/x0tta6bl4.mjs', join(DIST, 'x0tta6bl4.mjs'));
  if (files['./usr/lib/x0tta6bl4/core.wasm']) {
    same('./usr/lib/x0tta6bl4/core.wasm', wasm);
    assert.equal([...files['./usr/lib/x0tta6bl4/core.wasm']!.data.subarray(0, 4)], [0, 0x61, 0x73, 0x6d], 'wasm magic');
  }
  if (files['./usr/lib/x0tta6bl4/core-scalar.wasm']) same('./usr/lib/x0tta6bl4/core-scalar.wasm', scalarWasm);
  for (const [arch, machine] of Object.entries(ELF_MACHINE)) {
    const e = files[`./usr/lib/x0tta6bl4/native/x0tta6bl4-nlbridge-${arch}`];
    if (!e) continue;
    same(e.name, join(DIST, 'native', `x0tta6bl4-nlbridge-${arch}`));
    assert.is(e.data.subarray(0, 4).toString('latin1'), '\x7fELF');
    assert.is(e.data.readUInt16LE(18), machine, `${arch} bridge ELF e_machine`);
  }
  same('./etc/init.d/x0tta6bl4', join(FILES, 'x0tta6bl4.init'));
  same('./usr/bin/x0tta6bl4', join(FILES, 'x0tta6bl4.wrapper'));
  same('./etc/config/x0tta6bl4', join(FILES, 'x0tta6bl4.config'));
  same('./etc/capabilities/x0tta6bl4.json', join(FILES, 'x0tta6bl4.capabilities.json'));
  same('./usr/share/acl.d/x0tta6bl4.json', join(FILES, 'x0tta6bl4.ubus-acl.json'));
  assert.equal(files['./lib/upgrade/keep.d/x0tta6bl4']!.data.toString().trim().split('\n'), ['/etc/config/x0tta6bl4', '/etc/x0tta6bl4/']);
  const boards = loadBoardConfigs();
  assert.is(files['./usr/share/x0tta6bl4/board-profiles']!.data.toString(), boardProfileTable(boards));
  assert.is(files['./usr/share/x0tta6bl4/board-defaults']!.data.toString(), boardDefaultsTable(boards));
  assert.match(files['./etc/init.d/x0tta6bl4']!.data.toString(), /^#!\/bin\/sh \/etc\/rc.common\n/);
});

test('luci ipk: control, the rpcd reload script, view, menu, ACL and the exec plugin', () => {
  const { f, control, data, file } = checkCommon(luciIpk.path, 'luci-app-x0tta6bl4');
  assert.is(f.Depends, 'libc, x0tta6bl4, luci-base, rpcd');
  assert.is(f.Section, 'luci');
  assert.equal(control.map((e) => e.name), ['./', './control', './postinst', './postinst-pkg', './postrm', './prerm']);
  const pkgScript = file(control, './postinst-pkg');
  assert.is(pkgScript.mode, 0o755);
  assert.match(pkgScript.data.toString(), /\/etc\/init.d\/rpcd reload/);
  assert.match(pkgScript.data.toString(), /IPKG_INSTROOT/, 'does nothing during an image build');

  const files = Object.fromEntries(data.filter((e) => e.type === 'file').map((e) => [e.name, e.mode]));
  assert.equal(files, {
    './usr/libexec/rpcd/luci.x0tta6bl4': 0o755,
    './usr/share/luci/menu.d/luci-app-x0tta6bl4.json': 0o644,
    './usr/share/rpcd/acl.d/luci-app-x0tta6bl4.json': 0o644,
    './www/luci-static/resources/view/x0tta6bl4/status.js': 0o644,
  });
  const menu = JSON.parse(file(data, './usr/share/luci/menu.d/luci-app-x0tta6bl4.json').data.toString());
  const entry = menu['admin/status/x0tta6bl4'];
  assert.is(entry.action.type, 'view');
  assert.ok(data.some((e) => e.name === `./www/luci-static/resources/view/${entry.action.path}.js`), 'menu points at the shipped view');
  assert.equal(entry.depends.acl, ['luci-app-x0tta6bl4']);
  const acl = JSON.parse(file(data, './usr/share/rpcd/acl.d/luci-app-x0tta6bl4.json').data.toString());
  assert.ok(acl['luci-app-x0tta6bl4'].read.ubus['luci.x0tta6bl4'].includes('status'));
  assert.match(file(data, './usr/libexec/rpcd/luci.x0tta6bl4').data.toString(), /^#!\/usr\/bin\/env node\n/);
});

test('same SOURCE_DATE_EPOCH gives the same bytes; another epoch gives other bytes', () => {
  const again = buildIpks(EPOCH);
  const later = buildIpks(EPOCH + 86400);
  try {
    for (let i = 0; i < 2; i++) {
      const a = readFileSync(built.packages[i]!.path);
      assert.is(sha(readFileSync(again.packages[i]!.path)), sha(a), `${built.packages[i]!.path} rebuilt identically`);
      assert.is.not(sha(readFileSync(later.packages[i]!.path)), sha(a));
    }
    assert.match(open(later.packages[0].path).file(open(later.packages[0].path).control, './control').data.toString(), new RegExp(`SourceDateEpoch: ${EPOCH + 86400}`));
  } finally {
    rmSync(again.dir, { recursive: true, force: true });
    rmSync(later.dir, { recursive: true, force: true });
  }
});

test('busybox tar (what opkg\'s unarchiver descends from) unpacks both levels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'x0-bb-'));
  try {
    for (const p of built.packages) {
      const r = spawnSync('busybox', ['tar', '-xzf', p.path, '-C', dir], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      const listing = spawnSync('busybox', ['tar', '-tzf', join(dir, 'data.tar.gz')], { encoding: 'utf8' });
      assert.is(listing.status, 0, listing.stderr);
      assert.ok(listing.stdout.split('\n').length > 4);
      const ctl = spawnSync('busybox', ['tar', '-xzOf', join(dir, 'control.tar.gz'), './control'], { encoding: 'utf8' });
      assert.match(ctl.stdout, /^Package: /);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run package writes both ipks to dist/ and reports the sizes', () => {
  // Without apk-tools 3 (APK names nothing runnable): the ipks only, and a line saying why; an
  // .apk of the same version left from an earlier run is removed.
  writeFileSync(join(DIST, `x0tta6bl4-${pkgVersion}-r1.apk`), 'stale');
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/package.mjs')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH), APK: '/nonexistent/apk' } });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /no \.apk \(OpenWrt 25\.12\) built: APK=\/nonexistent\/apk does not run/);
  assert.not.ok(existsSync(join(DIST, `x0tta6bl4-${pkgVersion}-r1.apk`)), 'stale .apk removed');
  // Built again right away from the same dist/ (other engineers may rebuild it meanwhile).
  const fresh = buildIpks(EPOCH);
  try {
    for (const [i, n] of ['x0tta6bl4', 'luci-app-x0tta6bl4'].entries()) {
      const p = join(DIST, `${n}_${pkgVersion}-r1_all.ipk`);
      assert.ok(existsSync(p), p);
      assert.is(sha(readFileSync(p)), sha(readFileSync(fresh.packages[i]!.path)), `${n}: dist/ copy equals the test build`);
    }
  } finally {
    rmSync(fresh.dir, { recursive: true, force: true });
  }
  // Everything the feed Makefile's Build/Prepare takes from dist/ (PREBUILT) is there.
  const mk = readFileSync(join(ROOT, 'openwrt/x0tta6bl4/Makefile'), 'utf8');
  const prebuilt = /^PREBUILT:=(.*)$/m.exec(mk)![1]!.trim().split(/\s+/);
  assert.equal(prebuilt, ['x0tta6bl4.mjs', 'core.wasm', 'core-scalar.wasm', 'board-profiles', 'board-defaults']);
  for (const f of prebuilt) assert.ok(existsSync(join(DIST, f)), `dist/${f} for the feed build`);
  assert.is(readFileSync(join(DIST, 'board-profiles'), 'utf8'), boardProfileTable(loadBoardConfigs()));
  assert.match(r.stdout, /x0tta6bl4\.ipk\s+\d+/);
  assert.match(r.stdout, /nlbridge-arm64\s+\d+/);
  const bad = spawnSync(process.execPath, [join(ROOT, 'scripts/package.mjs')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: 'yesterday' } });
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /SOURCE_DATE_EPOCH must be whole seconds/);
});

// The goal: the agent ipk within 400 KB of flash. The bundle keeps it there by using
// Node's own stream and crypto instead of browser/WASM copies (scripts/build-bundle.mjs); a
// dependency pulled in by accident shows up here.
test('the agent ipk stays within the 400 KB goal', () => {
  console.log(`sizes: ${JSON.stringify(built.sizes)}`);
  assert.ok(agentIpk.size <= 400 * 1024, `agent ipk is ${(agentIpk.size / 1024).toFixed(1)} KB`);
});

// The feed Makefiles must install what `npm run package` packs (bridges: one per target there).
test('the feed Makefiles install the same files as the ipks', () => {
  const mk = readFileSync(join(ROOT, 'openwrt/x0tta6bl4/Makefile'), 'utf8');
  const install = /define Package\/x0tta6bl4\/install\n([\s\S]*?)\nendef/.exec(mk)![1]!.replace(/\\\n/g, ' ');
  const dests = [...install.matchAll(/\$\(INSTALL_(?:DATA|BIN|CONF)\)\s+\S+\s+\$\(1\)(\S+)/g)].map((m) => '.' + m[1]!);
  const agentFiles = open(agentIpk.path).data.filter((e) => e.type === 'file').map((e) => e.name);
  const norm = (n: string) => n.replace(/x0tta6bl4-nlbridge-(\$\(NODE_ARCH\)|x64|ia32|arm64|arm|mipsel)$/, 'x0tta6bl4-nlbridge-ARCH');
  assert.equal([...new Set(dests.map(norm))].sort(), [...new Set(agentFiles.map(norm))].sort());
  assert.match(mk, /define Package\/x0tta6bl4\/conffiles\n\/etc\/config\/x0tta6bl4\nendef/);
  assert.match(mk, /USERID:=x0tta6bl4=470:x0tta6bl4=470\n/);
  assert.match(mk, /DEPENDS:=@HAS_FPU @\(aarch64\|\|arm\|\|i386\|\|x86_64\|\|mipsel\) \+node \+kmod-batman-adv\n/);
  assert.match(mk, /EXTRA_DEPENDS:=node \(>= 18\.20\)\n/);
  for (const k of ['PKG_MAINTAINER', 'PKG_LICENSE_FILES', 'PKG_URL']) assert.match(mk, new RegExp(`^${k}:=\\S`, 'm'), k);
  // The compile step must not need the network: no npm, no node, only the target compiler.
  for (const step of ['Build/Prepare', 'Build/Compile']) {
    // Quoted text (the message naming npm for the developer) is not a command.
    const body = new RegExp(`define ${step}\\n([\\s\\S]*?)\\nendef`).exec(mk)![1]!.replace(/"[^"]*"/g, '""');
    assert.not.match(body, /\b(npm|npx|node|curl|wget|git)\b /, `${step} runs no npm/node/download`);
  }

  // luci.mk installs htdocs/ under /www and root/ under /.
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  const fromTree = [
    ...walk(join(LUCI, 'htdocs')).map((p) => './www/' + relative(join(LUCI, 'htdocs'), p)),
    ...walk(join(LUCI, 'root')).map((p) => './' + relative(join(LUCI, 'root'), p)),
  ].sort();
  assert.equal(open(luciIpk.path).data.filter((e) => e.type === 'file').map((e) => e.name).sort(), fromTree);
  assert.is(statSync(join(LUCI, 'root/usr/libexec/rpcd/luci.x0tta6bl4')).mode & 0o777, 0o755, 'luci.mk keeps modes (cp -p)');
  const luciMk = readFileSync(join(LUCI, 'Makefile'), 'utf8');
  assert.match(luciMk, /LUCI_DEPENDS:=\+x0tta6bl4 \+luci-base \+rpcd/);
  // luci.mk would make a git-date version and name the LuCI community as maintainer and URL.
  for (const k of ['PKG_VERSION', 'PKG_MAINTAINER', 'PKG_LICENSE_FILES', 'LUCI_MAINTAINER', 'LUCI_URL']) assert.match(luciMk, new RegExp(`^${k}:=\\S`, 'm'), k);
  assert.match(luciMk, /include \$\(TOPDIR\)\/feeds\/luci\/luci.mk/);
});

test.after(() => rmSync(built.dir, { recursive: true, force: true }));
test.run();
