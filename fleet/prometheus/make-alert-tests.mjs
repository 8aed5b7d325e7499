// Writes alerts.test.yml: the scenarios below are the tests (series, when each alert must and must
// not fire, with which labels); the expected annotations are filled in from promtool's own
// rendering of alerts.yml, so a changed runbook text needs only `node fleet/prometheus/make-alert-tests.mjs`
// (review the diff). A wrong label or firing time still fails: those are written here by hand.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const L = (name, labels) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
const on = (node, fleet = 'lab') => ({ series: L('x0tta6bl4_node_online', { fleet, node }), values: '1x120' });
const tests = [
  { name: 'NodeDown fires after 2m offline and resolves when the node is back', series: [
      { series: L('x0tta6bl4_node_online', { fleet: 'lab', node: 'n1' }), values: '1 1 0 0 0 0 0 1 1' }, on('n2')],
    evals: [['NodeDown', '3m', []], ['NodeDown', '5m', [{ fleet: 'lab', node: 'n1', severity: 'critical' }]], ['NodeDown', '8m', []]] },
  { name: 'GatewayLost: only a node that had a gateway and is online', series: [
      { series: L('x0tta6bl4_gateway_selected', { fleet: 'lab', node: 'n1' }), values: '1 1 1 0 0 0 0 0 0 0 0' },
      { series: L('x0tta6bl4_gateway_selected', { fleet: 'lab', node: 'n2' }), values: '0x10' },
      { series: L('x0tta6bl4_gateway_selected', { fleet: 'lab', node: 'n3' }), values: '1 1 1 0 0 0 0 0 0 0 0' },
      on('n1'), on('n2'), { series: L('x0tta6bl4_node_online', { fleet: 'lab', node: 'n3' }), values: '1 1 1 0x8' }],
    evals: [['GatewayLost', '5m', []], ['GatewayLost', '9m', [{ fleet: 'lab', node: 'n1', severity: 'warning' }]]] },
  { name: 'MeshPartitioned: the island of two in a fleet of six; a fleet of three is too small to say', series: [
      ...['n1', 'n2', 'n3', 'n4'].map((n) => ({ series: L('batman_originator_count', { fleet: 'lab', node: n }), values: '5x10' })),
      ...['n5', 'n6'].map((n) => ({ series: L('batman_originator_count', { fleet: 'lab', node: n }), values: '5 1x9' })),
      ...['n1', 'n2', 'n3', 'n4', 'n5', 'n6'].map((n) => on(n)),
      ...['s1', 's2', 's3'].map((n) => ({ series: L('batman_originator_count', { fleet: 'small', node: n }), values: '0x10' })),
      ...['s1', 's2', 's3'].map((n) => on(n, 'small'))],
    evals: [['MeshPartitioned', '4m', []], ['MeshPartitioned', '8m', ['n5', 'n6'].map((node) => ({ fleet: 'lab', node, severity: 'critical' }))]] },
  { name: 'RollbackStorm: three rollbacks in 30 minutes, not one', series: [
      { series: L('x0tta6bl4_events_total', { fleet: 'lab', node: 'n1', kind: 'rollback' }), values: '0 1 2 3 3 3' },
      { series: L('x0tta6bl4_events_total', { fleet: 'lab', node: 'n1', kind: 'action' }), values: '0 5 10 15 20 25' },
      { series: L('x0tta6bl4_events_total', { fleet: 'lab', node: 'n2', kind: 'rollback' }), values: '0 1 1 1 1 1' }],
    evals: [['RollbackStorm', '1m', []], ['RollbackStorm', '5m', [{ fleet: 'lab', node: 'n1', severity: 'warning' }]]] },
  { name: 'LearningStalled: a round that has not moved for 1h15m', series: [
      { series: L('x0tta6bl4_learning_round', { fleet: 'lab', node: 'n1' }), values: '1 2 3x100' },
      { series: L('x0tta6bl4_learning_round', { fleet: 'lab', node: 'n2' }), values: '0+1x100' },
      on('n1'), on('n2')],
    evals: [['LearningStalled', '1h10m', []], ['LearningStalled', '1h20m', [{ fleet: 'lab', node: 'n1', severity: 'warning' }]]] },
  { name: 'TelemetryDroppingEvents: dropped on the node, or missing at the exporter', series: [
      { series: L('x0tta6bl4_telemetry_events_dropped_total', { fleet: 'lab', node: 'n1' }), values: '0 0 0 5 5 5' },
      { series: L('x0tta6bl4_events_missing_total', { fleet: 'lab', node: 'n2' }), values: '0 0 2 2 2 2' },
      { series: L('x0tta6bl4_telemetry_events_dropped_total', { fleet: 'lab', node: 'n3' }), values: '3x5' },
      { series: L('x0tta6bl4_events_missing_total', { fleet: 'lab', node: 'n3' }), values: '0x5' }],
    evals: [['TelemetryDroppingEvents', '1m', []], ['TelemetryDroppingEvents', '5m', ['n1', 'n2'].map((node) => ({ fleet: 'lab', node, severity: 'warning' }))]] },
  { name: 'CertificateExpiring: 10 days left fires, 30 days does not', series: [
      { series: L('x0tta6bl4_certificate_expiry_timestamp_seconds', { fleet: 'lab', node: 'n1' }), values: `${10 * 86400}x3` },
      { series: L('x0tta6bl4_certificate_expiry_timestamp_seconds', { fleet: 'lab', node: 'n2' }), values: `${30 * 86400}x3` }],
    evals: [['CertificateExpiring', '1m', [{ fleet: 'lab', node: 'n1', severity: 'warning' }]]] },
  { name: 'PeerQuarantined: a quarantine action, or a federation quarantine; an old one does not', series: [
      { series: L('x0tta6bl4_healing_events_total', { fleet: 'lab', node: 'n1', kind: 'action', action: 'quarantine' }), values: '0 0 1 1' },
      { series: L('x0tta6bl4_federation_quarantined_peers', { fleet: 'lab', node: 'n2' }), values: '0 0 2 2' },
      { series: L('x0tta6bl4_healing_events_total', { fleet: 'lab', node: 'n3', kind: 'action', action: 'quarantine' }), values: '2x20' },
      { series: L('x0tta6bl4_healing_events_total', { fleet: 'lab', node: 'n3', kind: 'action', action: 'reboot' }), values: '0 1 2 3' }],
    evals: [['PeerQuarantined', '1m', []], ['PeerQuarantined', '3m', [{ fleet: 'lab', node: 'n1', kind: 'action', action: 'quarantine', severity: 'warning' }, { fleet: 'lab', node: 'n2', severity: 'warning' }]], ['PeerQuarantined', '19m', []]] },
  { name: 'FleetExporterDisconnected after 2m', series: [
      { series: L('x0tta6bl4_fleet_exporter_connected', { instance: 'backend:9469', job: 'x0tta6bl4-fleet' }), values: '1 0 0 0 0 0' }],
    evals: [['FleetExporterDisconnected', '2m', []], ['FleetExporterDisconnected', '4m', [{ instance: 'backend:9469', job: 'x0tta6bl4-fleet', severity: 'critical' }]]] },
];
const q = (s) => JSON.stringify(s);
function emit(ann) {
  const out = ['# Unit tests of alerts.yml: `promtool test rules alerts.test.yml` (test/fleet-exporter/alert-rules.test.ts runs it).',
    '# Each rule fires in its scenario and stays quiet where it must. The expected annotations are the',
    '# rules\' texts as Prometheus renders them: change them together with alerts.yml.',
    'rule_files: [alerts.yml]', 'evaluation_interval: 1m', 'tests:'];
  for (const t of tests) {
    out.push(`  # ${t.name}`, '  - interval: 1m', '    input_series:');
    for (const s of t.series) out.push(`      - series: ${q(s.series)}`, `        values: ${q(s.values)}`);
    out.push('    alert_rule_test:');
    for (const [alert, at, exp] of t.evals) {
      out.push(`      - eval_time: ${at}`, `        alertname: ${alert}`, `        exp_alerts:${exp.length ? '' : ' []'}`);
      exp.forEach((labels, i) => {
        out.push(`          - exp_labels: {${Object.entries(labels).map(([k, v]) => `${k}: ${q(v)}`).join(', ')}}`);
        const a = ann[`${alert}@${at}#${i}`];
        if (a) { out.push('            exp_annotations:'); for (const [k, v] of Object.entries(a)) out.push(`              ${k}: ${q(v)}`); }
      });
    }
  }
  return out.join('\n') + '\n';
}
const path = new URL('./alerts.test.yml', import.meta.url).pathname;
writeFileSync(path, emit({}));
const r = spawnSync('promtool', ['test', 'rules', path], { encoding: 'utf8' });
const text = r.stdout + r.stderr;
const ann = {};
for (const block of text.split(/\n\s+alertname: /).slice(1)) {
  const head = /^(\w+), time: (\w+)/.exec(block);
  const got = block.split('got:[')[1] ?? '';
  const items = got.split(/\n\s+\d+:\n/).slice(1);
  items.forEach((it, i) => {
    const a = /Annotations:\{(.*)\},?\s*$/m.exec(it)[1];
    const o = {};
    for (const m of a.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) o[m[1]] = JSON.parse(`"${m[2]}"`);
    ann[`${head[1]}@${head[2]}#${i}`] = o;
  });
}
writeFileSync(path, emit(ann));
const check = spawnSync('promtool', ['test', 'rules', path], { encoding: 'utf8' });
process.stdout.write(check.stdout + check.stderr);
process.exit(check.status ?? 1);
