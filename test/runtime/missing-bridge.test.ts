// The shipped bundle on a machine with no netlink bridge for its CPU, or with one it cannot
// run: the agent (mesh_driver 'batman-adv') says so in one line and exits 1, no stack trace. The
// bundle is copied alone into a scratch dir, as on a router whose package has no bridge for
// its arch; X0TTA6BL4_NLBRIDGE points at scratch decoys (a garbage file, a non-executable one).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIST = new URL('../../dist/', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'x0-nobridge-'));
const bundle = join(root, 'x0tta6bl4.mjs');

function agent(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [bundle, 'agent', '--config', join(root, 'x0tta6bl4')], { cwd: root, timeout: 30_000, env: { ...process.env, ...env } }, (err, _out, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n').filter((l) => !/^(info|debug):/.test(l));
  assert.is(lines.length, 1, stderr);
  assert.not.match(stderr, /internal error|\n\s+at /);
  return lines[0]!;
}

test.before(() => {
  assert.ok(existsSync(join(DIST, 'x0tta6bl4.mjs')), 'dist/x0tta6bl4.mjs missing: run npm run build');
  copyFileSync(join(DIST, 'x0tta6bl4.mjs'), bundle);
  if (existsSync(join(DIST, 'core.wasm'))) copyFileSync(join(DIST, 'core.wasm'), join(root, 'core.wasm'));
  mkdirSync(join(root, 'state'), { mode: 0o700 });
  writeFileSync(
    join(root, 'x0tta6bl4'),
    `config agent 'agent'\n\toption mesh_driver 'batman-adv'\n\toption state_dir '${join(root, 'state')}'\n\n` +
      `config status 'status'\n\toption socket '${join(root, 'status.sock')}'\n`,
  );
});
test.after(() => rmSync(root, { recursive: true, force: true }));

test('no bridge for this arch: one line naming the arch and where it looked, exit 1', async () => {
  const env = { X0TTA6BL4_NLBRIDGE: '' };
  const r = await agent(env);
  assert.is(r.code, 1, r.stderr);
  const line = oneLine(r.stderr);
  assert.match(line, `x0tta6bl4: mesh_driver 'batman-adv' cannot start, the agent cannot watch the mesh: no netlink bridge for ${process.arch}; looked in: ${join(root, 'native')}`);
});

test('a bridge file that is not executable is not run: the same line', async () => {
  const file = join(root, 'bridge-noexec');
  writeFileSync(file, '#!/bin/sh\necho ran >&2\n', { mode: 0o644 });
  const r = await agent({ X0TTA6BL4_NLBRIDGE: file });
  assert.is(r.code, 1, r.stderr);
  assert.match(oneLine(r.stderr), `no netlink bridge for ${process.arch}; looked in: ${file}, `);
});

test('a bridge that is garbage (execvp would hand it to /bin/sh): one line saying this CPU cannot run it, exit 1', async () => {
  const file = join(root, 'bridge-garbage');
  writeFileSync(file, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]));
  chmodSync(file, 0o755);
  const r = await agent({ X0TTA6BL4_NLBRIDGE: file });
  assert.is(r.code, 1, r.stderr);
  const line = oneLine(r.stderr);
  assert.is(line, `x0tta6bl4: mesh_driver 'batman-adv' cannot start, the agent cannot watch the mesh: netlink bridge ${file} cannot run here: it is not a program this ${process.arch} CPU can run (not an ELF file)`);
});

test('a bridge built for another CPU (an ELF header for aarch64): one line, exit 1', async () => {
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
  const r = await agent({ X0TTA6BL4_NLBRIDGE: file });
  assert.is(r.code, 1, r.stderr);
  assert.match(oneLine(r.stderr), `netlink bridge ${file} cannot run here: it is not a program this ${process.arch} CPU can run (ELF machine`);
});

test.run();
