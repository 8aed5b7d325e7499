// Builds OpenWrt's own userspace (libubox, uci, ...) from the vendored upstream archives into an
// install root, as OpenWrt stages it (cmake, prefix /usr, DESTDIR), so tests can run the real
// tools instead of our idea of them. A build is cached under a directory named by the sha256 of
// the archives and recipes that went into it; a changed archive or recipe makes a new root.
//
// Binaries and libraries get the rpath $ORIGIN/../lib, so `<root>/usr/bin/uci` runs as it is,
// without LD_LIBRARY_PATH, on this machine and after a pivot_root into the root.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the upstream archives are: $X0_OPENWRT_VENDOR, else ../shared/vendor/openwrt-userspace
 * next to the repository (where CI and every checkout find them), else the workplace's copy.
 */
const CANDIDATES = [new URL('../../../shared/vendor/openwrt-userspace', import.meta.url).pathname, '/work/shared/vendor/openwrt-userspace'];
export const VENDOR_DIR: string = process.env.X0_OPENWRT_VENDOR ?? CANDIDATES.find((d) => existsSync(d)) ?? CANDIDATES[0]!;

/** How one component is built. Later components can add patches and flags here. */
export interface Recipe {
  /** Archive file name in the vendor directory; it unpacks to a directory of the component's name. */
  archive: string;
  /** Components that must be installed into the root first. */
  deps: string[];
  /** Extra `-D` cmake definitions. */
  cmake: string[];
  /** Debian packages the build needs besides cmake, make, gcc and pkg-config. */
  debian: string[];
}

export const RECIPES: Record<string, Recipe> = {
  libubox: { archive: 'libubox.tar.gz', deps: [], cmake: ['-DBUILD_LUA=OFF', '-DBUILD_EXAMPLES=OFF'], debian: ['libjson-c-dev'] },
  uci: { archive: 'uci.tar.gz', deps: ['libubox'], cmake: ['-DBUILD_LUA=OFF'], debian: [] },
};

const TOOLS = ['cmake', 'make', 'gcc', 'pkg-config', 'tar'];

export interface Userspace {
  /** The install root: binaries in `<root>/usr/bin`, libraries in `<root>/usr/lib`. */
  root: string;
  /** Whether this call built it (false: taken from the cache). */
  built: boolean;
}

/** Every component a list needs, dependencies first, each once. */
export function closure(components: string[]): string[] {
  const out: string[] = [];
  const visit = (name: string, path: string[]): void => {
    const r = RECIPES[name];
    if (!r) throw new Error(`unknown OpenWrt component '${name}' (known: ${Object.keys(RECIPES).join(', ')})`);
    if (path.includes(name)) throw new Error(`dependency cycle: ${[...path, name].join(' -> ')}`);
    for (const d of r.deps) visit(d, [...path, name]);
    if (!out.includes(name)) out.push(name);
  };
  for (const c of components) visit(c, []);
  return out;
}

/**
 * What is missing on this machine to build the components: tools, Debian packages (checked
 * through pkg-config where they ship a .pc file) or the archives. Empty when a build can run.
 */
export function missingForBuild(components: string[]): string[] {
  const missing: string[] = [];
  const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  for (const t of TOOLS) if (!have(t)) missing.push(t);
  const names = closure(components);
  const debs = new Set(names.flatMap((n) => RECIPES[n]!.debian));
  if (debs.has('libjson-c-dev') && have('pkg-config') && spawnSync('pkg-config', ['--exists', 'json-c']).status !== 0) missing.push('libjson-c-dev');
  for (const n of names) if (!existsSync(join(VENDOR_DIR, RECIPES[n]!.archive))) missing.push(join(VENDOR_DIR, RECIPES[n]!.archive));
  return missing;
}

/** The cache directory: $X0_OPENWRT_CACHE, else $XDG_CACHE_HOME (or ~/.cache)/x0tta6bl4/openwrt-userspace. */
export function cacheDir(): string {
  if (process.env.X0_OPENWRT_CACHE) return process.env.X0_OPENWRT_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'x0tta6bl4', 'openwrt-userspace');
}

/** The cache key of a build: every archive's sha256 and recipe, in build order. */
export function buildKey(components: string[]): string {
  const h = createHash('sha256');
  h.update('openwrt-userspace v1\n');
  for (const n of closure(components)) {
    const r = RECIPES[n]!;
    const archive = createHash('sha256').update(readFileSync(join(VENDOR_DIR, r.archive))).digest('hex');
    h.update(`${n} ${archive} ${JSON.stringify(r)}\n`);
  }
  return h.digest('hex').slice(0, 24);
}

function run(argv: string[], cwd: string, log: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  log.push(`$ ${argv.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (r.error || r.status !== 0) {
    const tail = log.join('\n').split('\n').slice(-40).join('\n');
    throw new Error(`openwrt-userspace: '${argv.join(' ')}' failed (${r.error?.message ?? `exit ${r.status}`}):\n${tail}`);
  }
}

/**
 * Builds the named components (and their dependencies) into one install root, or returns the
 * cached root. Safe to call from several processes at once: each builds in its own directory
 * and the first to finish renames it into place.
 */
export function buildOpenwrtUserspace(components: string[], options: { cache?: string; jobs?: number } = {}): Userspace {
  const missing = missingForBuild(components);
  if (missing.length) throw new Error(`cannot build OpenWrt ${components.join(', ')}: missing ${missing.join(', ')} (Debian: apt-get install cmake pkg-config gcc make libjson-c-dev)`);
  const cache = options.cache ?? cacheDir();
  const key = buildKey(components);
  const final = join(cache, key);
  if (existsSync(join(final, 'BUILT'))) return { root: join(final, 'root'), built: false };

  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(cache, `${key}.tmp-`));
  const root = join(work, 'root');
  const log: string[] = [];
  try {
    for (const name of closure(components)) {
      const r = RECIPES[name]!;
      const src = join(work, 'src');
      mkdirSync(src, { recursive: true });
      run(['tar', 'xzf', join(VENDOR_DIR, r.archive), '-C', src], work, log);
      const build = join(work, 'build', name);
      run(
        [
          'cmake', '-S', join(src, name), '-B', build,
          '-DCMAKE_INSTALL_PREFIX=/usr', '-DCMAKE_INSTALL_LIBDIR=lib',
          `-DCMAKE_PREFIX_PATH=${join(root, 'usr')}`,
          '-DCMAKE_INSTALL_RPATH=$ORIGIN/../lib',
          ...r.cmake,
        ],
        work,
        log,
      );
      run(['make', '-C', build, `-j${options.jobs ?? 2}`], work, log);
      run(['make', '-C', build, 'install', `DESTDIR=${root}`], work, log);
    }
    rmSync(join(work, 'src'), { recursive: true, force: true });
    rmSync(join(work, 'build'), { recursive: true, force: true });
    writeFileSync(join(work, 'BUILT'), `${closure(components).join(' ')}\n`);
    chmodSync(work, 0o755); // mkdtemp made it 0700; users other than the builder run these tools too
    try {
      renameSync(work, final);
    } catch {
      // Another process finished the same build first: use its root, drop ours.
      rmSync(work, { recursive: true, force: true });
      if (!existsSync(join(final, 'BUILT'))) throw new Error(`openwrt-userspace: ${final} exists but is not a finished build; remove it`);
      return { root: join(final, 'root'), built: false };
    }
    return { root: join(final, 'root'), built: true };
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}
