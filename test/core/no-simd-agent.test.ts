// The shipped bundle (dist/x0tta6bl4.mjs) as the agent, laid out as the package lays it out
// (core.wasm and core-scalar.wasm beside it, in a scratch dir), on a V8 that cannot run Wasm
// SIMD: `node --no-enable-sse4-1` on x86, the same refusal a MIPS router's V8 gives (see
// variants.test.ts). /health shows the core ok with the scalar build; /status keeps node.core
// 'wasm' (what the LuCI page and the metrics read). Without core-scalar.wasm it is the JS
// fallback, degraded. The agent runs the simulator driver (no mesh on a test machine).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { DEFAULT_CONFIG, getJson, simulatorConfig, waitFor } from '../luci/real-agent.ts';

const DIST = new URL('../../dist/', import.meta.url).pathname;
const x86 = process.arch === 'x64' || process.arch === 'ia32';
const scratch = mkdtempSync(join(tmpdir(), 'x0-nosimd-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

interface Seen {
  core: { state: string; reason: string };
  nodeCore: string | null;
  log: string;
}

async function runAgent(name: string, files: string[], nodeFlags: string[]): Promise<Seen> {
  const dir = join(scratch, name);
  const bundle = join(dir, 'x0tta6bl4.mjs');
  for (const f of ['x0tta6bl4.mjs', ...files]) {
    assert.ok(existsSync(join(DIST, f)), `dist/${f} missing: run npm run build`);
  }
  mkdirSync(dir);
  for (const f of ['x0tta6bl4.mjs', ...files]) copyFileSync(join(DIST, f), join(dir, f));
  const socket = join(dir, 'agent.sock');
  const config = join(dir, 'x0tta6bl4');
  writeFileSync(config, simulatorConfig(readFileSync(DEFAULT_CONFIG, 'utf8'), socket, join(dir, 'state')));
  const env = { ...process.env, X0TTA6BL4_WASM: '' };
  const proc = spawn(process.execPath, [...nodeFlags, bundle, 'agent', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => proc.once('exit', r));
  try {
    const health = await waitFor('the agent status socket', async () => {
      if (proc.exitCode !== null) throw new Error(`agent exited ${proc.exitCode}: ${out}`);
      return existsSync(socket) && (await getJson(socket, '/health'));
    });
    const status = await getJson(socket, '/status');
    const core = (health.components as { name: string; state: string; reason: string }[]).find((c) => c.name === 'core')!;
    return { core: { state: core.state, reason: core.reason }, nodeCore: status.node.core, log: out };
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
}

test('no SIMD, both .wasm shipped: the scalar WASM runs and the core is ok', async () => {
  if (!x86) return void console.log(`  (skipped on ${process.arch}: --enable-sse4-1 is an x86 V8 flag)`);
  const r = await runAgent('scalar', ['core.wasm', 'core-scalar.wasm'], ['--no-enable-sse4-1']);
  assert.equal(r.core, { state: 'ok', reason: 'scalar WebAssembly (no Wasm SIMD on this CPU/Node)' }, r.log);
  assert.is(r.nodeCore, 'wasm');
  assert.match(r.log, /no Wasm SIMD on this CPU\/Node: using the scalar WASM core/);
  assert.not.match(r.log, /^warn.*core/m);
});

test('no SIMD and no core-scalar.wasm: the JS fallback, degraded, saying why', async () => {
  if (!x86) return void console.log(`  (skipped on ${process.arch}: --enable-sse4-1 is an x86 V8 flag)`);
  const r = await runAgent('js', ['core.wasm'], ['--no-enable-sse4-1']);
  assert.is(r.core.state, 'degraded', r.log);
  assert.match(r.core.reason, /^portable JS fallback: this Node\/CPU cannot run Wasm SIMD; core-scalar\.wasm not found: /);
  assert.is(r.nodeCore, 'js');
});

test('with SIMD: the SIMD WASM, ok', async () => {
  const r = await runAgent('simd', ['core.wasm', 'core-scalar.wasm'], []);
  assert.equal(r.core, { state: 'ok', reason: 'WebAssembly (SIMD)' }, r.log);
  assert.is(r.nodeCore, 'wasm');
});

test.run();
