// The identity key against a local attacker, on real files: a symlink or a 0666 file planted at
// the temporary name the old writer used (<file>.tmp-<pid>) gets nothing, and the key is 0600
// whatever the umask.
import { chmodSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadOrCreateIdentity } from '../../src/federation/identity.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-identity-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a symlink planted at the old temp name (<file>.tmp-<pid>) does not receive the key; the key is 0600', async () => {
  const key = join(dir, 'federation.key');
  const target = join(dir, 'key-decoy');
  writeFileSync(target, 'decoy');
  symlinkSync(target, `${key}.tmp-${process.pid}`);
  const r = await loadOrCreateIdentity(key);
  assert.ok(r.created);
  assert.is(readFileSync(target, 'utf8'), 'decoy', 'the symlink target is unchanged');
  assert.ok(lstatSync(key).isFile());
  assert.is(statSync(key).mode & 0o777, 0o600);
});

test('a planted 0666 file at the old temp name does not become a 0666 key; umask 000 does not widen it', async () => {
  const key = join(dir, 'federation2.key');
  writeFileSync(`${key}.tmp-${process.pid}`, '');
  chmodSync(`${key}.tmp-${process.pid}`, 0o666);
  const old = process.umask(0);
  try {
    await loadOrCreateIdentity(key);
  } finally {
    process.umask(old);
  }
  assert.is(statSync(key).mode & 0o777, 0o600);
  assert.is(readFileSync(`${key}.tmp-${process.pid}`, 'utf8'), '', 'the planted file is left alone');
});

test.run();
