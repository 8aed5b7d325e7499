// loadCore: the WASM search order, the fallback SIMD WASM → scalar WASM → portable JS with a
// reason, and that src/core bundles with esbuild into one ESM file that finds core.wasm and
// core-scalar.wasm beside itself and still works (on the bundled fallback) without them.
// (A V8 without SIMD, for real, is in variants.test.ts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { CoreLoadError, PACKAGED_WASM_PATH, loadCore, scalarCandidates, wasmCandidates } from '../../src/core/index.ts';
import { coreHealth } from '../../src/agent/starting-health.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const builtWasm = join(root, 'dist/core.wasm');
const builtScalar = join(root, 'dist/core-scalar.wasm');
const tmp = mkdtempSync(join(tmpdir(), 'x0tta6bl4-core-load-'));
const savedEnv = process.env.X0TTA6BL4_WASM;

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
  if (savedEnv === undefined) delete process.env.X0TTA6BL4_WASM;
  else process.env.X0TTA6BL4_WASM = savedEnv;
});

test('default: the SIMD WASM build from dist/ (dev run via tsx)', async () => {
  delete process.env.X0TTA6BL4_WASM;
  const core = await loadCore();
  assert.is(core.kind, 'wasm');
  assert.is(core.variant, 'wasm-simd');
  assert.is(core.simd, true);
  assert.is(core.simdSupported, true);
  assert.is(core.source, builtWasm);
  assert.is(core.fallbackReason, undefined);
  assert.equal(coreHealth(core), { state: 'ok', reason: 'WebAssembly (SIMD)' });
});

test('search order: option, environment, beside the module, dist/, the package path', () => {
  process.env.X0TTA6BL4_WASM = '/env/core.wasm';
  assert.equal(wasmCandidates('/opt/core.wasm'), [
    '/opt/core.wasm',
    '/env/core.wasm',
    join(root, 'src/core/core.wasm'),
    builtWasm,
    PACKAGED_WASM_PATH,
  ]);
  delete process.env.X0TTA6BL4_WASM;
  assert.is(wasmCandidates(pathToFileURL('/x/y.wasm').href)[0], '/x/y.wasm', 'file: URLs are accepted');
  assert.equal(scalarCandidates('/opt/mine.wasm'), [
    '/opt/core-scalar.wasm',
    join(root, 'src/core/core-scalar.wasm'),
    builtScalar,
    '/usr/lib/x0tta6bl4/core-scalar.wasm',
  ]);
});

test("prefer: 'wasm-scalar' runs dist/core-scalar.wasm: same exports, no SIMD", async () => {
  const core = await loadCore({ prefer: 'wasm-scalar' });
  assert.equal([core.kind, core.variant, core.simd, core.source, core.fallbackReason], ['wasm', 'wasm-scalar', false, builtScalar, undefined]);
  const agg = core.aggregator(3, 5);
  [0, 1, 2].forEach((i) => agg.update(i).fill(i));
  assert.equal(Array.from(agg.run({ rule: 'median' }).result), [1, 1, 1, 1, 1]);
  agg.dispose();
});

test('a broken core.wasm with core-scalar.wasm beside it: the scalar build runs, degraded, and says why', async () => {
  const dir = join(tmp, 'install');
  mkdirSync(dir);
  writeFileSync(join(dir, 'core.wasm'), Buffer.from('truncated'));
  copyFileSync(builtScalar, join(dir, 'core-scalar.wasm'));
  const core = await loadCore({ wasmPath: join(dir, 'core.wasm') });
  assert.is(core.variant, 'wasm-scalar');
  assert.is(core.source, join(dir, 'core-scalar.wasm'));
  assert.match(core.fallbackReason!, new RegExp(`^${join(dir, 'core.wasm')}: `));
  // SIMD would run here: the scalar build means a broken install, not a slow CPU
  const h = coreHealth(core);
  assert.is(h.state, 'degraded');
  assert.match(h.reason, /^scalar WebAssembly: .*core\.wasm: /);
});

