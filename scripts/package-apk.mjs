// apk v3 packages (OpenWrt 25.12 and later) from the same staged trees as the ipks, made the way
// include/package-pack.mk's CONFIG_USE_APK branch makes them: `apk mkpkg` with the metadata as
// --info, the data tree plus /lib/apk/packages/<pkg>.{list,rusers,conffiles,conffiles_static},
// and the generated post-install / post-upgrade / pre-deinstall scripts around the package's own.
// Needs apk-tools 3 (`apk mkpkg`): $APK, else `apk` on PATH; without it only the ipks are built.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class ApkError extends Error {
  name = 'ApkError';
}

/** apk-tools 3 to build with, or null with the reason: $APK, else `apk` on PATH. */
export function findApkTools(env = process.env) {
  const candidates = env.APK ? [env.APK] : ['apk'];
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) continue;
    if (/apk-tools 3\./.test(r.stdout)) return { apk: c, version: r.stdout.trim() };
    return { apk: null, reason: `${c} is ${r.stdout.trim() || 'not apk-tools'}; apk mkpkg needs apk-tools 3` };
  }
  return { apk: null, reason: env.APK ? `APK=${env.APK} does not run` : 'no apk-tools 3 (apk) on PATH and APK is not set' };
}

/**
 * A --root for `apk mkpkg`, which names file owners through the root's passwd/group: decoys
 * that call this user root (as fakeroot does for OpenWrt), instead of the machine's own files.
 */
export function apkIdRoot(dir) {
  const idRoot = join(dir, 'apk-id-root');
  mkdirSync(join(idRoot, 'etc'), { recursive: true });
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  writeFileSync(join(idRoot, 'etc/passwd'), `root:x:${uid}:${gid}:root:/root:/bin/ash\n`);
  writeFileSync(join(idRoot, 'etc/group'), `root:x:${gid}:\n`);
  return idRoot;
}

const strip = (script) => script.split('\n').filter((l) => !/^\s*#!/.test(l)).join('\n');

/** package-pack.mk's apk scripts for a package, given its own postinst-pkg/prerm-pkg/postrm. */
export function apkScripts(name, { postinstPkg, prermPkg, postrm } = {}) {
  const head = '#!/bin/sh\n';
  const functions = '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\n' + `export root="\${IPKG_INSTROOT}"\nexport pkgname="${name}"\n`;
  const postInstall = head + '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n' + functions + 'add_group_and_user\ndefault_postinst\n' + (postinstPkg ? strip(postinstPkg) : '');
  const scripts = {
    'post-install': postInstall,
    'post-upgrade': head + 'export PKG_UPGRADE=1\n' + strip(postInstall),
    'pre-deinstall': head + functions + 'default_prerm\n' + (prermPkg ? strip(prermPkg) : ''),
  };
  if (postrm) scripts['post-deinstall'] = postrm.replace(/^\s*#!/, '#!');
  return scripts;
}

function walk(dir, rel = '') {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? [r + '/', ...walk(dir, r)] : [r];
  });
}

/** Every path of a tree stamped with the epoch, so that apk mkpkg writes the same bytes again. */
function stamp(dir, epoch) {
  for (const rel of walk(dir)) if (!lstatSync(join(dir, rel)).isSymbolicLink()) utimesSync(join(dir, rel), epoch, epoch);
  utimesSync(dir, epoch, epoch);
}

/**
 * Builds <outDir>/<name>-<version>.apk. meta: { license, url, maintainer, apkDepends, userid? };
 * conffiles: absolute paths; own: the package's own scripts (postinstPkg, postrm).
 */
export function buildApk({ apk, name, version, dataDir, meta, description, conffiles = [], own = {}, outDir, epoch, workDir }) {
  const files = join(workDir, `${name}.apk-files`);
  rmSync(files, { recursive: true, force: true });
  cpSync(dataDir, files, { recursive: true, preserveTimestamps: true });
  const info = join(files, 'lib/apk/packages');
  mkdirSync(info, { recursive: true });
  chmodSync(join(files, 'lib'), 0o755);
  chmodSync(join(files, 'lib/apk'), 0o755);
  chmodSync(info, 0o755);
  if (meta.userid) writeFileSync(join(info, `${name}.rusers`), meta.userid + '\n');
  // The list is taken before the conffiles files are added, as package-pack.mk does.
  const list = walk(files).filter((r) => !r.endsWith('/')).map((r) => '/' + r).sort();
  writeFileSync(join(info, `${name}.list`), list.join('\n') + '\n');
  if (conffiles.length) {
    writeFileSync(join(info, `${name}.conffiles`), conffiles.join('\n') + '\n');
    const sums = conffiles.map((c) => `${c} ${createHash('sha256').update(readFileSync(join(files, c))).digest('hex')}`);
    writeFileSync(join(info, `${name}.conffiles_static`), sums.join('\n') + '\n');
  }
  for (const f of readdirSync(info)) chmodSync(join(info, f), 0o644);

  const scriptDir = join(workDir, `${name}.apk-scripts`);
  rmSync(scriptDir, { recursive: true, force: true });
  mkdirSync(scriptDir, { recursive: true });
  const scriptArgs = [];
  for (const [type, text] of Object.entries(apkScripts(name, own))) {
    writeFileSync(join(scriptDir, type), text, { mode: 0o755 });
    scriptArgs.push('--script', `${type}:${join(scriptDir, type)}`);
  }
  stamp(files, epoch);

  const idRoot = apkIdRoot(workDir);

  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${name}-${version}.apk`);
  const args = [
    '--root', idRoot, 'mkpkg',
    '--info', `name:${name}`,
    '--info', `version:${version}`,
    '--info', `description:${description.replace(/\s+/g, ' ').trim()}`,
    '--info', 'arch:noarch',
    '--info', `license:${meta.license}`,
    '--info', `origin:openwrt/${name}`,
    '--info', `url:${meta.url}`,
    '--info', `maintainer:${meta.maintainer}`,
    ...scriptArgs,
    '--info', `depends:${meta.apkDepends.join(' ')}`,
    '--files', files,
    '--output', out,
  ];
  const r = spawnSync(apk, args, { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) } });
  if (r.error || r.status !== 0) throw new ApkError(`apk mkpkg for ${name} failed: ${r.error?.message ?? r.stderr.trim()}`);
  if (!existsSync(out)) throw new ApkError(`apk mkpkg wrote no ${out}`);
  rmSync(files, { recursive: true, force: true });
  rmSync(scriptDir, { recursive: true, force: true });
  return { path: out, size: readFileSync(out).length };
}
