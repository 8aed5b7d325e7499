// Finds and instantiates the core, fastest build first: dist/core.wasm (SIMD), else
// dist/core-scalar.wasm (the same sources without SIMD, for V8 builds and CPUs that cannot run
// Wasm SIMD: MIPS, x86 without SSE4.1), else the portable JS build bundled into the agent. Why a
// faster build is not running is recorded on core.fallbackReason.
//
// Loader: hand-written, ~40 lines. AssemblyScript's generated bindings and @assemblyscript/loader
// exist to marshal strings, arrays and GC objects; this core exports only numeric functions over
// memory that the TypeScript side manages itself, so they would add bytes and nothing else.
//
// WASM search order (the first file that exists is used; if it cannot be used, the next build
// runs and says why rather than trying another copy):
//   1. opts.wasmPath   2. $X0TTA6BL4_WASM   3. core.wasm next to this module (the esbuild bundle
//   dist/x0tta6bl4.mjs has dist/core.wasm beside it)   4. ../../dist/core.wasm (dev runs of
//   src/core via tsx)   5. /usr/lib/x0tta6bl4/core.wasm (the OpenWrt package)
// core-scalar.wasm is looked for beside the core.wasm that was found (the same install), or, when
// none was found or SIMD is not supported here, beside each of those paths in the same order.
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORE_ABI_VERSION, type CoreExports, EXPORT_NAMES } from './exports.ts';
import { type Core, type CoreVariant, createCore } from './core.ts';
import { CoreLoadError } from './errors.ts';

export interface LoadCoreOptions {
  /**
   * 'wasm' (default): the fastest build this V8 runs. 'wasm-scalar' skips the SIMD build and
   * 'js' both WASM builds (tests, benchmarks, V8 without WebAssembly).
   */
  prefer?: 'wasm' | 'wasm-scalar' | 'js';
  /** Explicit path (or file: URL) of core.wasm, searched first. */
  wasmPath?: string;
}

export const PACKAGED_WASM_PATH = '/usr/lib/x0tta6bl4/core.wasm';
export const SCALAR_WASM_NAME = 'core-scalar.wasm';
/** fallbackReason of the scalar build where SIMD cannot run: a normal state, not a fault. */
export const NO_SIMD_REASON = 'this Node/CPU cannot run Wasm SIMD';

/** Where loadCore looks for core.wasm, in order. */
export function wasmCandidates(wasmPath?: string): string[] {
  const out: string[] = [];
  if (wasmPath) out.push(wasmPath.startsWith('file:') ? fileURLToPath(wasmPath) : wasmPath);
  const env = process.env.X0TTA6BL4_WASM;
  if (env) out.push(env);
  for (const rel of ['./core.wasm', '../../dist/core.wasm']) {
    try {
      const url = new URL(rel, import.meta.url);
      if (url.protocol === 'file:') out.push(fileURLToPath(url));
    } catch {
      // import.meta.url not a file URL (e.g. bundled for another host): skip
    }
  }
  out.push(PACKAGED_WASM_PATH);
  return [...new Set(out)];
}

/** Where loadCore looks for core-scalar.wasm when no core.wasm was found: beside each candidate. */
export function scalarCandidates(wasmPath?: string): string[] {
  return [...new Set(wasmCandidates(wasmPath).map((p) => join(dirname(p), SCALAR_WASM_NAME)))];
}

