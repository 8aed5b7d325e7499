// loadConfig on real files: the shipped default, and every way a file can be wrong on a router
// (missing, unreadable, a directory, a device, huge, binary) gives one clear ConfigError.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, defaultConfig, loadConfig } from '../../src/config/index.ts';

const root = new URL('../..', import.meta.url).pathname;
const shipped = join(root, 'openwrt/x0tta6bl4/files/x0tta6bl4.config');
const dir = mkdtempSync(join(tmpdir(), 'x0-config-'));
chmodSync(dir, 0o755);

function loadError(path: string): ConfigError {
  try {
    loadConfig(path);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw new Error(`expected ConfigError, got ${String(e)}`);
  }
  throw new Error(`expected ConfigError for ${path}`);
}

test('the shipped /etc/config/x0tta6bl4 is exactly the defaults, without warnings', () => {
  const { config, warnings } = loadConfig(shipped);
  assert.equal(config, defaultConfig());
  assert.equal(warnings, []);
});

test('a good file loads, with its warnings', () => {
  const p = join(dir, 'good');
  writeFileSync(p, "config agent 'agent'\n\toption log_level 'debug'\n\toption colour 'blue'\n");
  const { config, warnings } = loadConfig(p);
  assert.is(config.agent.logLevel, 'debug');
  assert.equal(warnings.map((w) => [w.file, w.line, w.option]), [[p, 3, 'colour']]);
});

test('missing file: "file not found"', () => {
  const e = loadError(join(dir, 'nope'));
  assert.match(e.message, /nope: file not found$/);
  assert.is(e.issues.length, 1);
  assert.is(e.issues[0]!.message, 'file not found');
  assert.match(loadError(join(dir, 'good', 'below-a-file')).message, /file not found/);
});

test('unreadable file (EACCES): a clear error, not a raw fs exception', () => {
  const p = join(dir, 'secret');
  writeFileSync(p, "config agent 'agent'\n");
  chmodSync(p, 0o000);
  if (process.getuid?.() === 0) {
    // root reads any file, so the check runs in a child process as 'nobody' (a real EACCES).
    const script = `import(${JSON.stringify(join(root, 'src/config/load.ts'))}).then((m) => {
      try { m.loadConfig(${JSON.stringify(p)}); console.log('LOADED'); }
      catch (e) { console.log(e.name + ': ' + e.message); }
    })`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, uid: 65534, gid: 65534, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ConfigError: .*secret: permission denied: cannot read the config file/);
  } else {
    assert.match(loadError(p).message, /permission denied/);
  }
});

test('a directory, a device and a FIFO are refused without reading them', () => {
  assert.match(loadError(dir).message, /is a directory/);
  // A character device of our own (the major/minor of /dev/zero) in the scratch directory.
  const zero = join(dir, 'zero');
  assert.is(spawnSync('mknod', [zero, 'c', '1', '5']).status, 0, 'mknod failed (the test runs as root)');
  assert.match(loadError(zero).message, /is a character device, not a regular file/);
  const fifo = join(dir, 'fifo');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo (coreutils) failed');
  assert.match(loadError(fifo).message, /is a FIFO, not a regular file/);
});

test('a 10 MB file is refused from its size, quickly and without reading it', () => {
  const p = join(dir, 'huge');
  writeFileSync(p, Buffer.alloc(10 * 1024 * 1024, 0x41));
  const e = loadError(p);
  assert.match(e.message, /is 10485760 bytes, more than the 1 MiB such a file can be \(is this the right file\?\)/);
});

test('binary garbage and NUL bytes: a syntax error with the position', () => {
  const p = join(dir, 'bin');
  writeFileSync(p, Buffer.concat([Buffer.from("config agent 'agent'\n\toption fleet '"), Buffer.from([0, 1, 2, 0xff]), Buffer.from("'\n")]));
  const e = loadError(p);
  assert.is(e.issues[0]!.line, 2);
  assert.match(e.issues[0]!.message, /syntax error at column 16: expected text, found a NUL byte/);
});

test('every schema error in a file comes in one ConfigError', () => {
  const p = join(dir, 'many');
  writeFileSync(p, "config agent 'agent'\n option log_level loud\nconfig healing 'healing'\n option interval 0\nconfig telemetry 'telemetry'\n option enabled 1\n");
  const e = loadError(p);
  assert.equal(e.issues.map((i) => `${i.line} ${i.section}.${i.option}`), ['2 agent.log_level', '4 healing.interval', '5 telemetry.broker']);
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
