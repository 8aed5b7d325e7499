// The shipped bundle on a machine with no netlink bridge for its CPU, or with one it cannot
// run. The daemon (`x0tta6bl4 agent`, mesh_driver 'batman-adv', what procd starts) says so in
// one line, no stack trace, and stays up serving /health, /status and /metrics with the mesh
// down and the reason, no loop and no actions; it stops cleanly on SIGTERM. The one-shot
// `x0tta6bl4 mesh` says the same in one line and exits 1. dist/ is copied into a scratch dir
// with this arch's bridge removed, as on a router whose package has none for its CPU;
// X0TTA6BL4_NLBRIDGE points at scratch decoys (a garbage file, a non-executable one).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runDaemon, scratchInstall, STACK_TRACE, verdictLines, type DaemonRun } from '../native/bridgeless-agent.ts';

const root = mkdtempSync(join(tmpdir(), 'x0-nobridge-'));
let config = '';
const PREFIX = "x0tta6bl4: mesh_driver 'batman-adv' cannot start, the agent cannot watch the mesh: ";

test.before(() => {
  config = scratchInstall(root);
});
test.after(() => rmSync(root, { recursive: true, force: true }));

/** The daemon's one line, and /health, /status and /metrics saying the same reason. */
function checkDaemon(r: DaemonRun): string {
  assert.not.match(r.stderr, STACK_TRACE);
  const lines = verdictLines(r.stderr);
  assert.is(lines.length, 1, r.stderr);
  assert.ok(lines[0]!.startsWith(PREFIX), lines[0]);
  const reason = lines[0]!.slice(PREFIX.length);
  const mesh = r.health.components.find((c) => c.name === 'mesh');
  assert.equal(mesh, { name: 'mesh', state: 'down', reason });
  assert.is(r.health.overall, 'down');
  assert.is(r.health.components.find((c) => c.name === 'loop')?.state, 'down');
  assert.is(r.status.healing, null, 'no healer: no actions');
  assert.match(r.metrics, /x0tta6bl4_up\{[^}]*\} 0\n/);
  assert.match(r.metrics, /x0tta6bl4_component_state\{[^}]*component="mesh",state="down"\} 1\n/);
  assert.is(r.code, 0, `SIGTERM: a clean stop\n${r.stderr}`);
  return reason;
}

test('no bridge for this arch: the daemon says so in one line and serves /health with the mesh down', async () => {
  const r = await runDaemon(root, config, { X0TTA6BL4_NLBRIDGE: '' });
  const reason = checkDaemon(r);
  assert.ok(reason.startsWith(`no netlink bridge for ${process.arch}; looked in: ${join(root, 'native', `x0tta6bl4-nlbridge-${process.arch}`)}`), reason);
});

test('no bridge for this arch: `mesh originators` says the same in one line, exit 1', async () => {
  const r = await runCli(root, ['mesh', 'originators', '--meshif', 'bat0'], { X0TTA6BL4_NLBRIDGE: '' });
  assert.is(r.code, 1, r.stderr);
  assert.not.match(r.stderr, STACK_TRACE);
  const lines = verdictLines(r.stderr);
  assert.is(lines.length, 1, r.stderr);
  assert.ok(lines[0]!.startsWith(`x0tta6bl4: no netlink bridge for ${process.arch}; looked in: ${join(root, 'native')}`), lines[0]);
});

test('a bridge file that is not executable is not run: the same reason', async () => {
  const file = join(root, 'bridge-noexec');
  writeFileSync(file, '#!/bin/sh\necho ran >&2\n', { mode: 0o644 });
  const reason = checkDaemon(await runDaemon(root, config, { X0TTA6BL4_NLBRIDGE: file }));
  assert.ok(reason.startsWith(`no netlink bridge for ${process.arch}; looked in: ${file}, `), reason);
});

test('a bridge that is garbage (execvp would hand it to /bin/sh): the reason says this CPU cannot run it', async () => {
  const file = join(root, 'bridge-garbage');
  writeFileSync(file, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]));
  chmodSync(file, 0o755);
  const reason = checkDaemon(await runDaemon(root, config, { X0TTA6BL4_NLBRIDGE: file }));
  assert.is(reason, `netlink bridge ${file} cannot run here: it is not a program this ${process.arch} CPU can run (not an ELF file)`);
  const cli = await runCli(root, ['mesh', 'neighbours', '--meshif', 'bat0'], { X0TTA6BL4_NLBRIDGE: file });
  assert.is(cli.code, 1, cli.stderr);
  assert.equal(verdictLines(cli.stderr), [`x0tta6bl4: ${reason}`]);
});

test('a bridge built for another CPU (an ELF header for aarch64): the reason names the ELF machine', async () => {
  const file = join(root, 'bridge-aarch64');
  const elf = Buffer.alloc(64);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2; // 64-bit
  elf[5] = 1; // little-endian
  elf[6] = 1;
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(process.arch === 'arm64' ? 62 : 183, 18); // x86_64 on arm64, else aarch64
  writeFileSync(file, elf);
  chmodSync(file, 0o755);
  const reason = checkDaemon(await runDaemon(root, config, { X0TTA6BL4_NLBRIDGE: file }));
  assert.match(reason, `netlink bridge ${file} cannot run here: it is not a program this ${process.arch} CPU can run (ELF machine`);
});

test.run();
