// Where the bridge binary for this machine is: an explicit path, $X0TTA6BL4_NLBRIDGE, next to
// the bundle (dist/native/), in a development checkout, or where the OpenWrt package puts it.
import { accessSync, closeSync, constants, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MeshError } from '../mesh/driver.ts';

export function bridgeCandidates(arch: string = process.arch): string[] {
  const name = `x0tta6bl4-nlbridge-${arch}`;
  const env = process.env.X0TTA6BL4_NLBRIDGE;
  return [
    ...(env ? [env] : []),
    fileURLToPath(new URL(`./native/${name}`, import.meta.url)),
    fileURLToPath(new URL(`../../dist/native/${name}`, import.meta.url)),
    `/usr/lib/x0tta6bl4/${name}`,
    '/usr/lib/x0tta6bl4/x0tta6bl4-nlbridge',
  ];
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// ELF e_machine of each Node arch a bridge may be built for.
const ELF_MACHINE: Record<string, number> = { ia32: 3, x64: 62, arm: 40, arm64: 183, mips: 8, mipsel: 8, riscv64: 243 };

/**
 * Why this file cannot run on this CPU, or null. A file that is neither ELF nor a `#!` script
 * would otherwise be run by /bin/sh (execvp's ENOEXEC fallback) and fail with a confusing
 * "not found"; an ELF for another machine fails with ENOEXEC. Both get one clear reason.
 */
export function bridgeBinaryProblem(path: string, arch: string = process.arch): string | null {
  const head = Buffer.alloc(20);
  let n = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return `cannot read it: ${(e as Error).message}`;
  }
  if (n >= 2 && head[0] === 0x23 && head[1] === 0x21) return null; // #!: the kernel runs its interpreter
  if (n < 20 || head.readUInt32BE(0) !== 0x7f454c46) return `it is not a program this ${arch} CPU can run (not an ELF file)`;
  const little = head[5] === 1;
  if (little !== (endianness() === 'LE')) return `it is not a program this ${arch} CPU can run (${little ? 'little' : 'big'}-endian ELF)`;
  const machine = little ? head.readUInt16LE(18) : head.readUInt16BE(18);
  const want = ELF_MACHINE[arch];
  if (want !== undefined && machine !== want) return `it is not a program this ${arch} CPU can run (ELF machine ${machine}, ${arch} is ${want})`;
  return null;
}

function checked(path: string, arch: string): string {
  const problem = bridgeBinaryProblem(path, arch);
  if (problem) throw new MeshError('TRANSPORT', `netlink bridge ${path} cannot run here: ${problem}`);
  return path;
}

/** The binary to run; a missing, non-executable or wrong-CPU one is a MeshError 'TRANSPORT' naming it. */
export function findBridge(explicit?: string, arch: string = process.arch): string {
  if (explicit !== undefined) {
    if (!executable(explicit)) throw new MeshError('TRANSPORT', `netlink bridge not found or not executable: ${explicit}`);
    return checked(explicit, arch);
  }
  const tried = bridgeCandidates(arch);
  const found = tried.find(executable);
  if (!found) {
    // On a router this means the package has no bridge for this CPU; in a checkout, an unbuilt one.
    throw new MeshError('TRANSPORT', `no netlink bridge for ${arch}; looked in: ${tried.join(', ')} (in a source checkout: npm run build:native)`);
  }
  return checked(found, arch);
}
