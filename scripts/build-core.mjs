// Builds the WASM core and its portable JS fallback from the same AssemblyScript sources.
//
//   dist/core.wasm                       asc -O3, SIMD on (asconfig.json target "release")
//   dist/core-scalar.wasm                asc -O3, SIMD off (target "portable"): shipped too, for
//                                         CPUs/V8 builds without Wasm SIMD (MIPS, old x86)
//   src/core/generated/core-portable.mjs dist/core-scalar.wasm through Binaryen's wasm2js,
//                                         wrapped as `instantiate(imports)`
//
// Why wasm2js and not AssemblyScript's "portable" mode: portable mode compiles the sources with
// tsc against a JS shim, so it has no linear memory, no load/store and no v128, and it gives
// i32 arithmetic JS semantics unless every operation is wrapped by hand. The core is pointer
// code over one linear memory that the TypeScript side owns, so portable mode would have meant
// a second, hand-maintained implementation. Compiling the very same sources twice — once with
// SIMD, once without (every kernel in assembly/lanes.ts and assembly/sort.ts has a scalar body
// that keeps the lanes of its v128 body) — and translating the scalar module to JS keeps ONE
// source of truth, the same memory layout and the same exports for both builds, and makes the
// two bit-identical (test/core checks this).
//
// The fallback lands in src/core/generated/ (git-ignored) rather than dist/ so that esbuild
// bundles it into the agent through a static import: the fallback can then never be missing
// from a package, even when core.wasm is.
//
// Incremental: does nothing when every output is newer than every input (this runs before
// every `npm test`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const wasmOut = join(root, 'dist/core.wasm');
const scalarOut = join(root, 'dist/core-scalar.wasm');
const portableOut = join(root, 'src/core/generated/core-portable.mjs');
const force = process.argv.includes('--force');

function listSources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listSources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const inputs = [...listSources(join(root, 'assembly')), join(root, 'asconfig.json'), fileURLToPath(import.meta.url)];
const newestInput = Math.max(...inputs.map((p) => statSync(p).mtimeMs));
const outputs = [wasmOut, scalarOut, portableOut];
const upToDate = outputs.every((p) => existsSync(p) && statSync(p).mtimeMs > newestInput);
if (upToDate && !force) {
  console.error('build-core: up to date');
  process.exit(0);
}

const started = Date.now();
const { default: asc } = await import('assemblyscript/asc');

async function compile(target) {
  const { error, stderr } = await asc.main(['--config', join(root, 'asconfig.json'), '--target', target, '--baseDir', root], {});
  if (error) {
    console.error(stderr.toString());
    throw new Error(`build-core: asc failed for target ${target}: ${error.message}`);
  }
}

function writeAtomically(path, data) {
  // A test run in parallel must never read a half-written file.
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function findWasm2js() {
  for (const p of ['node_modules/binaryen/bin/wasm2js', 'node_modules/assemblyscript/node_modules/binaryen/bin/wasm2js']) {
    if (existsSync(join(root, p))) return join(root, p);
  }
  throw new Error('build-core: wasm2js not found (it ships with binaryen, a dependency of assemblyscript)');
}

mkdirSync(join(root, 'dist'), { recursive: true });
// asc writes its outFile directly; compile to the final names, the portable step reads scalarOut.
await compile('release');
await compile('portable');

const w2j = spawnSync(
  process.execPath,
  [findWasm2js(), scalarOut, '-O3', '--enable-bulk-memory', '--enable-nontrapping-float-to-int'],
  { encoding: 'utf8', maxBuffer: 64 << 20 },
);
if (w2j.status !== 0) {
  console.error(w2j.stderr);
  throw new Error('build-core: wasm2js failed');
}
// wasm2js ends its ES module with one instantiation at import time plus one `export var` per
// export. Replace that tail with a factory so every loadCore() gets its own memory.
const tail = /\nvar retasmFunc = asmFunc\(\{[\s\S]*?\}\);\n(export var \w+ = retasmFunc\.\w+;\n?)+\s*$/;
if (!tail.test(w2j.stdout)) throw new Error('build-core: unexpected wasm2js output layout (tail not found)');
let js = w2j.stdout.replace(tail, '\nexport function instantiate(imports) {\n  return asmFunc(imports);\n}\n');

const { transform } = await import('esbuild');
js = (await transform(js, { minify: true, format: 'esm', target: 'node20', legalComments: 'none' })).code;
const header =
  '// GENERATED by scripts/build-core.mjs from assembly/ (asc without SIMD, then wasm2js). Do not edit.\n';
writeAtomically(portableOut, header + js);

console.error(
  `build-core: ${relative(root, wasmOut)} ${statSync(wasmOut).size} B, ${relative(root, scalarOut)} ${statSync(scalarOut).size} B, ` +
    `${relative(root, portableOut)} ${Buffer.byteLength(header + js)} B` +
    ` in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
