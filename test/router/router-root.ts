// Assembles a scratch root file system from OpenWrt's userspace as built by openwrt-userspace.ts:
// the OpenWrt binaries at the paths OpenWrt puts them (/sbin/procd, /sbin/ujail, /bin/opkg ...),
// OpenWrt's base shell files (rc.common, functions.sh, procd.sh), Debian's static busybox for
// the applets, glibc and the host's node copied in, and the /etc files a router has. Everything
// here is a decoy made for the test: its passwd/shadow hold a root password set here, never
// the host's.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { VENDOR_DIR } from './openwrt-userspace.ts';
import { etcFiles, NS_INIT } from './router-etc.ts';

/** OpenWrt's path for each built binary (cmake installs them under /usr). */
const OPENWRT_PATHS: Record<string, string> = {
  'sbin/procd': 'usr/sbin/procd',
  'sbin/ujail': 'usr/sbin/ujail',
  'sbin/uxc': 'usr/sbin/uxc',
  'sbin/ubusd': 'usr/sbin/ubusd',
  'sbin/rpcd': 'usr/sbin/rpcd',
  'sbin/udebugd': 'usr/sbin/udebugd',
  'sbin/uci': 'usr/bin/uci',
  'bin/ubus': 'usr/bin/ubus',
  'bin/opkg': 'usr/bin/opkg-cl',
  'usr/sbin/uhttpd': 'usr/bin/uhttpd',
  // procd preloads these into its services (line-buffered stdio; ujail's seccomp filter).
  'lib/libsetlbf.so': 'usr/lib/libsetlbf.so',
  'lib/libpreload-seccomp.so': 'usr/lib/libpreload-seccomp.so',
};

function put(root: string, path: string, mode: number, content: string | Buffer): void {
  const dest = join(root, path);
  mkdirSync(dirname(dest), { recursive: true });
  if (lstatSync(dest, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(dest); // never write through a busybox link
  writeFileSync(dest, content);
  chmodSync(dest, mode);
}

// Same file system: a hard link costs nothing (node is ~100 MB); otherwise copy.
function linkOrCopy(src: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  if (existsSync(dest)) return;
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
    chmodSync(dest, lstatSync(src).mode & 0o7777);
  }
}

function sh(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`router-root: ${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function isElf(path: string): boolean {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.size < 4) return false;
    return readFileSync(path).subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  }
}

function elfFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) elfFiles(p, out);
    else if (isElf(p)) out.push(p);
  }
  return out;
}

/** Copies in the host's shared libraries (glibc, libstdc++ for node, libjson-c ...) the ELF files need. */
function copyHostLibs(root: string): void {
  const need = new Set<string>();
  for (const f of [...elfFiles(join(root, 'usr')), ...elfFiles(join(root, 'sbin'))]) {
    const out = spawnSync('ldd', [f], { encoding: 'utf8' }).stdout ?? '';
    for (const m of out.matchAll(/(?:=>\s*)?(\/[^\s)]+)\s*\(0x/g)) {
      const lib = m[1]!;
      if (!lib.startsWith(root) && existsSync(lib)) need.add(lib);
    }
  }
  for (const lib of need) linkOrCopy(realpathSync(lib), join(root, lib));
}

/** Debian's static busybox and its applet links (never over an OpenWrt binary). */
function installBusybox(root: string): void {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('router-root: busybox (Debian busybox-static) is missing');
  if (spawnSync('ldd', [busybox], { encoding: 'utf8' }).status === 0) throw new Error(`router-root: ${busybox} is not static (Debian busybox-static)`);
  linkOrCopy(realpathSync(busybox), join(root, 'bin/busybox'));
  for (const applet of sh([busybox, '--list-full']).split('\n').filter(Boolean)) {
    const dest = join(root, applet);
    mkdirSync(dirname(dest), { recursive: true });
    if (lstatSync(dest, { throwIfNoEntry: false })) continue;
    symlinkSync('/bin/busybox', dest);
  }
}

export interface RouterRootOptions {
  /** The root password LuCI logs in with (stored as a SHA-512 crypt hash in the decoy /etc/shadow). */
  rootPassword: string;
  /** The port uhttpd listens on (127.0.0.1). */
  httpPort: number;
}

/** Builds the root in a new scratch directory and returns its path. */
export function assembleRouterRoot(userspace: string, opts: RouterRootOptions): string {
  const root = mkdtempSync(join(tmpdir(), 'x0-router-'));
  chmodSync(root, 0o755); // "/" of a system: the unprivileged agent must traverse it
  sh(['cp', '-a', `${userspace}/.`, root]);
  for (const d of ['bin', 'sbin', 'lib', 'usr/bin', 'usr/sbin', 'etc/config', 'etc/init.d', 'etc/rc.d', 'proc', 'sys', 'dev', 'tmp', 'root', 'overlay', 'usr/lib/opkg/info', 'feed'])
    mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  symlinkSync('tmp', join(root, 'var'));
  for (const [at, target] of Object.entries(OPENWRT_PATHS)) {
    if (!existsSync(join(root, target))) throw new Error(`router-root: the build has no /${target}`);
    symlinkSync(`/${target}`, join(root, at));
  }
  sh(['tar', 'xzf', join(VENDOR_DIR, 'basefiles.tar.gz'), '-C', root]);
  installBusybox(root);
  linkOrCopy(realpathSync(process.execPath), join(root, 'usr/bin/node'));
  // procd.sh takes its lock with flock, an applet of OpenWrt's busybox but not of Debian's:
  // util-linux's flock stands in.
  if (!existsSync('/usr/bin/flock')) throw new Error('router-root: /usr/bin/flock (Debian util-linux) is missing');
  linkOrCopy('/usr/bin/flock', join(root, 'usr/bin/flock'));
  copyHostLibs(root);
  // SHA-512 crypt, as OpenWrt's passwd writes it (Debian's busybox has no cryptpw).
  const hash = sh(['openssl', 'passwd', '-6', '-salt', 'x0router', opts.rootPassword]).trim();
  for (const [path, [mode, text]] of Object.entries(etcFiles({ rootHash: hash, httpPort: opts.httpPort }))) put(root, path, mode, text);
  put(root, 'sbin/x0-nsinit', 0o755, NS_INIT);
  return root;
}
