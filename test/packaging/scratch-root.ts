// A scratch root directory laid out the way opkg installs packages, with just enough of an
// OpenWrt userland to run the packages' scripts under chroot: busybox (Debian's static one)
// for /bin/sh and the applets, the stand-in rc.common/functions.sh/uci from openwrt-shim/,
// and the host's node (hard-linked with its libraries) so the installed agent can run there.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readTar } from './tar-reader.ts';

const SHIM = new URL('./openwrt-shim/', import.meta.url).pathname;
export const CHROOT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

function put(root: string, path: string, mode: number, content: string | Buffer): void {
  const dest = join(root, path);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, content);
  chmodSync(dest, mode);
}

// Same filesystem: a hard link costs nothing; otherwise copy (node is ~100 MB).
function linkOrCopy(src: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
    chmodSync(dest, 0o755);
  }
}

export interface ScratchRootOptions {
  boardName?: string;
  target?: string;
  memTotalKb?: number;
  /** Put a stand-in /sbin/ujail there (procd-ujail installed): the init script then drops root. */
  ujail?: boolean;
}

export function makeScratchRoot(opts: ScratchRootOptions = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'x0-root-'));
  // A root file system's "/" is 0755; mkdtemp's 0700 would lock out the unprivileged agent.
  chmodSync(root, 0o755);
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'lib', 'etc/init.d', 'etc/config', 'tmp/sysinfo', 'var/run', 'dev', 'proc', 'usr/lib/opkg/info'])
    mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);

  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox (Debian busybox-static) is needed for the scratch root');
  linkOrCopy(realpathSync(busybox), join(root, 'bin/busybox'));
  const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of applets) {
    if (['uci', 'node'].includes(a)) continue;
    const dest = join(root, 'bin', a);
    if (!existsSync(dest)) symlinkSync('busybox', dest);
  }
  // /usr/bin/env for the rpcd plugin's "#!/usr/bin/env node".
  symlinkSync('../../bin/busybox', join(root, 'usr/bin/env'));

  // node and the shared libraries it links (ldd), for running the installed agent.
  const node = realpathSync(process.execPath);
  linkOrCopy(node, join(root, 'usr/bin/node'));
  const ldd = spawnSync('ldd', [node], { encoding: 'utf8' }).stdout;
  for (const m of ldd.matchAll(/(\/[^\s)]+)/g)) {
    const lib = m[1]!;
    if (existsSync(lib)) linkOrCopy(realpathSync(lib), join(root, lib));
  }

  // /dev/null as a device where the kernel lets us, else a plain file (redirects still work).
  if (spawnSync('mknod', ['-m', '666', join(root, 'dev/null'), 'c', '1', '3']).status !== 0) put(root, 'dev/null', 0o666, '');

  put(root, 'etc/rc.common', 0o755, readFileSync(join(SHIM, 'rc.common')));
  put(root, 'lib/functions.sh', 0o644, readFileSync(join(SHIM, 'functions.sh')));
  put(root, 'sbin/uci', 0o755, readFileSync(join(SHIM, 'uci')));
  put(root, 'etc/init.d/rpcd', 0o755, readFileSync(join(SHIM, 'rpcd.init')));
  // Never run here (no procd): it only has to exist and be executable, as the init script checks.
  if (opts.ujail !== false) put(root, 'sbin/ujail', 0o755, '#!/bin/sh\necho "ujail stand-in: not for running" >&2\nexit 1\n');
  put(root, 'etc/passwd', 0o644, 'root:x:0:0:root:/root:/bin/ash\n');
  put(root, 'etc/group', 0o644, 'root:x:0:\n');
  put(root, 'usr/lib/opkg/status', 0o644, '');
  if (opts.boardName !== undefined) put(root, 'tmp/sysinfo/board_name', 0o644, opts.boardName + '\n');
  put(root, 'etc/openwrt_release', 0o644, `DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='24.10.0'\nDISTRIB_TARGET='${opts.target ?? 'mediatek/filogic'}'\n`);
  // Not a real /proc: just the file the init script reads for an unknown board.
  put(root, 'proc/meminfo', 0o444, `MemTotal:       ${opts.memTotalKb ?? 500000} kB\nMemFree:        100000 kB\n`);
  return root;
}

/**
 * Installs an ipk the way opkg does: data members into the root, control members into
 * /usr/lib/opkg/info/<pkg>.<name>, the file list into <pkg>.list, a status stanza. Returns the
 * package name. Scripts are not run here (opkg runs postinst afterwards; the tests do that).
 */
export function opkgInstall(root: string, ipkPath: string): string {
  const outer = readTar(readFileSync(ipkPath));
  const member = (n: string) => {
    const e = outer.find((x) => x.name === n);
    if (!e) throw new Error(`${ipkPath}: no ${n}`);
    return e.data;
  };
  const control = readTar(member('./control.tar.gz'));
  const controlText = control.find((e) => e.name === './control')!.data.toString('utf8');
  const pkg = /^Package: (.+)$/m.exec(controlText)![1]!;
  const info = join(root, 'usr/lib/opkg/info');
  for (const e of control) {
    if (e.type !== 'file') continue;
    put(root, `usr/lib/opkg/info/${pkg}.${e.name.replace(/^\.\//, '')}`, e.mode, e.data);
  }
  const listed: string[] = [];
  for (const e of readTar(member('./data.tar.gz'))) {
    const rel = e.name.replace(/^\.\/?/, '');
    if (rel === '') continue;
    const dest = join(root, rel);
    if (e.type === 'dir') {
      mkdirSync(dest, { recursive: true });
      chmodSync(dest, e.mode);
    } else if (e.type === 'symlink') {
      mkdirSync(dirname(dest), { recursive: true });
      symlinkSync(e.linkname, dest);
      listed.push('/' + rel.replace(/\/$/, ''));
    } else if (e.type === 'file') {
      put(root, rel, e.mode, e.data);
      listed.push('/' + rel);
    }
  }
  writeFileSync(join(info, `${pkg}.list`), listed.join('\n') + '\n');
  const keep = (k: string) => /^(Package|Version|Depends|Architecture|Installed-Size):/.test(k);
  appendFileSync(
    join(root, 'usr/lib/opkg/status'),
    controlText.split('\n').filter(keep).join('\n') + '\nStatus: install user installed\n\n',
  );
  return pkg;
}

export function inRoot(
  root: string,
  argv: string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync('chroot', [root, ...argv], {
    encoding: 'utf8',
    input: opts.input ?? '',
    timeout: opts.timeoutMs ?? 60_000,
    env: { PATH: CHROOT_PATH, ...opts.env },
  });
}

/** The recorded procd calls as argument arrays. */
export function procdCalls(root: string, file = 'tmp/procd-calls'): string[][] {
  const p = join(root, file);
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
}
