#!/usr/bin/env node
// Builds the netlink bridge (native/src/*.c, no libc) for the router architectures with
// Debian's cross compilers: dist/native/x0tta6bl4-nlbridge-<process.arch>. Incremental: a
// binary newer than every source (and this script) is kept. With CI=true a missing compiler
// fails the build; otherwise it is reported and the other architectures still build.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { arch as hostArch } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const srcDir = join(root, 'native', 'src');
const outDir = join(root, 'dist', 'native');
const ci = process.env.CI === 'true' || process.env.CI === '1';
const force = process.argv.includes('--force');
const MAX_BYTES = 32 * 1024;

const common = [
  '-std=gnu11', '-Os', '-nostdlib', '-static', '-ffreestanding', '-fno-stack-protector',
  '-fno-pie', '-no-pie', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables',
  '-ffunction-sections', '-fdata-sections', '-fno-tree-loop-distribute-patterns',
  '-fno-ident', '-Wall', '-Wextra',
  '-Wl,--gc-sections', '-Wl,--build-id=none', '-Wl,-z,noexecstack', '-Wl,-z,norelro',
  '-Wl,-z,noseparate-code', '-Wl,-e,_start', '-s',
];

// Each target: compilers to try in order (command + extra flags), and a strip tool.
const targets = [
  {
    arch: 'x64',
    tries: [
      { cc: 'x86_64-linux-gnu-gcc', flags: [] },
      ...(hostArch() === 'x64' ? [{ cc: 'gcc', flags: ['-m64'] }] : []),
    ],
  },
  {
    arch: 'ia32',
    tries: [
      { cc: 'i686-linux-gnu-gcc', flags: ['-march=i686'] },
      ...(hostArch() === 'x64' ? [{ cc: 'gcc', flags: ['-m32', '-march=i686'] }] : []),
    ],
  },
  { arch: 'arm64', tries: [{ cc: 'aarch64-linux-gnu-gcc', flags: [] }] },
  {
    // ARMv5TE, the oldest ARM OpenWrt's EABI targets use (kirkwood's Feroceon, ARM926EJ-S
    // boards; ARMv6 and v7 run it too), ARM (not Thumb) mode, soft-float ABI and no FP
    // instructions: the bridge does no floating point, so one binary runs on soft- and
    // hard-float systems alike. armv7-a died with SIGILL on ARMv5/ARMv6 cores.
    arch: 'arm',
    tries: [{ cc: 'arm-linux-gnueabi-gcc', flags: ['-march=armv5te', '-marm', '-mfloat-abi=soft'] }],
  },
  {
    // MIPS32r2 little-endian o32 (MT7621's 1004Kc and later). Non-PIC and static, so _start
    // needs no $t9/$gp set-up for calls; -G0 keeps data out of the gp-relative small sections;
    // soft-float because the bridge has no floating point and must not need an FPU.
    arch: 'mipsel',
    tries: [{ cc: 'mipsel-linux-gnu-gcc', flags: ['-march=mips32r2', '-mno-abicalls', '-fno-pic', '-G0', '-msoft-float'] }],
  },
];

function has(cmd) {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

const sources = readdirSync(srcDir).filter((f) => f.endsWith('.c')).sort().map((f) => join(srcDir, f));
const inputs = [...readdirSync(srcDir).map((f) => join(srcDir, f)), new URL(import.meta.url).pathname];
const newestInput = Math.max(...inputs.map((f) => statSync(f).mtimeMs));

mkdirSync(outDir, { recursive: true });
const missing = [];
const failed = [];
const built = [];

for (const t of targets) {
  const out = join(outDir, `x0tta6bl4-nlbridge-${t.arch}`);
  if (!force && existsSync(out) && statSync(out).mtimeMs >= newestInput) {
    built.push({ arch: t.arch, bytes: statSync(out).size, cached: true });
    continue;
  }
  const tool = t.tries.find((c) => has(c.cc));
  if (!tool) {
    missing.push(`${t.arch} (${t.tries.map((c) => c.cc).join(' or ')})`);
    continue;
  }
  const tmp = `${out}.tmp-${process.pid}`;
  const args = [...common, ...tool.flags, '-o', tmp, ...sources, '-lgcc'];
  const r = spawnSync(tool.cc, args, { encoding: 'utf8' });
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    failed.push(`${t.arch}: ${tool.cc} exited ${r.status}`);
    continue;
  }
  const bytes = statSync(tmp).size;
  if (bytes > MAX_BYTES) {
    rmSync(tmp, { force: true });
    failed.push(`${t.arch}: ${bytes} bytes exceeds the ${MAX_BYTES}-byte limit`);
    continue;
  }
  renameSync(tmp, out);
  built.push({ arch: t.arch, bytes, cached: false });
}

for (const b of built) {
  console.error(`build-native: ${b.arch} ${b.bytes} bytes${b.cached ? ' (up to date)' : ''}`);
}
if (missing.length) {
  const msg = `build-native: no compiler for ${missing.join(', ')}`;
  if (ci) {
    console.error(`${msg} (CI=true: failing; install gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabi, gcc-i686-linux-gnu, gcc-mipsel-linux-gnu)`);
    process.exit(1);
  }
  console.error(`${msg}: skipped`);
}
if (failed.length) {
  console.error(`build-native: FAILED ${failed.join('; ')}`);
  process.exit(1);
}
