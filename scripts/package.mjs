#!/usr/bin/env node
// npm run package: builds dist/x0tta6bl4_<version>_all.ipk and dist/luci-app-x0tta6bl4_<version>_all.ipk
// in the format OpenWrt's scripts/ipkg-build writes and opkg 24.10 installs: a gzip'd GNU tar
// of ./debian-binary, ./data.tar.gz, ./control.tar.gz; every member owned by 0:0, sorted by
// name, stamped with SOURCE_DATE_EPOCH and compressed with `gzip -n`, so the same sources and
// epoch give the same bytes. The control file follows include/package-pack.mk (field order,
// Installed-Size = bytes of the uncompressed data tar, postinst/prerm calling
// default_postinst/default_prerm). The feed Makefiles under openwrt/ build the same packages
// inside an OpenWrt SDK; this script is for building without one.
//
// Architecture "all": node and the WASM core are portable, and all five netlink bridges ship
// (x64, ia32, arm64, arm, mipsel; 7-11 KB each), so one package serves every target Node runs on.
// Metadata and maintainer scripts come from the feed Makefiles (scripts/package-meta.mjs).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { boardProfileTable, boardDefaultsTable, loadBoardConfigs } from '../board-configs/load.mjs';
import { agentMeta, luciMeta } from './package-meta.mjs';
import { buildApk, findApkTools } from './package-apk.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const OPENWRT = join(ROOT, 'openwrt');
export const PKG_RELEASE = 1;
export const BRIDGE_ARCHES = ['x64', 'ia32', 'arm64', 'arm', 'mipsel'];

export class PackageError extends Error {
  name = 'PackageError';
}

/** "<package.json version>-r<release>", the form OpenWrt 24.10 gives PKG_VERSION-rPKG_RELEASE. */
export function packageVersion(root = ROOT) {
  const v = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  if (typeof v !== 'string' || !/^[0-9][0-9A-Za-z.+~]*$/.test(v)) throw new PackageError(`package.json version '${v}' is not usable in an ipk name`);
  return `${v}-r${PKG_RELEASE}`;
}

/** SOURCE_DATE_EPOCH from the environment, else the last commit's time: reproducible per commit. */
export function sourceDateEpoch(env = process.env) {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw !== undefined && raw !== '') {
    if (!/^\d{1,12}$/.test(raw)) throw new PackageError(`SOURCE_DATE_EPOCH must be whole seconds since 1970 (got '${raw}')`);
    return Number(raw);
  }
  const git = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' });
  const t = Number(git.stdout?.trim());
  if (git.status === 0 && Number.isInteger(t) && t > 0) return t;
  throw new PackageError('no SOURCE_DATE_EPOCH and no git commit to take the time from; set SOURCE_DATE_EPOCH');
}

// OpenWrt's control field order (include/package-pack.mk); absent fields are left out.
const FIELD_ORDER = [
  'Package', 'Version', 'Depends', 'Conflicts', 'Provides', 'Source', 'SourceName', 'License', 'LicenseFiles',
  'Section', 'Require-User', 'SourceDateEpoch', 'URL', 'Maintainer', 'Architecture', 'Installed-Size',
];

/** The control file: fields in OpenWrt's order, then "Description: " with each line indented by one space. */
export function controlText(fields, description) {
  for (const k of Object.keys(fields)) if (!FIELD_ORDER.includes(k)) throw new PackageError(`unknown control field ${k}`);
  const lines = [];
  for (const k of FIELD_ORDER) {
    const v = fields[k];
    if (v === undefined || v === '') continue;
    if (/\n/.test(String(v))) throw new PackageError(`control field ${k} must be one line`);
    lines.push(`${k}: ${v}`);
  }
  // package-pack.mk: printf "Description: "; echo "$DESCRIPTION" | sed -e 's,^[[:space:]]*, ,g'
  const desc = description.trim().split('\n').map((l) => ' ' + l.replace(/^\s*/, ''));
  return lines.join('\n') + '\nDescription: ' + desc.join('\n') + '\n';
}

/** package-pack.mk's generated postinst and prerm. */
export const POSTINST =
  '#!/bin/sh\n' +
  '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n' +
  '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n' +
  '. ${IPKG_INSTROOT}/lib/functions.sh\n' +
  'default_postinst $0 $@\n';
export const PRERM =
  '#!/bin/sh\n' +
  '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n' +
  '. ${IPKG_INSTROOT}/lib/functions.sh\n' +
  'default_prerm $0 $@\n';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) throw new PackageError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new PackageError(`${cmd} ${args.join(' ')} failed: ${String(r.stderr).trim()}`);
  return r.stdout;
}

