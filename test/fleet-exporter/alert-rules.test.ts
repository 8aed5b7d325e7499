// The fleet's Prometheus alert rules (fleet/prometheus/alerts.yml) through promtool (Debian
// 'prometheus'): the rules load, every rule has runbook text and a unit test in which it fires
// (alerts.test.yml), and the unit tests fail when a rule is broken.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = new URL('../../fleet/prometheus/', import.meta.url).pathname;
const rules = readFileSync(join(dir, 'alerts.yml'), 'utf8');
const tests = readFileSync(join(dir, 'alerts.test.yml'), 'utf8');

function promtool(args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`promtool is not installed (Debian package 'prometheus'): ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const alertNames = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);

test('the rules load (promtool check rules)', () => {
  const r = promtool(['check', 'rules', 'alerts.yml'], dir);
  assert.is(r.status, 0, r.out);
  assert.match(r.out, `SUCCESS: ${alertNames.length} rules found`);
});

test('the issue’s alerts are all there, each with runbook text', () => {
  for (const a of ['NodeDown', 'GatewayLost', 'MeshPartitioned', 'RollbackStorm', 'LearningStalled', 'TelemetryDroppingEvents', 'CertificateExpiring', 'PeerQuarantined'])
    assert.ok(alertNames.includes(a), `${a} missing`);
  const blocks = rules.split(/^\s+- alert: /m).slice(1);
  for (const b of blocks) assert.match(b, /\n\s+runbook: >-\n\s+\S/, `no runbook in ${b.split('\n')[0]}`);
});

test('every rule has a unit test in which it fires, and the unit tests pass (promtool test rules)', () => {
  for (const a of alertNames) assert.match(tests, new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${a} never expected to fire`);
  const r = promtool(['test', 'rules', 'alerts.test.yml'], dir);
  assert.is(r.status, 0, r.out);
});

test('the unit tests catch a broken rule', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'x0-rules-'));
  try {
    copyFileSync(join(dir, 'alerts.test.yml'), join(scratch, 'alerts.test.yml'));
    const broken: [string, string][] = [
      ['expr: x0tta6bl4_node_online == 0\n        for: 2m', 'expr: x0tta6bl4_node_online == 0\n        for: 10m'],
      ['{kind="rollback"}[30m])) >= 3', '{kind="rollback"}[30m])) >= 4'],
      ['< 14 * 86400', '< 7 * 86400'],
    ];
    for (const [from, to] of broken) {
      assert.ok(rules.includes(from), `mutation target '${from}' not in alerts.yml`);
      writeFileSync(join(scratch, 'alerts.yml'), rules.replace(from, to));
      const r = promtool(['test', 'rules', 'alerts.test.yml'], scratch);
      assert.is.not(r.status, 0, `promtool test rules passed with '${to}'`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test.run();
