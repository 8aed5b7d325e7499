#!/usr/bin/env node
// OpenWrt 25.12 has no target `node` package (openwrt/packages #26116 made it host-only), so the
// agent's `node>=18.20` dependency has no provider there. This wraps a Node.js binary built for
// musl (for example Node's unofficial musl builds for x64 and arm64) into an apk v3 package named
// `node` with the binary's version, so `apk add` can resolve the agent's dependency:
//
//   node scripts/package-node-bin.mjs --node ./node-v22.12.0-linux-arm64-musl/bin/node \
//     --version 22.12.0 --arch aarch64_cortex-a53 [--out dist]
//
// --arch is the router's apk architecture (`apk --print-arch` on it). The binary needs the
// C++ runtime (libstdcpp, libgcc); it is not run here, so its version is taken as given.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { apkIdRoot, findApkTools } from './package-apk.mjs';

export class NodeBinError extends Error {
  name = 'NodeBinError';
}

// ELF e_machine of the architectures OpenWrt can run Node on, by apk arch prefix.
const MACHINES = { x86_64: 62, aarch64: 183 };

/** Builds <outDir>/node-<version>-r1.apk holding the binary as /usr/bin/node. */
export function buildNodeBinApk({ apk, node, version, arch, outDir, epoch = 0 }) {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new NodeBinError(`--version must be the Node version, like 22.12.0 (got '${version}')`);
  const major = Number(version.split('.')[0]);
  if (major < 18) throw new NodeBinError(`Node ${version} is too old for the agent (>= 18.20)`);
  const machine = MACHINES[Object.keys(MACHINES).find((a) => arch.startsWith(a)) ?? ''];
  if (machine === undefined) throw new NodeBinError(`--arch ${arch}: Node's musl builds exist for x86_64 and aarch64 only`);
  const elf = readFileSync(node);
  if (elf.subarray(0, 4).toString('latin1') !== '\x7fELF') throw new NodeBinError(`${node} is not an ELF binary`);
  if (elf.readUInt16LE(18) !== machine) throw new NodeBinError(`${node} is not built for ${arch} (ELF machine ${elf.readUInt16LE(18)})`);

  const work = mkdtempSync(join(tmpdir(), 'x0-node-bin-'));
  try {
    const files = join(work, 'files');
    mkdirSync(join(files, 'usr/bin'), { recursive: true });
    copyFileSync(node, join(files, 'usr/bin/node'));
    chmodSync(join(files, 'usr/bin/node'), 0o755);
    for (const p of ['usr/bin/node', 'usr/bin', 'usr', '.']) utimesSync(join(files, p), epoch, epoch);
    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, `node-${version}-r1.apk`);
    const r = spawnSync(apk, [
      '--root', apkIdRoot(work),
      'mkpkg',
      '--info', 'name:node',
      '--info', `version:${version}-r1`,
      '--info', `arch:${arch}`,
      '--info', 'license:MIT',
      '--info', 'url:https://nodejs.org/',
      '--info', 'description:Node.js runtime (a prebuilt musl binary, packaged by x0tta6bl4 scripts/package-node-bin.mjs)',
      '--info', 'depends:libc libstdcpp libgcc',
      '--files', files,
      '--output', out,
    ], { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) } });
    if (r.error || r.status !== 0) throw new NodeBinError(`apk mkpkg failed: ${r.error?.message ?? r.stderr.trim()}`);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const opt = { type: 'string' };
    const { values: args } = parseArgs({ options: { node: opt, version: opt, arch: opt, out: opt } });
    const tools = findApkTools();
    if (!tools.apk) throw new NodeBinError(tools.reason);
    if (!args.node || !args.version || !args.arch) throw new NodeBinError('usage: package-node-bin.mjs --node <musl node binary> --version <x.y.z> --arch <apk arch> [--out dir]');
    console.log(buildNodeBinApk({ apk: tools.apk, node: args.node, version: args.version, arch: args.arch, outDir: args.out ?? 'dist' }));
  } catch (e) {
    console.error(`package-node-bin: ${e.message}`);
    process.exit(1);
  }
}
