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
import { DEBIAN_PC, RECIPES, type Recipe } from './openwrt-recipes.ts';

/**
 * Where the upstream archives are: $X0_OPENWRT_VENDOR, else ../shared/vendor/openwrt-userspace
 * next to the repository (where CI and every checkout find them), else the workplace's copy.
 */
const CANDIDATES = [new URL('../../../shared/vendor/openwrt-userspace', import.meta.url).pathname, '/work/shared/vendor/openwrt-userspace'];
export const VENDOR_DIR: string = process.env.X0_OPENWRT_VENDOR ?? CANDIDATES.find((d) => existsSync(d)) ?? CANDIDATES[0]!;

export { RECIPES, ROUTER_COMPONENTS, type Recipe } from './openwrt-recipes.ts';

const TOOLS = ['cmake', 'make', 'gcc', 'pkg-config', 'tar', 'patch'];

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
  for (const deb of debs) {
    const pc = DEBIAN_PC[deb];
    if (pc && have('pkg-config') && spawnSync('pkg-config', ['--exists', pc]).status !== 0) missing.push(deb);
  }
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
  h.update('openwrt-userspace v2\n');
  for (const n of closure(components)) {
    const r = RECIPES[n]!;
    const archive = createHash('sha256').update(readFileSync(join(VENDOR_DIR, r.archive))).digest('hex');
    h.update(`${n} ${archive} ${JSON.stringify(r)}\n`);
    for (const p of r.patches ?? []) h.update(readFileSync(join(VENDOR_DIR, 'patches', p)));
  }
  return h.digest('hex').slice(0, 24);
}

function run(argv: string[], cwd: string, log: string[], env?: NodeJS.ProcessEnv): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  log.push(`$ ${argv.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (r.error || r.status !== 0) {
    const tail = log.join('\n').split('\n').slice(-40).join('\n');
    throw new Error(`openwrt-userspace: '${argv.join(' ')}' failed (${r.error?.message ?? `exit ${r.status}`}):\n${tail}`);
  }
}

/** Unpacks, patches, builds and installs one component into `root`. */
function buildOne(name: string, r: Recipe, work: string, root: string, jobs: number, log: string[]): void {
  const src = join(work, 'src', name);
  mkdirSync(src, { recursive: true });
  run(['tar', 'xzf', join(VENDOR_DIR, r.archive), '-C', src], work, log);
  const dir = join(src, r.dir ?? name);
  for (const p of r.patches ?? []) {
    const patch = ['patch', '-p1', '-d', dir, '-i', join(VENDOR_DIR, 'patches', p)];
    // Already in this source (the vendored rpcd has its fix): a patch that reverses cleanly is skipped.
    if (spawnSync(patch[0]!, [...patch.slice(1), '-R', '-f', '-s', '--dry-run']).status === 0) log.push(`(${p}: already applied)`);
    else run(patch, work, log);
  }
  const inc = `-I${join(root, 'usr/include')}`;
  const libs = `-L${join(root, 'usr/lib')} -Wl,-rpath-link,${join(root, 'usr/lib')}`;
  const cflags = [inc, ...(r.cflags ?? [])].join(' ');
  if (r.script !== undefined) {
    const env = { ...process.env, ROOT: root, CC: 'gcc', CFLAGS: `-O2 ${cflags}`, LDFLAGS: libs };
    run(['sh', '-ec', r.script], dir, log, env);
    return;
  }
  const build = r.inSource ? dir : join(work, 'build', name);
  run(
    [
      'cmake', '-S', dir, '-B', build,
      '-DCMAKE_INSTALL_PREFIX=/usr', '-DCMAKE_INSTALL_LIBDIR=lib',
      `-DCMAKE_PREFIX_PATH=${join(root, 'usr')}`,
      '-DCMAKE_INSTALL_RPATH=$ORIGIN/../lib',
      `-DCMAKE_C_FLAGS=${cflags}`,
      `-DCMAKE_EXE_LINKER_FLAGS=${libs}`,
      `-DCMAKE_SHARED_LINKER_FLAGS=${libs}`,
      `-DCMAKE_MODULE_LINKER_FLAGS=${libs}`,
      ...r.cmake,
    ],
    work,
    log,
  );
  run(['make', '-C', build, `-j${jobs}`], work, log);
  run(['make', '-C', build, 'install', `DESTDIR=${root}`], work, log);
}

/**
 * Builds the named components (and their dependencies) into one install root, or returns the
 * cached root. Safe to call from several processes at once: each builds in its own directory
 * and the first to finish renames it into place.
 */
export function buildOpenwrtUserspace(components: string[], options: { cache?: string; jobs?: number } = {}): Userspace {
  const missing = missingForBuild(components);
  if (missing.length) throw new Error(`cannot build OpenWrt ${components.join(', ')}: missing ${missing.join(', ')} (Debian: apt-get install cmake pkg-config gcc make patch libjson-c-dev zlib1g-dev libcrypt-dev)`);
  const cache = options.cache ?? cacheDir();
  const key = buildKey(components);
  const final = join(cache, key);
  if (existsSync(join(final, 'BUILT'))) return { root: join(final, 'root'), built: false };

  mkdirSync(cache, { recursive: true });
  // Test files start in parallel: one builds, the others wait for its result (2 cores).
  if (waitForOtherBuilder(join(cache, `${key}.lock`), join(final, 'BUILT'))) return { root: join(final, 'root'), built: false };
  try {
    return buildInto(cache, key, components, options.jobs ?? 2);
  } finally {
    rmSync(join(cache, `${key}.lock`), { force: true });
  }
}

/** Sleeps without returning to the event loop (the builder is synchronous). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Takes the build lock (a file holding our pid), or waits while a live process holds it.
 * Returns true when that other process finished the build meanwhile.
 */
function waitForOtherBuilder(lock: string, built: string): boolean {
  let said = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return existsSync(built);
    } catch {
      let text = '';
      try {
        text = readFileSync(lock, 'utf8');
      } catch {
        continue; // released meanwhile
      }
      if (text === '') {
        sleepSync(200); // created, pid not written yet
        continue;
      }
      const holder = Number(text);
      let alive = holder > 0;
      try {
        if (alive) process.kill(holder, 0);
      } catch {
        alive = false;
      }
      if (!alive) {
        rmSync(lock, { force: true }); // left by a builder that died
        continue;
      }
      if (!said) process.stderr.write(`openwrt-userspace: waiting for process ${holder}, which is building the same userspace\n`);
      said = true;
      sleepSync(1000);
      if (existsSync(built)) return true;
    }
  }
}

function buildInto(cache: string, key: string, components: string[], jobs: number): Userspace {
  const final = join(cache, key);
  const work = mkdtempSync(join(cache, `${key}.tmp-`));
  const root = join(work, 'root');
  const log: string[] = [];
  try {
    const names = closure(components);
    names.forEach((name, i) => {
      process.stderr.write(`openwrt-userspace: building ${name} (${i + 1}/${names.length})\n`);
      buildOne(name, RECIPES[name]!, work, root, jobs, log);
    });
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
