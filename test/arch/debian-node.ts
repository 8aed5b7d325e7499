// Debian's own nodejs for another CPU, fetched with apt into a PRIVATE apt state and unpacked
// into a sysroot, run under qemu-user (`qemu-<arch>-static -L sysroot`). The machine's apt
// sources, dpkg architectures and installed packages stay as they are: apt reads only the
// config file written here (APT_CONFIG), whose Dir::Etc, Dir::State, Dir::Cache and
// APT::Architecture(s) all point at this target's own directory, and its one source is
// deb.debian.org <suite> main, Signed-By the machine's Debian archive keyring.
//
// The package list is what apt resolves for `nodejs` against an empty dpkg status (a simulated
// install), not a list kept here. The sysroot is cached under
// $XDG_CACHE_HOME/x0tta6bl4/arch/<suite>-<arch>/<key>, the key being a hash of those package
// versions; a cached sysroot is reused for two weeks (or until X0TTA6BL4_ARCH_REFRESH=1) without
// asking the network. Debian's node opens its bundled built-ins (acorn, undici...) under
// /usr/share/nodejs: qemu's -L finds them in the sysroot first, so no mount is needed here
// (the amd64 Node 18 in test/runtime/node18.ts runs natively and needs an overlay instead).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type Suite = 'bookworm' | 'trixie';
export type DebArch = 'amd64' | 'arm64' | 'armhf' | 'mipsel';

/** qemu-user binary per Debian arch (Debian package qemu-user-static); none for amd64. */
export const QEMU_USER: Record<DebArch, string | null> = {
  amd64: null,
  arm64: 'qemu-aarch64-static',
  armhf: 'qemu-arm-static',
  mipsel: 'qemu-mipsel-static',
};

export interface DebianNode {
  /** An executable that runs this node: `node ARGS...` (a wrapper around qemu-user). */
  node: string;
  /** The unpacked packages. */
  root: string;
  /** `nodejs` package version, e.g. 18.20.4+dfsg-1~deb12u2. */
  version: string;
  /** The packages unpacked, name=version. */
  packages: string[];
  /** Whether this call used the network (apt-get update / download) or the cache only. */
  fetched: boolean;
}

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const REUSE_MS = 14 * 24 * 3600_000;

function cacheBase(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'x0tta6bl4', 'arch');
}

function run(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { ok: boolean; out: string; stdout: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env, encoding: 'utf8', timeout: 600_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || String(r.error ?? '');
  return { ok: r.status === 0, out, stdout: r.stdout ?? '' };
}

/** Writes the private apt config for one suite+arch; returns the env that makes apt use it. */
function aptEnv(dir: string, suite: Suite, arch: DebArch): NodeJS.ProcessEnv {
  for (const d of ['etc/apt.conf.d', 'etc/preferences.d', 'etc/sources.list.d', 'etc/trusted.gpg.d', 'state/lists/partial', 'cache/archives/partial'])
    mkdirSync(join(dir, d), { recursive: true });
  // An empty dpkg status: the simulated install resolves every dependency, down to libc6.
  writeFileSync(join(dir, 'state', 'status'), '');
  writeFileSync(join(dir, 'etc', 'sources.list'), `deb [signed-by=${KEYRING}] http://deb.debian.org/debian ${suite} main\n`);
  const conf = [
    `Dir::Etc "${dir}/etc/";`,
    'Dir::Etc::SourceList "sources.list";',
    'Dir::Etc::SourceParts "sources.list.d";',
    // Not the machine's apt.conf.d: its hooks (appstream, docker-clean) and pins stay out.
    'Dir::Etc::Parts "apt.conf.d";',
    'Dir::Etc::Preferences "preferences";',
    'Dir::Etc::PreferencesParts "preferences.d";',
    'Dir::Etc::TrustedParts "trusted.gpg.d";',
    `Dir::State "${dir}/state/";`,
    `Dir::State::status "${dir}/state/status";`,
    `Dir::Cache "${dir}/cache/";`,
    `APT::Architecture "${arch}";`,
    `APT::Architectures { "${arch}"; };`,
    'APT::Install-Recommends "false";',
    // The cache is root's; apt's _apt download user could not write there.
    'APT::Sandbox::User "root";',
    'Acquire::Languages "none";',
    'Acquire::GzipIndexes "true";',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'apt.conf'), conf);
  return { ...process.env, APT_CONFIG: join(dir, 'apt.conf'), LC_ALL: 'C' };
}

