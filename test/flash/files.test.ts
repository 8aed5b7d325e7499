// The shared reader and writer for files whose paths come from the config, on real files, a real
// FIFO, a char device made with mknod (the same as /dev/zero, but in a scratch directory), a
// directory, symlinks, a path under /proc (read only) and a real full tmpfs.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readRegularFile, SafeReadError } from '../../src/flash/safe-read.ts';
import { ForeignFileError, writeFileAtomic } from '../../src/flash/write-atomic.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-files-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const decoy = join(dir, 'decoy');
writeFileSync(decoy, 'decoy bytes\n');
execFileSync('mkfifo', [join(dir, 'fifo')]);
execFileSync('mknod', [join(dir, 'zero'), 'c', '1', '5']);
mkdirSync(join(dir, 'sub'));
symlinkSync(decoy, join(dir, 'link'));

test('only regular files are read: FIFO, device and directory give one line at once', () => {
  for (const [name, kind] of [['fifo', 'a FIFO'], ['zero', 'a character device'], ['sub', 'a directory']] as const) {
    const p = join(dir, name);
    assert.throws(() => readRegularFile(p, { maxBytes: 1024 }), (e: unknown) => e instanceof SafeReadError && e.message === `${p}: is ${kind}, not a regular file`, name);
  }
});

test('symlinks: followed by default, refused with noFollow', () => {
  assert.is(readRegularFile(join(dir, 'link'), { maxBytes: 1024 })!.toString(), 'decoy bytes\n');
  assert.throws(() => readRegularFile(join(dir, 'link'), { maxBytes: 1024, noFollow: true }), /symbolic link/);
});

test('missing is null; the size cap holds, also for /proc files that claim size 0', () => {
  assert.is(readRegularFile(join(dir, 'missing'), { maxBytes: 10 }), null);
  assert.throws(() => readRegularFile(decoy, { maxBytes: 4 }), /more than the 4 bytes/);
  const status = readRegularFile('/proc/self/status', { maxBytes: 64 * 1024 })!;
  assert.match(status.toString(), /^Name:/);
  assert.throws(() => readRegularFile('/proc/self/status', { maxBytes: 100 }), /more than the 100 bytes/);
});

test('the key file is created only where nothing is: a file that appears is never replaced', () => {
  const p = join(dir, 'absent');
  writeFileSync(p, 'someone else');
  assert.throws(() => writeFileAtomic(p, 'key', { mode: 0o600, existing: 'absent' }), /EEXIST/);
  assert.is(readFileSync(p, 'utf8'), 'someone else');
  assert.equal(readdirSync(dir).filter((n) => n.startsWith('absent.tmp-')), []);
});

test('replace only what passes the owner test: a foreign file, a symlink, a FIFO stay as they are', () => {
  const owns = (b: Buffer) => b.toString().startsWith('OURS');
  const foreign = join(dir, 'foreign');
  writeFileSync(foreign, 'root:x:0:0\n');
  assert.throws(() => writeFileAtomic(foreign, 'OURS 2', { mode: 0o600, existing: owns }), (e: unknown) => e instanceof ForeignFileError);
  assert.is(readFileSync(foreign, 'utf8'), 'root:x:0:0\n');
  assert.throws(() => writeFileAtomic(join(dir, 'link'), 'OURS 2', { mode: 0o600, existing: owns }), /symbolic link/);
  assert.ok(lstatSync(join(dir, 'link')).isSymbolicLink());
  assert.throws(() => writeFileAtomic(join(dir, 'fifo'), 'OURS 2', { mode: 0o600, existing: owns }), /FIFO/);
  const ours = join(dir, 'ours');
  writeFileSync(ours, 'OURS 1');
  writeFileAtomic(ours, 'OURS 2', { mode: 0o600, existing: owns });
  assert.is(readFileSync(ours, 'utf8'), 'OURS 2');
  assert.equal(readdirSync(dir).filter((n) => n.includes('.tmp-') && !n.includes(String(process.pid) + '')), []);
});

test('a full disk (a real 64 KiB tmpfs): the write fails, the old file stays, no *.tmp-* is left', () => {
  const mnt = mkdtempSync(join(tmpdir(), 'x0-files-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  try {
    const p = join(mnt, 'buffer');
    writeFileAtomic(p, 'OURS small', { mode: 0o600, existing: () => true });
    assert.throws(() => writeFileAtomic(p, Buffer.alloc(1024 * 1024, 'x'), { mode: 0o600, existing: () => true }), /ENOSPC/);
    assert.is(readFileSync(p, 'utf8'), 'OURS small');
    assert.equal(readdirSync(mnt), ['buffer']);
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true });
  }
});

test.run();
