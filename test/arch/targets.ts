// The routers' CPUs test:arch runs the shipped bundle on, each with the Debian release whose
// nodejs matches what OpenWrt ships (bookworm: Node 18, as OpenWrt 23.05; trixie: Node 20).
// Emulation is slow (a bundle start is 5-12 s of CPU under qemu-user), so the full set of
// cases runs on two targets and the others get --version, a demo and the core check.
import { existsSync } from 'node:fs';
import type { DebArch, Suite } from './debian-node.ts';

/** The core build an agent loaded, as /health names it (see coreVariantOf in bundle-runs.ts). */
export type CoreVariant = 'wasm-simd' | 'wasm-scalar' | 'js';

export interface ArchTarget {
  name: string;
  suite: Suite;
  arch: DebArch;
  /** Node's process.arch on that CPU: names its errno numbers and its bridge. */
  nodeArch: 'arm64' | 'arm' | 'mipsel';
  nodeMajor: 18 | 20;
  /** pki, two agents federating with telemetry to mosquitto, the bridge under the agent. */
  full: boolean;
}

export const TARGETS: readonly ArchTarget[] = [
  // MT7621 (mipsel) is the most common mesh router CPU; OpenWrt 23.05 gives it Node 18.
  { name: 'bookworm-mipsel', suite: 'bookworm', arch: 'mipsel', nodeArch: 'mipsel', nodeMajor: 18, full: true },
  { name: 'trixie-arm64', suite: 'trixie', arch: 'arm64', nodeArch: 'arm64', nodeMajor: 20, full: true },
  { name: 'bookworm-arm64', suite: 'bookworm', arch: 'arm64', nodeArch: 'arm64', nodeMajor: 18, full: false },
  { name: 'bookworm-armhf', suite: 'bookworm', arch: 'armhf', nodeArch: 'arm', nodeMajor: 18, full: false },
  { name: 'trixie-armhf', suite: 'trixie', arch: 'armhf', nodeArch: 'arm', nodeMajor: 20, full: false },
];

const SCALAR_WASM = new URL('../../dist/core-scalar.wasm', import.meta.url).pathname;

/**
 * The core each CPU must load. V8 has Wasm SIMD on arm64 and on armv7 with NEON (Debian's
 * armhf baseline has NEON optional, qemu's default CPU has it), none on MIPS. Where SIMD is
 * missing the agent takes the scalar WASM build when the bundle ships one (dist/core-scalar.wasm),
 * else the portable JS fallback: a bundle built before the scalar build existed says 'js'.
 */
export function expectedCore(t: ArchTarget): CoreVariant {
  if (t.nodeArch === 'mipsel') return existsSync(SCALAR_WASM) ? 'wasm-scalar' : 'js';
  return 'wasm-simd';
}
