// The CLI against a careless operator or a hostile script: each bad call is one line on stderr
// with the right exit code (2 bad usage, 1 failure), quoted input escaped, nothing started and
// nothing written. Runs the bundle (dist/x0tta6bl4.mjs, built by pretest) as a child process,
// as /usr/bin/x0tta6bl4 runs on a router.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const bundle = join(root, 'dist/x0tta6bl4.mjs');
const dir = mkdtempSync(join(tmpdir(), 'x0-cli-edges-'));

/** Characters a terminal would not show as themselves: controls, format characters, odd spaces. */
const RAW_INVISIBLE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u00a0\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bundle, ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Exit `code`, exactly one line on stderr starting x0tta6bl4:, no stack, nothing raw and invisible. */
function oneLine(args: string[], code: number, fragment?: string | RegExp): string {
  const r = run(...args);
  const what = args.map((a) => (a.length > 40 ? `${a.slice(0, 40)}…` : a)).join(' ');
  assert.is(r.code, code, `${what} → ${r.code}: ${r.err}`);
  assert.is(r.err.split('\n').filter(Boolean).length, 1, `${what}: ${r.err}`);
  assert.match(r.err, /^x0tta6bl4: /);
  assert.not.match(r.err, /\bat \S+ \(.*:\d+:\d+\)/, 'no stack frame');
  assert.not.match(r.err, RAW_INVISIBLE, `${what}: ${JSON.stringify(r.err)}`);
  if (fragment) assert.match(r.err, fragment);
  return r.err;
}

test('fleet: a broker URL that can never work is bad usage (exit 2)', () => {
  oneLine(['fleet', '--broker', 'http://x'], 2, 'mqtt');
  oneLine(['fleet', '--broker', 'ws://broker.example'], 2);
  // Plaintext to a remote host (a documentation address: nothing is dialled before the check).
  oneLine(['fleet', '--broker', 'mqtt://192.0.2.1', '--json'], 2, 'plaintext');
  oneLine(['fleet', '--broker', 'mqtt://user:pw@127.0.0.1'], 2, 'credentials');
});

test('fleet: a loopback broker that is down, or an unreadable CA file, is still a failure (exit 1), not bad usage', () => {
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  oneLine(['fleet', '--broker', 'mqtt://127.0.0.1:1', '--json', '--wait', '0'], 1, 'refused');
  // So is a certificate file that cannot be read: the operator fixes the file, not the call.
  oneLine(['fleet', '--broker', 'mqtts://127.0.0.1:1', '--ca-file', join(dir, 'missing.pem'), '--json'], 1, 'cannot read');
});

test('demo: counts are plain decimal integers in range', () => {
  for (const bad of ['0x10', '1e1', '6.0', '0b110', ' 6', 'Infinity']) oneLine(['demo', '--nodes', bad, '--duration', '0'], 2, '--nodes');
  oneLine(['demo', '--nodes', '4'], 2, '--nodes must be a whole number from 5 to 50');
  oneLine(['demo', '--seed', '0x1'], 2, '--seed');
});

test('pki: --name with 128 KiB, or with control or format characters, is refused and nothing is written', () => {
  const pki = join(dir, 'pki');
  // 128 KiB less one byte: Linux refuses a single argument of 128 KiB (MAX_ARG_STRLEN with its NUL).
  const huge = 'A'.repeat(128 * 1024 - 1);
  const err = oneLine(['pki', 'init', '--dir', pki, '--name', huge], 2, '--name must be 1 to 64 characters');
  assert.ok(err.length < 200, 'the error does not echo the name');
  oneLine(['pki', 'init', '--dir', pki, '--name', 'fleet\u202eAC'], 2, "'fleet\\u{202E}AC'");
  oneLine(['pki', 'init', '--dir', pki, '--name', 'a\nb'], 2, '--name must not contain');
  oneLine(['pki', 'init', '--dir', pki, '--name', ''], 2, '--name must be 1 to 64');
  oneLine(['pki', 'issue', '--dir', pki, '--peer-id', '12D3KooWx', '--name', huge], 2, '--name must be 1 to 64');
  assert.not.ok(existsSync(pki), 'no CA directory was created');
});

test('--version and --help take no arguments', () => {
  for (const args of [['--version', 'extra'], ['-V', 'x'], ['--help', 'extra'], ['-h', 'x'], ['help', 'status']]) oneLine(args, 2, 'takes no arguments');
  const v = run('--version');
  assert.is(v.code, 0);
  assert.match(v.out, /^\d+\.\d+\.\d+/);
});

test('mesh set KEY -5 says the value is bad, not that -5 is an unknown flag', () => {
  // --meshif: no config is read; the value is checked before anything touches netlink.
  const err = oneLine(['mesh', 'set', '--meshif', 'bat0', 'orig_interval', '-5'], 2, "orig_interval must be a whole number from 0 to 2147483647, got '-5'");
  assert.not.match(err, 'unknown');
  oneLine(['mesh', 'set', '--meshif', 'bat0', 'hop_penalty', '-1'], 2, "got '-1'");
});

test('mesh: --meshif and --hardif are interface names as the kernel takes them, without invisible characters', () => {
  oneLine(['mesh', 'set', '--meshif', 'bat0\u200b', 'orig_interval', '1000'], 2, "--meshif: not an interface name: 'bat0\\u{200B}'");
  oneLine(['mesh', 'originators', '--meshif', 'bat0\u202e'], 2, '\\u{202E}');
  oneLine(['mesh', 'originators', '--meshif', 'eth0:1'], 2, '--meshif');
  oneLine(['mesh', 'set', '--meshif', 'bat0', '--hardif', 'wlan0 x', 'hop_penalty', '10'], 2, '--hardif: not an interface name');
  oneLine(['mesh', 'set', '--meshif', 'bat0', '--hardif', 'wlan0\u00a0', 'hop_penalty', '10'], 2, '--hardif');
  oneLine(['mesh', 'set', '--meshif', 'bat0', '--hardif', 'x'.repeat(16), 'hop_penalty', '10'], 2, '--hardif');
});

test('an invalid config is one line on stderr (exit 1) with every problem, input escaped', () => {
  const p = join(dir, 'bad.conf');
  writeFileSync(p, "config agent 'agent'\n\toption mesh_driver 'simulator'\n\toption mesh_interface 'bat0\u200b'\n\toption log_level 'x\u202ey'\n\toption dry_run 'perhaps'\n");
  const err = oneLine(['agent', '--config', p], 1, 'not starting: 3 errors: ');
  assert.match(err, `${p}:3: agent.mesh_interface:`);
  assert.match(err, "'bat0\\u{200B}'");
  assert.match(err, "'x\\u{202E}y'");
  assert.match(err, `${p}:5: agent.dry_run:`);
});

test('a UCI syntax error quoting a format character is one escaped line (exit 1)', () => {
  const p = join(dir, 'syntax.conf');
  writeFileSync(p, "config agent 'agent'\n\u202eoption mesh_driver 'simulator'\n");
  oneLine(['agent', '--config', p], 1, '\\u{202E}');
});

test('unknown flags and commands quoting invisible characters are escaped', () => {
  oneLine(['status', '--bo\u202egus'], 2, '--bo\\u{202E}gus');
  oneLine(['frob\u200bnicate'], 2, 'frob\\u{200B}nicate');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