/** name=version of every package a simulated `apt-get install nodejs` would unpack. */
function resolve(env: NodeJS.ProcessEnv): string[] | string {
  const sim = run(['apt-get', 'install', '-s', '-q', 'nodejs'], { env });
  if (!sim.ok) return `apt-get install -s nodejs: ${sim.out.split('\n').slice(-3).join(' ')}`;
  const pkgs = [...sim.stdout.matchAll(/^Inst (\S+) \((\S+) /gm)].map((m) => `${m[1]}=${m[2]}`);
  return pkgs.some((p) => p.startsWith('nodejs=')) ? pkgs.sort() : `no nodejs in: ${sim.stdout.slice(0, 300)}`;
}

/**
 * amd64 runs natively (test/runtime/node18.ts): with the sysroot's own loader and libc, so a
 * newer host glibc does not meet bookworm's libraries, in a private mount namespace (unshare
 * -m, root only) with the sysroot's /usr/share laid over the machine's with overlayfs, where
 * Debian's node finds its built-ins; nothing on the machine changes. `unshare` without --fork
 * execs in the same process: a signal to the wrapper's pid reaches node itself.
 */
function amd64Line(root: string): string {
  const lib = '$0/usr/lib/x86_64-linux-gnu';
  return `exec unshare -m sh -c 'mount --make-rprivate / && mount -t overlay overlay -o "lowerdir=$0/usr/share:/usr/share" /usr/share && exec "${lib}/ld-linux-x86-64.so.2" --library-path "${lib}" "$0/usr/bin/node" "$@"' '${root}' "$@"`;
}

function writeWrapper(dir: string, root: string, arch: DebArch): string {
  const qemu = QEMU_USER[arch];
  const wrapper = join(dir, 'node');
  // exec: the wrapper's pid is qemu's, and qemu hands signals (SIGTERM) on to the emulated node.
  const line = qemu ? `exec ${qemu} -L '${root}' '${root}/usr/bin/node' "$@"` : amd64Line(root);
  writeFileSync(wrapper, `#!/bin/sh\n${line}\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/**
 * Makes the sysroot merged-/usr, as Debian systems are (trixie's packages assume it: its libc6
 * ships only /usr/lib/ld-linux-*): /lib's files move under /usr/lib and /lib becomes a link.
 * It also matters under qemu-user: qemu 7.2 does not map the loader's directory stat()s into
 * the -L sysroot, so the loader gives up on a /lib/<triplet> that holds libc (seen with armhf),
 * while /usr/lib/<triplet>, where libnode is, is searched.
 */
function mergeUsr(root: string): void {
  const move = (from: string, to: string): void => {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      const src = join(from, name);
      const dst = join(to, name);
      if (statSync(src, { throwIfNoEntry: false })?.isDirectory() && !lstatSync(src).isSymbolicLink() && existsSync(dst)) move(src, dst);
      else renameSync(src, dst);
    }
    rmSync(from, { recursive: true });
  };
  for (const d of ['lib', 'lib64', 'bin', 'sbin']) {
    const top = join(root, d);
    if (!existsSync(top) || lstatSync(top).isSymbolicLink()) {
      if (!existsSync(top) && (d === 'lib' || existsSync(join(root, 'usr', d)))) symlinkSync(`usr/${d}`, top);
      continue;
    }
    move(top, join(root, 'usr', d));
    symlinkSync(`usr/${d}`, top);
  }
}

interface Current {
  key: string;
  version: string;
  packages: string[];
}

function unpack(dir: string, key: string, pkgs: string[], env: NodeJS.ProcessEnv): string | null {
  const debs = mkdtempSync(join(dir, 'debs.'));
  const staging = mkdtempSync(join(dir, 'root.'));
  try {
    const got = run(['apt-get', 'download', '-q', ...pkgs], { cwd: debs, env });
    if (!got.ok) return `apt-get download: ${got.out.split('\n').slice(-2).join(' ')}`;
    for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
      const x = run(['dpkg-deb', '-x', join(debs, deb), staging]);
      if (!x.ok) return `dpkg-deb -x ${deb}: ${x.out}`;
    }
    mergeUsr(staging);
    mkdirSync(join(dir, key), { recursive: true });
    rmSync(join(dir, key, 'root'), { recursive: true, force: true });
    renameSync(staging, join(dir, key, 'root'));
    return null;
  } finally {
    rmSync(debs, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Debian `suite`'s nodejs for `arch`, ready to run, or the reason there is none. */
export function debianNode(suite: Suite, arch: DebArch): DebianNode | { missing: string } {
  const qemu = QEMU_USER[arch];
  if (qemu && spawnSync(qemu, ['--version'], { stdio: 'ignore' }).status !== 0) return { missing: `${qemu} (Debian package qemu-user-static)` };
  if (!existsSync(KEYRING)) return { missing: `${KEYRING} (Debian package debian-archive-keyring)` };
  for (const tool of ['apt-get', 'dpkg-deb']) if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) return { missing: tool };
  const dir = join(cacheBase(), `${suite}-${arch}`);
  const currentFile = join(dir, 'current.json');
  const cached = existsSync(currentFile) ? (JSON.parse(readFileSync(currentFile, 'utf8')) as Current) : null;
  const cachedRoot = cached ? join(dir, cached.key, 'root') : '';
  const fresh = cached && existsSync(join(cachedRoot, 'usr/bin/node')) && Date.now() - statSync(currentFile).mtimeMs < REUSE_MS;
  if (fresh && process.env.X0TTA6BL4_ARCH_REFRESH !== '1') {
    return { node: writeWrapper(join(dir, cached.key), cachedRoot, arch), root: cachedRoot, version: cached.version, packages: cached.packages, fetched: false };
  }
  const env = aptEnv(join(dir, 'apt'), suite, arch);
  const update = run(['apt-get', 'update', '-q'], { env });
  if (!update.ok) return { missing: `apt-get update (${suite} ${arch}): ${update.out.split('\n').slice(-3).join(' ')}` };
  const pkgs = resolve(env);
  if (typeof pkgs === 'string') return { missing: pkgs };
  const key = createHash('sha256').update(pkgs.join('\n')).digest('hex').slice(0, 16);
  const root = join(dir, key, 'root');
  if (!existsSync(join(root, 'usr/bin/node'))) {
    const failed = unpack(dir, key, pkgs, env);
    if (failed) return { missing: failed };
  }
  const version = pkgs.find((p) => p.startsWith('nodejs='))!.slice('nodejs='.length);
  writeFileSync(currentFile, JSON.stringify({ key, version, packages: pkgs } satisfies Current, null, 1));
  // Older sysroots of this target (superseded package versions) go.
  for (const old of readdirSync(dir)) if (/^[0-9a-f]{16}$/.test(old) && old !== key) rmSync(join(dir, old), { recursive: true, force: true });
  return { node: writeWrapper(join(dir, key), root, arch), root, version, packages: pkgs, fetched: true };
}
