// An ARM core the bridge cannot run on: a bridge built for armv7-a (what shipped before the
// armv5te build) run under qemu-user's ARMv5TE CPU model (arm926) dies with a real SIGILL.
// The shipped bundle, pointed at it, says so in one line with no stack trace, the way it does
// with no bridge at all (test/runtime/missing-bridge.test.ts): the daemon then serves /health
// with the mesh down and the reason, `x0tta6bl4 mesh` exits 1. The agent runs
// on this host (x64), so the line names this host's arch; on a router it names arm.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand, root } from './bridge-process.ts';
import { runCli, runDaemon, scratchInstall, STACK_TRACE, verdictLines } from './bridgeless-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-sigill-'));
let config = '';
const armv7 = join(dir, 'nlbridge-armv7');
const wrapper = join(dir, 'bridge-on-arm926');

test.before(() => {
  for (const cmd of ['arm-linux-gnueabi-gcc', 'qemu-arm-static']) assert.ok(hasCommand(cmd), `${cmd} is required (gcc-arm-linux-gnueabi, qemu-user-static)`);
  config = scratchInstall(dir);
  const src = join(root, 'native', 'src');
  const sources = readdirSync(src).filter((f) => f.endsWith('.c')).map((f) => join(src, f));
  // The old arm flags (scripts/build-native.mjs before the armv5te change), enough of them.
  const cc = spawnSync('arm-linux-gnueabi-gcc', ['-std=gnu11', '-Os', '-nostdlib', '-static', '-ffreestanding', '-fno-stack-protector', '-fno-pie', '-no-pie', '-Wl,-e,_start', '-march=armv7-a', '-marm', '-mfloat-abi=soft', '-o', armv7, ...sources, '-lgcc'], { encoding: 'utf8' });
  assert.is(cc.status, 0, cc.stderr);
  writeFileSync(wrapper, `#!/bin/sh\nexec qemu-arm-static -cpu arm926 ${armv7} "$@"\n`);
  chmodSync(wrapper, 0o755);
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the armv7-a build really dies with SIGILL on an ARMv5TE core', () => {
  const r = spawnSync(wrapper, ['route'], { input: '', timeout: 30_000 });
  assert.is(r.signal, 'SIGILL', `status ${r.status} signal ${r.signal}: ${r.stderr}`);
});

test('the daemon with that bridge: one line saying this CPU cannot run it, then /health says it', async () => {
  const r = await runDaemon(dir, config, { X0TTA6BL4_NLBRIDGE: wrapper });
  assert.not.match(r.stderr, STACK_TRACE);
  const lines = verdictLines(r.stderr);
  assert.is(lines.length, 1, r.stderr);
  const prefix = "x0tta6bl4: mesh_driver 'batman-adv' cannot start, the agent cannot watch the mesh: ";
  assert.ok(lines[0]!.startsWith(prefix), lines[0]);
  const reason = lines[0]!.slice(prefix.length);
  // The agent runs on this host, so the reason names this host's arch (on an ARMv5 router:
  // "the arm bridge needs ARMv5TE or later: this CPU is ARMv4 (illegal instruction)").
  assert.ok(reason.startsWith(`the ${process.arch} bridge uses instructions this CPU lacks (illegal instruction): netlink bridge ${wrapper} exited with signal SIGILL`), reason);
  assert.equal(
    r.health.components.find((c) => c.name === 'mesh'),
    { name: 'mesh', state: 'down', reason },
  );
  assert.is(r.health.overall, 'down');
  assert.is(r.code, 0, r.stderr);
});

test('`mesh settings` with that bridge: the same reason in one line, exit 1', async () => {
  const r = await runCli(dir, ['mesh', 'settings', '--meshif', 'bat0'], { X0TTA6BL4_NLBRIDGE: wrapper });
  assert.is(r.code, 1, r.stderr);
  assert.not.match(r.stderr, STACK_TRACE);
  const lines = verdictLines(r.stderr);
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, `x0tta6bl4: the ${process.arch} bridge uses instructions this CPU lacks (illegal instruction): netlink bridge ${wrapper} exited with signal SIGILL`);
});

test.run();
