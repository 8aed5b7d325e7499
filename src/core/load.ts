// Finds and instantiates the core: dist/core.wasm (SIMD) when it can, else the portable JS build
// of the same sources, with the reason recorded on core.fallbackReason.
//
// Loader: hand-written, ~40 lines. AssemblyScript's generated bindings and @assemblyscript/loader
// exist to marshal strings, arrays and GC objects; this core exports only numeric functions over
// memory that the TypeScript side manages itself, so they would add bytes and nothing else.
//
// WASM search order (the first file that exists is used; if it cannot be used, the JS fallback
// runs and says why rather than trying another copy):
//   1. opts.wasmPath   2. $X0TTA6BL4_WASM   3. core.wasm next to this module (the esbuild bundle
//   dist/x0tta6bl4.mjs has dist/core.wasm beside it)   4. ../../dist/core.wasm (dev runs of
//   src/core via tsx)   5. /usr/lib/x0tta6bl4/core.wasm (the OpenWrt package)
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CORE_ABI_VERSION, type CoreExports, EXPORT_NAMES } from './exports.ts';
import { type Core, createCore } from './core.ts';
import { CoreLoadError } from './errors.ts';

export interface LoadCoreOptions {
  /** 'js' skips the WASM build (tests, benchmarks, V8 without WebAssembly). Default 'wasm'. */
  prefer?: 'wasm' | 'js';
  /** Explicit path (or file: URL) of core.wasm, searched first. */
  wasmPath?: string;
}

export const PACKAGED_WASM_PATH = '/usr/lib/x0tta6bl4/core.wasm';

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

export async function loadCore(opts: LoadCoreOptions = {}): Promise<Core> {
  if (opts.prefer !== undefined && opts.prefer !== 'wasm' && opts.prefer !== 'js') {
    throw new CoreLoadError(`loadCore: prefer must be 'wasm' or 'js', got ${String(opts.prefer)}`);
  }
  if (opts.prefer === 'js') return createCore(await instantiatePortable(), 'js', undefined, undefined);
  const tried: string[] = [];
  let reason: string | undefined;
  for (const path of wasmCandidates(opts.wasmPath)) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (err) {
      tried.push(`${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      continue;
    }
    try {
      return createCore(await instantiateWasm(bytes), 'wasm', undefined, path);
    } catch (err) {
      reason = `${path}: ${(err as Error).message}`;
      break;
    }
  }
  reason ??= `core.wasm not found: ${tried.join(', ')}`;
  let portable: CoreExports;
  try {
    portable = await instantiatePortable();
  } catch (err) {
    throw new CoreLoadError(`no usable core: WASM: ${reason}; JS fallback: ${(err as Error).message}`);
  }
  return createCore(portable, 'js', reason, undefined);
}

// The part of the WebAssembly global this loader uses (lib "ES2023" has no WebAssembly types).
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }>;
}

async function instantiateWasm(bytes: Uint8Array): Promise<CoreExports> {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) throw new Error('WebAssembly is not available in this Node (run without --jitless)');
  // instantiate rejects a module whose SIMD this V8/CPU cannot run: that becomes the fallback reason.
  const { instance } = await wasm.instantiate(bytes, {});
  return checkExports(instance.exports as CoreExports, 'core.wasm');
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
