// An ARM core the bridge cannot run on: a bridge built for armv7-a (what shipped before the
// armv5te build) run under qemu-user's ARMv5TE CPU model (arm926) dies with a real SIGILL.
// The shipped bundle, pointed at it, must stop in one line with exit 1 and no stack trace,
// the way it does with no bridge at all (test/runtime/missing-bridge.test.ts). The agent runs
// on this host (x64), so the line names this host's arch; on a router it names arm.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand, root } from './bridge-process.ts';

const DIST = join(root, 'dist');
const dir = mkdtempSync(join(tmpdir(), 'x0-sigill-'));
const bundle = join(dir, 'x0tta6bl4.mjs');
const armv7 = join(dir, 'nlbridge-armv7');
const wrapper = join(dir, 'bridge-on-arm926');

test.before(() => {
  for (const cmd of ['arm-linux-gnueabi-gcc', 'qemu-arm-static']) assert.ok(hasCommand(cmd), `${cmd} is required (gcc-arm-linux-gnueabi, qemu-user-static)`);
  assert.ok(existsSync(join(DIST, 'x0tta6bl4.mjs')), 'dist/x0tta6bl4.mjs missing: run npm run build');
  copyFileSync(join(DIST, 'x0tta6bl4.mjs'), bundle);
  if (existsSync(join(DIST, 'core.wasm'))) copyFileSync(join(DIST, 'core.wasm'), join(dir, 'core.wasm'));
  const src = join(root, 'native', 'src');
  const sources = readdirSync(src).filter((f) => f.endsWith('.c')).map((f) => join(src, f));
  // The old arm flags (scripts/build-native.mjs before the armv5te change), enough of them.
  const cc = spawnSync('arm-linux-gnueabi-gcc', ['-std=gnu11', '-Os', '-nostdlib', '-static', '-ffreestanding', '-fno-stack-protector', '-fno-pie', '-no-pie', '-Wl,-e,_start', '-march=armv7-a', '-marm', '-mfloat-abi=soft', '-o', armv7, ...sources, '-lgcc'], { encoding: 'utf8' });
  assert.is(cc.status, 0, cc.stderr);
  writeFileSync(wrapper, `#!/bin/sh\nexec qemu-arm-static -cpu arm926 ${armv7} "$@"\n`);
  chmodSync(wrapper, 0o755);
  mkdirSync(join(dir, 'state'), { mode: 0o700 });
  writeFileSync(
    join(dir, 'x0tta6bl4'),
    `config agent 'agent'\n\toption mesh_driver 'batman-adv'\n\toption state_dir '${join(dir, 'state')}'\n\n` +
      `config status 'status'\n\toption socket '${join(dir, 'status.sock')}'\n`,
  );
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the armv7-a build really dies with SIGILL on an ARMv5TE core', () => {
  const r = spawnSync(wrapper, ['route'], { input: '', timeout: 30_000 });
  assert.is(r.signal, 'SIGILL', `status ${r.status} signal ${r.signal}: ${r.stderr}`);
});

test('the agent with that bridge: one line saying this CPU cannot run it, exit 1, no stack', async () => {
  const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, [bundle, 'agent', '--config', join(dir, 'x0tta6bl4')], { cwd: dir, timeout: 60_000, env: { ...process.env, X0TTA6BL4_NLBRIDGE: wrapper } }, (err, _out, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
  assert.is(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n').filter((l) => !/^(info|debug):/.test(l));
  assert.is(lines.length, 1, r.stderr);
  assert.not.match(r.stderr, /internal error|\n\s+at /);
  assert.match(lines[0]!, "x0tta6bl4: mesh_driver 'batman-adv' cannot start, the agent cannot watch the mesh: ");
  assert.match(lines[0]!, 'SIGILL');
  assert.match(lines[0]!, `(not a program this ${process.arch} CPU can run)`);
});

test.run();