test('wasmPath and X0TTA6BL4_WASM are used when they exist; missing ones are skipped', async () => {
  const mine = join(tmp, 'mine.wasm');
  copyFileSync(builtWasm, mine);
  assert.is((await loadCore({ wasmPath: mine })).source, mine);
  process.env.X0TTA6BL4_WASM = mine;
  assert.is((await loadCore()).source, mine);
  process.env.X0TTA6BL4_WASM = join(tmp, 'absent.wasm');
  const next = await loadCore({ wasmPath: join(tmp, 'also-absent.wasm') });
  assert.is(next.kind, 'wasm');
  assert.is(next.source, builtWasm);
  delete process.env.X0TTA6BL4_WASM;
});

test('an unusable core.wasm falls back to the portable build and says why', async () => {
  const corrupt = join(tmp, 'corrupt.wasm');
  writeFileSync(corrupt, Buffer.from('this is not wasm'));
  const a = await loadCore({ wasmPath: corrupt });
  assert.is(a.kind, 'js');
  assert.match(a.fallbackReason!, new RegExp(`^${corrupt}: .*`));
  // only the scalar build of the same install is tried, not dist/'s
  assert.match(a.fallbackReason!, new RegExp(`; core-scalar.wasm not found: ${join(tmp, 'core-scalar.wasm')} \\(ENOENT\\)$`));
  assert.equal(coreHealth(a).state, 'degraded');
  // a valid module of another build: no exports at all
  const empty = join(tmp, 'empty.wasm');
  writeFileSync(empty, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  const b = await loadCore({ wasmPath: empty });
  assert.is(b.kind, 'js');
  assert.match(b.fallbackReason!, /lacks export memory \(stale build\?\)/);
  // and the fallback works
  const agg = b.aggregator(3, 2);
  [0, 1, 2].forEach((i) => agg.update(i).fill(i));
  assert.equal(Array.from(agg.run({ rule: 'median' }).result), [1, 1]);
});

test("prefer: 'js' runs the portable build without a fallback reason; bad prefer is a typed error", async () => {
  const core = await loadCore({ prefer: 'js' });
  assert.is(core.kind, 'js');
  assert.is(core.variant, 'js');
  assert.is(core.simd, false);
  assert.is(core.fallbackReason, undefined);
  try {
    await loadCore({ prefer: 'gpu' as 'js' });
    assert.unreachable('accepted');
  } catch (err) {
    assert.instance(err, CoreLoadError);
  }
});

test('src/core bundles into one ESM file: WASM beside the bundle, the fallback inside it', async () => {
  const dir = join(tmp, 'bundle');
  const out = join(dir, 'agent.mjs');
  const entry = join(tmp, 'entry.ts');
  writeFileSync(entry, `export { loadCore } from ${JSON.stringify(join(root, 'src/core/index.ts'))};\n`);
  const result = await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'silent', metafile: true });
  assert.equal(result.errors, []);
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((p) => p.endsWith('src/core/generated/core-portable.mjs')), 'the portable core is inside the bundle');
  const { loadCore: bundledLoad } = (await import(pathToFileURL(out).href)) as typeof import('../../src/core/index.ts');
  // without core.wasm next to it (and none at the package path on this machine): bundled fallback
  const fallback = await bundledLoad();
  assert.is(fallback.kind, 'js');
  assert.match(fallback.fallbackReason!, /core\.wasm not found: .*bundle\/core\.wasm \(ENOENT\)/);
  assert.match(fallback.fallbackReason!, /core-scalar\.wasm not found: .*bundle\/core-scalar\.wasm \(ENOENT\)/);
  // only the scalar build beside it (a package without core.wasm): scalar, with the reason
  copyFileSync(builtScalar, join(dir, 'core-scalar.wasm'));
  const scalar = await bundledLoad();
  assert.is(scalar.variant, 'wasm-scalar');
  assert.is(scalar.source, join(dir, 'core-scalar.wasm'));
  assert.match(scalar.fallbackReason!, /core\.wasm not found/);
  // with dist/core.wasm copied beside it too, as the package lays it out
  copyFileSync(builtWasm, join(dir, 'core.wasm'));
  const core = await bundledLoad();
  assert.is(core.variant, 'wasm-simd');
  assert.is(core.source, join(dir, 'core.wasm'));
});

test.run();