// ipkg-build's tar: GNU format, numeric owner 0:0, sorted names, one fixed mtime.
function tarGz(cwd, members, epoch) {
  const tar = run('tar', ['--format=gnu', '--numeric-owner', '--owner=0', '--group=0', '--sort=name', `--mtime=@${epoch}`, '-cf', '-', ...members], { cwd });
  return run('gzip', ['-n', '-c'], { input: tar });
}

/** A staging tree: files get explicit modes so that the umask and the checkout do not leak in. */
class Stage {
  constructor(dir) {
    this.dir = dir;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  file(rel, mode, { from, text }) {
    const dest = join(this.dir, rel);
    mkdirSync(dirname(dest), { recursive: true });
    if (from !== undefined) copyFileSync(from, dest);
    else writeFileSync(dest, text);
    chmodSync(dest, mode);
  }
  /** Directories 0755, as ipkg-build leaves them (install -d). */
  fixDirs(dir = this.dir) {
    chmodSync(dir, 0o755);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) this.fixDirs(join(dir, e.name));
  }
}

/** Builds one ipk from a staged data tree and control fields; returns its path and sizes. */
export function buildIpk({ name, version, dataDir, controlFields, description, conffiles = [], scripts = {}, outDir, epoch, workDir }) {
  if (!/^[a-zA-Z0-9_.+-]+$/.test(name)) throw new PackageError(`package name '${name}' has characters opkg refuses`);
  const tmp = join(workDir, `${name}.ipk.d`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });

  const data = tarGz(dataDir, ['.'], epoch);
  const installedSize = gunzipSync(data).length;

  const control = new Stage(join(workDir, `${name}.CONTROL`));
  control.file('control', 0o644, { text: controlText({ ...controlFields, Package: name, Version: version, Architecture: 'all', 'Installed-Size': installedSize, SourceDateEpoch: epoch }, description) });
  if (conffiles.length) {
    for (const c of conffiles) {
      if (!existsSync(join(dataDir, c)) || !statSync(join(dataDir, c)).isFile()) throw new PackageError(`conffile ${c} is not a file in ${name}`);
    }
    control.file('conffiles', 0o644, { text: [...conffiles].sort().join('\n') + '\n' });
  }
  control.file('postinst', 0o755, { text: POSTINST });
  control.file('prerm', 0o755, { text: PRERM });
  for (const [script, text] of Object.entries(scripts)) {
    if (typeof text !== 'string' || !text.startsWith('#!/bin/sh\n')) throw new PackageError(`${name}: script ${script} is missing or has no #!/bin/sh line`);
    control.file(script, 0o755, { text });
  }
  control.fixDirs();

  writeFileSync(join(tmp, 'debian-binary'), '2.0\n');
  writeFileSync(join(tmp, 'data.tar.gz'), data);
  writeFileSync(join(tmp, 'control.tar.gz'), tarGz(control.dir, ['.'], epoch));
  for (const f of ['debian-binary', 'data.tar.gz', 'control.tar.gz']) chmodSync(join(tmp, f), 0o644);
  // Member order as ipkg-build passes them: debian-binary, data, control.
  const ipk = tarGz(tmp, ['./debian-binary', './data.tar.gz', './control.tar.gz'], epoch);
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${name}_${version}_all.ipk`);
  writeFileSync(path, ipk);
  rmSync(tmp, { recursive: true, force: true });
  return { path, size: ipk.length, installedSize };
}

const AGENT_DESCRIPTION = `Self-healing mesh node agent for batman-adv: watches the mesh through the
kernel module, repairs what degrades (with verify and rollback), learns
link-failure prediction with its peers by federated learning, and reports
to a fleet backend over MQTT. Status: x0tta6bl4 status, LuCI, /metrics.`;

const LUCI_DESCRIPTION = `LuCI status page for the x0tta6bl4 mesh agent: node health, neighbours,
originators, link-quality graph, recent findings, actions and rollbacks.`;

/** The agent's data tree from dist/ and openwrt/x0tta6bl4/files; what is not built goes to `missing`. */
function stageAgent(distDir, workDir, boards, missing) {
  const bundle = join(distDir, 'x0tta6bl4.mjs');
  if (!existsSync(bundle)) throw new PackageError(`${relative(ROOT, bundle)} is missing: run npm run build first`);
  const defaultConfig = join(OPENWRT, 'x0tta6bl4/files/x0tta6bl4.config');
  if (!existsSync(defaultConfig)) throw new PackageError(`${relative(ROOT, defaultConfig)} is missing (the default UCI config)`);
  const files = join(OPENWRT, 'x0tta6bl4/files');
  const agent = new Stage(join(workDir, 'x0tta6bl4'));
  agent.file('usr/lib/x0tta6bl4/x0tta6bl4.mjs', 0o644, { from: bundle });
  const wasm = join(distDir, 'core.wasm');
  if (existsSync(wasm)) agent.file('usr/lib/x0tta6bl4/core.wasm', 0o644, { from: wasm });
  else missing.push('dist/core.wasm (the agent falls back to the portable JS core)');
  // the same core without SIMD, for CPUs/Node builds without Wasm SIMD (MIPS): loaded before the JS fallback
  const scalarWasm = join(distDir, 'core-scalar.wasm');
  if (existsSync(scalarWasm)) agent.file('usr/lib/x0tta6bl4/core-scalar.wasm', 0o644, { from: scalarWasm });
  else missing.push('dist/core-scalar.wasm (routers without Wasm SIMD fall back to the portable JS core)');
  for (const arch of BRIDGE_ARCHES) {
    const b = join(distDir, 'native', `x0tta6bl4-nlbridge-${arch}`);
    if (existsSync(b)) agent.file(`usr/lib/x0tta6bl4/native/x0tta6bl4-nlbridge-${arch}`, 0o755, { from: b });
    else missing.push(`dist/native/x0tta6bl4-nlbridge-${arch}`);
  }
  agent.file('usr/bin/x0tta6bl4', 0o755, { from: join(files, 'x0tta6bl4.wrapper') });
  agent.file('etc/init.d/x0tta6bl4', 0o755, { from: join(files, 'x0tta6bl4.init') });
  // 0600: the config can hold the MQTT password.
  agent.file('etc/config/x0tta6bl4', 0o600, { from: defaultConfig });
  agent.file('etc/uci-defaults/90-x0tta6bl4-board', 0o755, { from: join(files, 'x0tta6bl4.uci-defaults') });
  agent.file('lib/upgrade/keep.d/x0tta6bl4', 0o644, { from: join(files, 'x0tta6bl4.keep') });
  // Privilege drop: ujail's capability sets for the agent, and the ubus calls its user may make
  // (ubusd loads /usr/share/acl.d/*.json only when owned by root and not group/world-writable).
  agent.file('etc/capabilities/x0tta6bl4.json', 0o644, { from: join(files, 'x0tta6bl4.capabilities.json') });
  agent.file('usr/share/acl.d/x0tta6bl4.json', 0o644, { from: join(files, 'x0tta6bl4.ubus-acl.json') });
  agent.file('usr/share/x0tta6bl4/board-profiles', 0o644, { text: boardProfileTable(boards) });
  agent.file('usr/share/x0tta6bl4/board-defaults', 0o644, { text: boardDefaultsTable(boards) });
  agent.fixDirs();
  return { dir: agent.dir, bundle, wasm, scalarWasm };
}

/** The LuCI app's data tree, laid out as luci.mk installs htdocs/ and root/. */
function stageLuci(workDir) {
  const luciSrc = join(OPENWRT, 'luci-app-x0tta6bl4');
  const luci = new Stage(join(workDir, 'luci-app-x0tta6bl4'));
  luci.file('www/luci-static/resources/view/x0tta6bl4/status.js', 0o644, { from: join(luciSrc, 'htdocs/luci-static/resources/view/x0tta6bl4/status.js') });
  luci.file('usr/share/luci/menu.d/luci-app-x0tta6bl4.json', 0o644, { from: join(luciSrc, 'root/usr/share/luci/menu.d/luci-app-x0tta6bl4.json') });
  luci.file('usr/share/rpcd/acl.d/luci-app-x0tta6bl4.json', 0o644, { from: join(luciSrc, 'root/usr/share/rpcd/acl.d/luci-app-x0tta6bl4.json') });
  luci.file('usr/libexec/rpcd/luci.x0tta6bl4', 0o755, { from: join(luciSrc, 'root/usr/libexec/rpcd/luci.x0tta6bl4') });
  luci.fixDirs();
  return { dir: luci.dir };
}

/** Stages and builds both packages (ipk, and apk when apk-tools 3 is found); returns what it built and what it left out. */
export function buildPackages({ distDir = join(ROOT, 'dist'), outDir = distDir, workDir = join(ROOT, 'build', 'ipk'), epoch = sourceDateEpoch(), version = packageVersion(), apkTools = findApkTools() } = {}) {
  const boards = loadBoardConfigs();
  const missing = [];
  const agent = stageAgent(distDir, workDir, boards, missing);
  const { bundle, wasm, scalarWasm } = agent;
  const luci = stageLuci(workDir);

  // Metadata and scripts as the feed Makefiles declare them (scripts/package-meta.mjs).
  const agentM = agentMeta();
  const luciM = luciMeta();
  const fields = (m) => ({ License: m.license, LicenseFiles: m.licenseFiles, Section: m.section, URL: m.url, Maintainer: m.maintainer });
  const agentIpk = buildIpk({
    name: 'x0tta6bl4',
    version,
    dataDir: agent.dir,
    controlFields: { ...fields(agentM), Depends: agentM.depends, Source: 'openwrt/x0tta6bl4', SourceName: 'x0tta6bl4', 'Require-User': agentM.userid },
    description: AGENT_DESCRIPTION,
    conffiles: ['/etc/config/x0tta6bl4'],
    scripts: { 'postinst-pkg': agentM.postinstPkg, postrm: agentM.postrm },
    outDir,
    epoch,
    workDir,
  });
  const luciIpk = buildIpk({
    name: 'luci-app-x0tta6bl4',
    version,
    dataDir: luci.dir,
    controlFields: { ...fields(luciM), Depends: luciM.depends, Source: 'openwrt/luci-app-x0tta6bl4', SourceName: 'luci-app-x0tta6bl4' },
    description: LUCI_DESCRIPTION,
    scripts: { 'postinst-pkg': luciM.postinstPkg, postrm: luciM.postrm },
    outDir,
    epoch,
    workDir,
  });
  // The same trees as apk v3 packages for OpenWrt 25.12, when apk-tools 3 is at hand.
  const apks = [];
  if (apkTools.apk) {
    const apkOf = (name, dataDir, m, description, conffiles, own) =>
      buildApk({ apk: apkTools.apk, name, version, dataDir, meta: m, description, conffiles, own, outDir, epoch, workDir });
    apks.push(apkOf('x0tta6bl4', agent.dir, agentM, AGENT_DESCRIPTION, ['/etc/config/x0tta6bl4'], { postinstPkg: agentM.postinstPkg, postrm: agentM.postrm }));
    apks.push(apkOf('luci-app-x0tta6bl4', luci.dir, luciM, LUCI_DESCRIPTION, [], { postinstPkg: luciM.postinstPkg, postrm: luciM.postrm }));
  } else {
    // An .apk of this version from an earlier run would no longer match the ipks.
    for (const n of ['x0tta6bl4', 'luci-app-x0tta6bl4']) rmSync(join(outDir, `${n}-${version}.apk`), { force: true });
  }
  // The feed Makefile's compile step takes these from dist/ instead of running node there.
  writeFileSync(join(outDir, 'board-profiles'), boardProfileTable(boards));
  writeFileSync(join(outDir, 'board-defaults'), boardDefaultsTable(boards));

  const sizeOf = (p) => (existsSync(p) ? statSync(p).size : null);
  return {
    version,
    epoch,
    packages: [agentIpk, luciIpk],
    apks,
    apkMissing: apkTools.apk ? null : apkTools.reason,
    missing,
    sizes: {
      'x0tta6bl4.ipk': agentIpk.size,
      'luci-app-x0tta6bl4.ipk': luciIpk.size,
      'x0tta6bl4.mjs': sizeOf(bundle),
      'core.wasm': sizeOf(wasm),
      'core-scalar.wasm': sizeOf(scalarWasm),
      ...Object.fromEntries(BRIDGE_ARCHES.map((a) => [`nlbridge-${a}`, sizeOf(join(distDir, 'native', `x0tta6bl4-nlbridge-${a}`))])),
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const r = buildPackages();
    for (const m of r.missing) console.error(`package: not included, not built: ${m}`);
    for (const p of r.packages) console.log(`${relative(process.cwd(), p.path)}  ${p.size} bytes (installed ${p.installedSize})`);
    for (const p of r.apks) console.log(`${relative(process.cwd(), p.path)}  ${p.size} bytes`);
    if (r.apkMissing) console.error(`package: no .apk (OpenWrt 25.12) built: ${r.apkMissing}. Build apk-tools 3.0.6 with: node --import tsx test/packaging/apk-tools.ts, then APK=<the path it prints> npm run package`);
    console.log('sizes (bytes):');
    for (const [k, v] of Object.entries(r.sizes)) console.log(`  ${k.padEnd(24)} ${v ?? 'missing'}`);
    const agentKb = r.sizes['x0tta6bl4.ipk'] / 1024;
    console.log(`agent ipk ${agentKb.toFixed(1)} KB of the 400 KB goal${agentKb > 400 ? ' — OVER' : ''}; SOURCE_DATE_EPOCH=${r.epoch}`);
  } catch (e) {
    console.error(`package: ${e.message}`);
    process.exit(1);
  }
}
