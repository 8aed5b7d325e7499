// The three builds of the core compute the same bits: dist/core.wasm (SIMD), dist/core-scalar.wasm
// (the same sources without SIMD) and the portable JS build, on one fixed workload of every rule,
// route scoring and training (variant-digest.ts). And a V8 that cannot run Wasm SIMD really loads
// the scalar WASM, reports it as a normal state, and gets the same bits.
//
// A V8 without Wasm SIMD, for real: on x86 V8 compiles Wasm SIMD only with SSE4.1, and
// `node --no-enable-sse4-1` turns that CPU feature off, so V8 refuses core.wasm with the very error
// a MIPS router's V8 gives ("Wasm SIMD unsupported"). No mock and no test-only switch in the
// loader. That flag exists on x86 only; elsewhere those tests say so and do not run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NO_SIMD_REASON, loadCore } from '../../src/core/index.ts';
import { digestCore } from './variant-digest.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const x86 = process.arch === 'x64' || process.arch === 'ia32';
const NO_SIMD = ['--no-enable-sse4-1'];

const simd = await loadCore();
const scalar = await loadCore({ prefer: 'wasm-scalar' });
const js = await loadCore({ prefer: 'js' });
const reference = digestCore(simd);

interface ChildReport {
  variant: string;
  simd: boolean;
  simdSupported: boolean;
  fallbackReason?: string;
  health: { state: string; reason: string };
  digests: Record<string, string>;
}

function child(flags: string[], prefer = 'wasm'): ChildReport {
  const out = execFileSync(process.execPath, [...flags, '--import', 'tsx', 'test/core/variant-digest.ts', prefer], {
    cwd: root, encoding: 'utf8', env: { ...process.env, X0TTA6BL4_WASM: '' },
  });
  return JSON.parse(out) as ChildReport;
}

test('the three builds load as what they claim', () => {
  assert.equal([simd.variant, simd.kind, simd.simd, simd.source], ['wasm-simd', 'wasm', true, `${root}dist/core.wasm`]);
  assert.equal([scalar.variant, scalar.kind, scalar.simd, scalar.source], ['wasm-scalar', 'wasm', false, `${root}dist/core-scalar.wasm`]);
  assert.equal([js.variant, js.kind, js.simd, js.source], ['js', 'js', false, undefined]);
});

test('SIMD WASM, scalar WASM and JS give bit-identical results on every case', () => {
  assert.ok(Object.keys(reference).length >= 40, `${Object.keys(reference).length} cases`);
  assert.equal(digestCore(scalar), reference);
  assert.equal(digestCore(js), reference);
});

test('the digests hash the outputs: no two cases share one', () => {
  // guards the test above against a digest that hashes nothing
  const values = Object.values(reference);
  assert.is(new Set(values).size, values.length);
});

test('without SIMD (node --no-enable-sse4-1) V8 really refuses core.wasm', () => {
  if (!x86) return void console.log(`  (skipped on ${process.arch}: --enable-sse4-1 is an x86 V8 flag)`);
  const script = `WebAssembly.instantiate(require('fs').readFileSync(${JSON.stringify(`${root}dist/core.wasm`)}), {})` +
    `.then(() => console.log('instantiated'), (e) => console.log(e.message))`;
  const out = execFileSync(process.execPath, [...NO_SIMD, '-e', script], { encoding: 'utf8' });
  assert.match(out, /Wasm SIMD unsupported/);
});

test('without SIMD: the scalar WASM loads, is reported ok, and computes the same bits', () => {
  if (!x86) return void console.log(`  (skipped on ${process.arch}: --enable-sse4-1 is an x86 V8 flag)`);
  const r = child(NO_SIMD);
  assert.is(r.variant, 'wasm-scalar');
  assert.is(r.simd, false);
  assert.is(r.simdSupported, false);
  assert.is(r.fallbackReason, NO_SIMD_REASON);
  assert.equal(r.health, { state: 'ok', reason: 'scalar WebAssembly (no Wasm SIMD on this CPU/Node)' });
  assert.equal(r.digests, reference);
});

test('without SIMD the JS build still agrees (the same child V8)', () => {
  if (!x86) return void console.log(`  (skipped on ${process.arch}: --enable-sse4-1 is an x86 V8 flag)`);
  const r = child(NO_SIMD, 'js');
  assert.is(r.variant, 'js');
  assert.equal(r.health.state, 'degraded');
  assert.equal(r.digests, reference);
});

test.run();
