// The feed Makefile's build steps run for real with GNU make, without network (in a network
// namespace of its own), for x86_64, aarch64, arm and mipsel with Debian's cross compilers
// standing in for OpenWrt's toolchains. rules.mk and include/package.mk are STAND-INS
// (openwrt-make/: the install commands and one rule running the steps as package.mk expands
// them), because the OpenWrt buildroot is not on this machine. Checked: the files installed are
// the ipk's (one bridge, for the target), the pre-built ones byte for byte from dist/, the bridge
// an ELF for the target; and a dist/ without its pre-built files stops with the command to run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildIpks, DIST } from './build-ipks.ts';
import { readTar } from './tar-reader.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const FEED = join(ROOT, 'openwrt/x0tta6bl4');
const TOPDIR = new URL('./openwrt-make/', import.meta.url).pathname;
const ci = process.env.CI === 'true' || process.env.CI === '1';
const work = mkdtempSync(join(tmpdir(), 'x0-feed-'));
const built = buildIpks();

// OpenWrt ARCH -> the compiler standing in for its toolchain, the bridge's name and ELF e_machine.
const TARGETS = [
  { arch: 'x86_64', cc: 'gcc', node: 'x64', machine: 62 },
  { arch: 'aarch64', cc: 'aarch64-linux-gnu-gcc', node: 'arm64', machine: 183 },
  { arch: 'arm', cc: 'arm-linux-gnueabi-gcc', node: 'arm', machine: 40 },
  { arch: 'mipsel', cc: 'mipsel-linux-gnu-gcc', node: 'mipsel', machine: 8 },
];
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
// Root may make a network namespace: then make runs with no network at all.
const noNet = spawnSync('unshare', ['-n', 'true']).status === 0;
if (ci && !noNet) throw new Error('CI: unshare -n failed (the feed build test runs as root there)');

/** A checkout as the feed sees it (REPO_ROOT): native/, LICENSE, package.json and the given dist/ files. */
function checkout(name: string, prebuilt: [string, string][]): string {
  const repo = join(work, name);
  mkdirSync(join(repo, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'native'), join(repo, 'native'), { recursive: true });
  for (const f of ['LICENSE', 'package.json']) copyFileSync(join(ROOT, f), join(repo, f));
  for (const [f, from] of prebuilt) copyFileSync(from, join(repo, 'dist', f));
  return repo;
}
// What `npm run build && npm run package` leave in dist/ (the tables from this test's own package run).
const full = checkout('repo', [
  ['x0tta6bl4.mjs', join(DIST, 'x0tta6bl4.mjs')],
  ['core.wasm', join(DIST, 'core.wasm')],
  ['core-scalar.wasm', join(DIST, 'core-scalar.wasm')],
  ['board-profiles', join(built.dir, 'out', 'board-profiles')],
  ['board-defaults', join(built.dir, 'out', 'board-defaults')],
]);

function make(target: (typeof TARGETS)[number], name: string, extra: string[] = []) {
  const out = join(work, name);
  const argv = ['make', '-s', '-C', FEED, `REPO_ROOT=${full}`, `TOPDIR=${TOPDIR}`, `PKG_BUILD_DIR=${join(out, 'build')}`, `IPKG_DIR=${join(out, 'ipkg')}`, `TARGET_CC=${target.cc}`, `ARCH=${target.arch}`, ...extra];
  const r = spawnSync(noNet ? 'unshare' : argv[0]!, noNet ? ['-n', ...argv] : argv.slice(1), { encoding: 'utf8' });
  return { r, ipkg: join(out, 'ipkg') };
}

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

for (const t of TARGETS) {
  test(`feed Makefile for ${t.arch}: no network, the ipk's files, the bridge compiled for the target`, () => {
    if (!has(t.cc)) {
      if (ci) assert.unreachable(`${t.cc} is missing`);
      return console.log(`skip: ${t.cc} missing`);
    }
    const { r, ipkg } = make(t, t.arch);
    assert.is(r.status, 0, r.stdout + r.stderr);
    const files = walk(ipkg).map((p) => './' + relative(ipkg, p)).sort();
    const bridge = `./usr/lib/x0tta6bl4/native/x0tta6bl4-nlbridge-${t.node}`;
    const data = readTar(readTar(readFileSync(built.packages[0].path)).find((e) => e.name === './data.tar.gz')!.data);
    const ipkFiles = data.filter((e) => e.type === 'file').map((e) => e.name).filter((n) => !/nlbridge-/.test(n) || n === bridge).sort();
    assert.equal(files, ipkFiles);
    for (const [f, src] of [['usr/lib/x0tta6bl4/x0tta6bl4.mjs', 'x0tta6bl4.mjs'], ['usr/lib/x0tta6bl4/core.wasm', 'core.wasm'], ['usr/lib/x0tta6bl4/core-scalar.wasm', 'core-scalar.wasm'], ['usr/share/x0tta6bl4/board-profiles', 'board-profiles']])
      assert.ok(readFileSync(join(ipkg, f)).equals(readFileSync(join(full, 'dist', src))), `${f} is dist/${src}`);
    const elf = readFileSync(join(ipkg, bridge));
    assert.is(elf.subarray(0, 4).toString('latin1'), '\x7fELF');
    assert.is(elf.readUInt16LE(18), t.machine, 'ELF machine');
    assert.is(statSync(join(ipkg, bridge)).mode & 0o777, 0o755);
    // Same flags as scripts/build-native.mjs: for x86_64 (same compiler) the same bytes.
    if (t.arch === 'x86_64') assert.ok(elf.equals(readFileSync(join(DIST, 'native', 'x0tta6bl4-nlbridge-x64'))), 'x64 bridge identical to npm run build:native');
  });
}

test('feed Makefile with a dist/ lacking the pre-built files stops and names the command', () => {
  const repo = checkout('partial', [['x0tta6bl4.mjs', join(DIST, 'x0tta6bl4.mjs')]]);
  const { r } = make(TARGETS[0]!, 'missing', [`REPO_ROOT=${repo}`]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /dist\/core\.wasm is missing: run npm ci && npm run build && npm run package/);
});

test.after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(built.dir, { recursive: true, force: true });
});
test.run();
