// apk-tools 3.0.6 (OpenWrt 25.12's package manager) built from the vendored upstream archive with
// meson, cached under cacheDir()/apk-tools-<sha256 of archive and recipe>/apk: only the first run
// pays the ~1 min. Needs meson, ninja, gcc, pkg-config, libssl-dev, zlib1g-dev.
// Run it directly to print the binary's path: APK=$(node --import tsx test/packaging/apk-tools.ts) npm run package
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheDir, VENDOR_DIR } from '../router/openwrt-userspace.ts';

export const APK_ARCHIVE = join(VENDOR_DIR, 'apk-tools.tar.gz');
// No docs, help, Lua or Python (their tools are not needed to build and install packages);
// static libapk so the binary runs from the cache without LD_LIBRARY_PATH.
const MESON_OPTIONS = ['-Ddocs=disabled', '-Dhelp=disabled', '-Dlua=disabled', '-Dpython=disabled', '-Dtests=disabled', '-Dzstd=disabled', '-Ddefault_library=static', '-Dprefix=/usr'];
const TOOLS = ['meson', 'ninja', 'gcc', 'pkg-config', 'tar'];

/** What is missing on this machine to build apk-tools: tools, libraries (pkg-config) or the archive. */
export function missingForApkTools(): string[] {
  const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  const missing = TOOLS.filter((t) => !have(t));
  if (have('pkg-config')) {
    if (spawnSync('pkg-config', ['--exists', 'openssl']).status !== 0) missing.push('libssl-dev');
    if (spawnSync('pkg-config', ['--exists', 'zlib']).status !== 0) missing.push('zlib1g-dev');
  }
  if (!existsSync(APK_ARCHIVE)) missing.push(APK_ARCHIVE);
  return missing;
}

function key(): string {
  return createHash('sha256').update(readFileSync(APK_ARCHIVE)).update(JSON.stringify(MESON_OPTIONS)).digest('hex').slice(0, 16);
}

function run(argv: string[], cwd: string): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0) throw new Error(`${argv.join(' ')} failed in ${cwd}:\n${r.error?.message ?? ''}${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
}

/** The path of a built apk binary (cached); throws with what is missing when it cannot be built. */
export function apkTools(): string {
  const missing = missingForApkTools();
  if (missing.length) throw new Error(`cannot build apk-tools: missing ${missing.join(', ')}`);
  const dir = join(cacheDir(), `apk-tools-${key()}`);
  const bin = join(dir, 'apk');
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir(), { recursive: true });
  const work = mkdtempSync(join(cacheDir(), 'apk-tools-build-'));
  try {
    run(['tar', '-xzf', APK_ARCHIVE, '-C', work], work);
    const src = join(work, 'apk-tools');
    run(['meson', 'setup', 'build', ...MESON_OPTIONS], src);
    run(['ninja', '-C', 'build', 'src/apk'], src);
    const out = join(work, 'out');
    mkdirSync(out);
    renameSync(join(src, 'build/src/apk'), join(out, 'apk'));
    // Another test may have finished the same build meanwhile: its copy is as good.
    try {
      renameSync(out, dir);
    } catch {
      if (!existsSync(bin)) throw new Error(`could not place apk-tools in ${dir}`);
    }
    return bin;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    console.log(apkTools());
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
