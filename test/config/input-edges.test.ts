// Hostile text in a config or a `set`: interface names as the kernel checks them (and nothing
// invisible), errors that escape what they quote, and a config error that stays on one line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyOption, ConfigError, defaultConfig, formatConfigIssue, parseConfigText } from '../../src/config/index.ts';
import { ifnameProblem } from '../../src/config/ifname.ts';
import { escapePrintable } from '../../src/config/printable.ts';

/** Any character a terminal would not show as itself: controls, format characters, odd spaces. */
const RAW_INVISIBLE = /[\x00-\x1f\x7f-\x9f\u00a0\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

function configError(text: string, file = 'test.conf'): ConfigError {
  try {
    parseConfigText(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`accepted:\n${text}`);
}

const meshIf = (name: string) => `config agent 'agent'\n\toption mesh_interface '${name}'\n`;

test('interface names the kernel accepts are accepted', () => {
  for (const name of ['bat0', 'br-lan', 'wlan0-1', 'eth0.100', 'mesh_0', 'a@b', 'x'.repeat(15), 'ü'.repeat(7)]) {
    assert.is(ifnameProblem(name), null, name);
    assert.is(parseConfigText(meshIf(name)).config.agent.meshInterface, name);
  }
});

test("interface names dev_valid_name refuses are refused: length in bytes, '.', '..', '/', ':', whitespace", () => {
  // 'ü' is two bytes in UTF-8: eight of them are 16 bytes, one more than IFNAMSIZ allows.
  for (const name of ['', 'x'.repeat(16), 'ü'.repeat(8), '.', '..', 'a/b', 'eth0:1', 'bat 0', 'bat0\t', 'bat\v0', 'bat\f0', 'bat\r0']) {
    assert.ok(ifnameProblem(name), JSON.stringify(name));
  }
  // The kernel's isspace() also counts byte 0xA0 (U+00A0 is C2 A0 in UTF-8).
  assert.ok(ifnameProblem('bat0\u00a0'));
});

test('interface names with invisible characters are refused, in the config and by set', () => {
  for (const name of ['bat0\u200b', 'bat0\u202e', '\u2066bat0', 'bat0\ufeff', 'bat0\u0085', 'bat0\x01', 'bat0\u3000']) {
    assert.ok(ifnameProblem(name), JSON.stringify(name));
    const e = configError(meshIf(name));
    assert.is(e.issues.length, 1);
    // A C0/C1 control stops the UCI parser before the schema sees the value; the rest reach it.
    if (!/[\x00-\x1f\x7f-\x9f]/.test(name)) assert.is(e.issues[0]!.option, 'mesh_interface', e.message);
    assert.not.match(e.message, RAW_INVISIBLE);
    const r = applyOption(defaultConfig(), 'agent.mesh_interface', name);
    assert.is(r.ok, false, JSON.stringify(name));
  }
});

test('escapePrintable: controls as \\xNN, format characters and odd spaces as \\u{XXXX}, the rest kept', () => {
  assert.is(escapePrintable('a\nb\x7f\x85'), 'a\\x0Ab\\x7F\\x85');
  assert.is(escapePrintable('x\u202ey\u200bz\u2066\u2069'), 'x\\u{202E}y\\u{200B}z\\u{2066}\\u{2069}');
  assert.is(escapePrintable('\u00a0\u2028\ufeff'), '\\xA0\\u{2028}\\u{FEFF}');
  assert.is(escapePrintable('plain text, é, 😀, tabs\\n as typed'), 'plain text, é, 😀, tabs\\n as typed');
  // Escaping twice changes nothing (a backslash is printable).
  const once = escapePrintable('a\u202eb\n');
  assert.is(escapePrintable(once), once);
});

test('a U+202E in a value is escaped in the error, not echoed raw', () => {
  const e = configError("config agent 'agent'\n\toption log_level 'info\u202eoof'\n");
  const line = formatConfigIssue(e.issues[0]!);
  assert.match(line, "found 'info\\u{202E}oof'");
  assert.not.match(line, RAW_INVISIBLE);
  assert.not.match(e.message, RAW_INVISIBLE);
  // The same through `set` (MQTT and CLI), whose issues are formatted the same way.
  const r = applyOption(defaultConfig(), 'agent.log_level', 'x\u202ey\nz');
  assert.is(r.ok, false);
  if (!r.ok) {
    const text = r.issues.map(formatConfigIssue).join('; ');
    assert.match(text, "'x\\u{202E}y\\x0Az'");
    assert.not.match(text, RAW_INVISIBLE);
  }
});

test('what the UCI parser quotes (a bad keyword, a bad section name) is escaped too', () => {
  for (const text of ["\u202econfig agent 'agent'\n", "config agent 'ag\u200bent'\n"]) {
    const e = configError(text);
    assert.not.match(e.message, RAW_INVISIBLE, e.message);
    assert.not.match(formatConfigIssue(e.issues[0]!), RAW_INVISIBLE);
    assert.match(e.message, /\\u\{(202E|200B)\}/);
  }
});

test('a config error is one line: every issue, after the count, joined with "; "', () => {
  const e = configError("config agent 'agent'\n\toption log_level loud\n\toption dry_run perhaps\n", '/scratch/x0tta6bl4');
  assert.is(e.issues.length, 2);
  assert.not.match(e.message, /\n/);
  assert.is(e.message, `2 errors: ${e.issues.map(formatConfigIssue).join('; ')}`);
});

test('with many errors the line names the first five and counts the rest', () => {
  const opts = ['log_level loud', 'dry_run perhaps', 'fleet "a b"', "mesh_interface 'a/b'", 'status_interval -1', "mesh_driver 'no'", 'state_dir relative'];
  const e = configError(`config agent 'agent'\n${opts.map((o) => `\toption ${o}\n`).join('')}`);
  assert.ok(e.issues.length >= 6, JSON.stringify(e.issues));
  assert.not.match(e.message, /\n/);
  assert.ok(e.message.startsWith(`${e.issues.length} errors: ${formatConfigIssue(e.issues[0]!)}; `), e.message);
  assert.ok(e.message.endsWith(`; and ${e.issues.length - 5} more`), e.message);
});

test('a refused broker value does not echo the credentials in it', () => {
  const e = configError("config telemetry 'telemetry'\n\toption enabled '1'\n\toption broker 'http://op:s3cret-Pw@broker:1883'\n");
  assert.ok(e.message.includes('broker'), e.message);
  assert.not.ok(e.message.includes('s3cret-Pw'), e.message);
});

test.run();
