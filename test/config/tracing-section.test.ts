// The `tracing` section: defaults (off), every option read, clear errors on bad values (secrets
// never echoed), the cross-field checks, and the settings createTracer gets from it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, defaultConfig, parseConfigText } from '../../src/config/index.ts';
import { tracingSettings } from '../../src/tracing/settings.ts';

function errorsOf(text: string): string[] {
  try {
    parseConfigText(text, 't.conf');
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.filter((i) => i.severity === 'error').map((i) => `${i.section}.${i.option}: ${i.message}`);
    throw e;
  }
  throw new Error(`accepted:\n${text}`);
}

const section = (...lines: string[]) => `config tracing 'tracing'\n${lines.map((l) => `\t${l}\n`).join('')}`;

test('off by default, with an empty endpoint and no headers', () => {
  assert.equal(defaultConfig().tracing, { enabled: false, endpoint: '', headers: [], sampleRatio: 1, queueLimit: 2048, caFile: '' });
  assert.equal(tracingSettings(defaultConfig().tracing), { enabled: false, endpoint: '', headers: {}, sampleRatio: 1, queueLimit: 2048 });
});

test('every option is read', () => {
  const { config, warnings } = parseConfigText(section(
    "option enabled '1'",
    "option endpoint 'https://collector.example:4318/v1/traces'",
    "list header 'Authorization: Bearer abc'",
    "list header 'X-Scope-OrgID: fleet-a'",
    "option sample_ratio '0.25'",
    "option queue_limit '500'",
    "option ca_file '/etc/x0tta6bl4/collector-ca.pem'",
  ));
  assert.equal(warnings, []);
  assert.equal(config.tracing, {
    enabled: true, endpoint: 'https://collector.example:4318/v1/traces', headers: ['Authorization: Bearer abc', 'X-Scope-OrgID: fleet-a'],
    sampleRatio: 0.25, queueLimit: 500, caFile: '/etc/x0tta6bl4/collector-ca.pem',
  });
  assert.equal(tracingSettings(config.tracing), {
    enabled: true, endpoint: 'https://collector.example:4318/v1/traces',
    headers: { Authorization: 'Bearer abc', 'X-Scope-OrgID': 'fleet-a' },
    sampleRatio: 0.25, queueLimit: 500, caFile: '/etc/x0tta6bl4/collector-ca.pem',
  });
});

test('a header given twice is sent once with both values; values may contain colons', () => {
  const { config } = parseConfigText(section("list header 'X-A: 1'", "list header 'x-a: 2'", "list header 'X-B: http://h:1'"));
  assert.equal(tracingSettings(config.tracing).headers, { 'X-A': '1, 2', 'X-B': 'http://h:1' });
});

test('bad values: one clear error each, naming what was expected', () => {
  const cases: [string, RegExp][] = [
    ["option enabled 'maybe'", /tracing\.enabled: expected a boolean/],
    ["option endpoint 'ftp://h/x'", /tracing\.endpoint: expected an http:\/\/ or https:\/\/ URL/],
    ["option endpoint 'not a url'", /tracing\.endpoint: expected an http/],
    ["option endpoint 'https://user:pw@h:4318'", /credentials go in a header/],
    ["option sample_ratio '1.5'", /tracing\.sample_ratio: expected a number from 0 to 1, found '1\.5'/],
    ["option sample_ratio '-0.1'", /tracing\.sample_ratio: expected a number from 0 to 1/],
    ["option sample_ratio '1e-3'", /tracing\.sample_ratio: expected a number from 0 to 1/],
    ["option queue_limit '0'", /tracing\.queue_limit: expected an integer from 16 to 100000, found '0'/],
    ["option queue_limit 'lots'", /tracing\.queue_limit: expected an integer/],
    ["option ca_file 'relative.pem'", /tracing\.ca_file: expected an absolute path/],
  ];
  for (const [line, re] of cases) {
    const errors = errorsOf(section(line));
    assert.is(errors.length, 1, `${line}: ${errors.join(' | ')}`);
    assert.match(errors[0]!, re, line);
  }
});

test('bad headers are refused without echoing the value (it is usually a key)', () => {
  for (const h of ['no colon here', ': empty name', 'Bad Name: v', 'Content-Type: text/plain', 'host: evil', 'X-Key: a\tb', `X-Big: ${'x'.repeat(5000)}`]) {
    const errors = errorsOf(section(`list header '${h}'`));
    assert.is(errors.length, 1, h);
    assert.match(errors[0]!, /tracing\.header: item 1: expected a header as 'Name: value'.*found a value of \d+ characters/, h);
    assert.not.match(errors[0]!, /evil|text\/plain|no colon/, h);
  }
});

test('enabled without an endpoint is an error; ca_file with http:// is a warning', () => {
  assert.equal(errorsOf(section("option enabled '1'")), ['tracing.endpoint: required when tracing is enabled: expected an http:// or https:// OTLP traces URL, found nothing']);
  const { warnings } = parseConfigText(section("option endpoint 'http://10.0.0.1:4318'", "option ca_file '/etc/ca.pem'"));
  assert.equal(warnings.map((w) => `${w.section}.${w.option}`), ['tracing.endpoint']);
  assert.match(warnings[0]!.message, /does not use TLS: expected https:\/\//);
});

test.run();