// The part of the WebAssembly global this loader uses (lib "ES2023" has no WebAssembly types).
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }>;
}
const wasmApi = (): WasmApi | undefined => (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

// The smallest module with a v128 in it: (func (result v128) (v128.const i32x4 0 0 0 0)).
// V8 refuses to compile any SIMD where the CPU lacks what its SIMD code needs (SSE4.1 on x86) or
// its port has no SIMD at all (MIPS), with "Wasm SIMD unsupported"; validate() says the same
// without compiling the real module.
const SIMD_PROBE = new Uint8Array([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, 22, 1, 20, 0, 0xfd, 12,
  ...new Array<number>(16).fill(0), 11,
]);

/** Whether this V8, on this CPU, can run Wasm SIMD. */
export function wasmSimdSupported(): boolean {
  try {
    return wasmApi()?.validate(SIMD_PROBE) === true;
  } catch {
    return false;
  }
}

type Found = { ok: true; exports: CoreExports; path: string } | { ok: false; reason: string; path?: string };

/** The first of `paths` that exists, instantiated; or why not. */
async function firstUsable(paths: string[], what: string): Promise<Found> {
  const tried: string[] = [];
  for (const path of paths) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (err) {
      tried.push(`${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      continue;
    }
    try {
      return { ok: true, exports: await instantiateWasm(bytes, basename(path)), path };
    } catch (err) {
      return { ok: false, reason: `${path}: ${(err as Error).message}`, path };
    }
  }
  return { ok: false, reason: `${what} not found: ${tried.join(', ')}` };
}

export async function loadCore(opts: LoadCoreOptions = {}): Promise<Core> {
  const prefer = opts.prefer ?? 'wasm';
  if (prefer !== 'wasm' && prefer !== 'wasm-scalar' && prefer !== 'js') {
    throw new CoreLoadError(`loadCore: prefer must be 'wasm', 'wasm-scalar' or 'js', got ${String(opts.prefer)}`);
  }
  const simdSupported = wasmSimdSupported();
  const make = (exports: CoreExports, variant: CoreVariant, reason: string | undefined, source?: string): Core =>
    createCore(exports, { variant, fallbackReason: reason, source, simdSupported });
  if (prefer === 'js') return make(await instantiatePortable(), 'js', undefined);

  const reasons: string[] = [];
  let scalarPaths = scalarCandidates(opts.wasmPath);
  if (prefer === 'wasm' && !simdSupported) reasons.push(NO_SIMD_REASON);
  else if (prefer === 'wasm') {
    const simd = await firstUsable(wasmCandidates(opts.wasmPath), 'core.wasm');
    if (simd.ok) return make(simd.exports, 'wasm-simd', undefined, simd.path);
    reasons.push(simd.reason);
    // a core.wasm that exists but cannot be used: only the scalar build of the same install
    if (simd.path) scalarPaths = [join(dirname(simd.path), SCALAR_WASM_NAME)];
  }
  const scalar = await firstUsable(scalarPaths, SCALAR_WASM_NAME);
  if (scalar.ok) return make(scalar.exports, 'wasm-scalar', reasons.length ? reasons.join('; ') : undefined, scalar.path);
  reasons.push(scalar.reason);
  let portable: CoreExports;
  try {
    portable = await instantiatePortable();
  } catch (err) {
    throw new CoreLoadError(`no usable core: WASM: ${reasons.join('; ')}; JS fallback: ${(err as Error).message}`);
  }
  return make(portable, 'js', reasons.join('; '));
}

async function instantiateWasm(bytes: Uint8Array, what: string): Promise<CoreExports> {
  const wasm = wasmApi();
  if (!wasm) throw new Error('WebAssembly is not available in this Node (run without --jitless)');
  // instantiate rejects a module whose SIMD this V8/CPU cannot run ("Wasm SIMD unsupported").
  const { instance } = await wasm.instantiate(bytes, {});
  return checkExports(instance.exports as CoreExports, what);
}

async function instantiatePortable(): Promise<CoreExports> {
  let mod: typeof import('./generated/core-portable.mjs');
  try {
    mod = await import('./generated/core-portable.mjs');
  } catch (err) {
    throw new CoreLoadError(`portable core missing (run npm run build:core): ${(err as Error).message}`);
  }
  return checkExports(mod.instantiate({}), 'portable core');
}

function checkExports(exports: CoreExports, what: string): CoreExports {
  for (const name of EXPORT_NAMES) {
    if (!(name in exports)) throw new Error(`${what} lacks export ${name} (stale build?)`);
  }
  const abi = exports.abiVersion();
  if (abi !== CORE_ABI_VERSION) throw new Error(`${what} has ABI version ${abi}, this agent needs ${CORE_ABI_VERSION}`);
  return exports;
}
