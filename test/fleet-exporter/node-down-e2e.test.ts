// NodeDown end to end, everything real and on loopback: an agent process with telemetry on
// (test/telemetry/telemetry-process.ts) → mosquitto → the fleet exporter → Prometheus with the
// unchanged fleet/prometheus/alerts.yml (scrape and rule evaluation every second) → Alertmanager
// → a webhook receiver in this test. Killing the agent (its Last Will) must bring NodeDown to the
// receiver, and restarting it must resolve the alert. Takes about the rule's `for` (2 min) and more.
// The times are printed (bench-like figures), not asserted; the waits only end a hung test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { FleetExporter } from '../../src/fleet-exporter/exporter.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { exitIfStuck, until } from '../telemetry/subscriber.ts';
import { Alertmanager } from './alertmanager.ts';
import { Prometheus } from './prometheus.ts';

const root = new URL('../..', import.meta.url).pathname;
const rules = `${root}fleet/prometheus/alerts.yml`;
const FOR_S = 120;
let broker: Mosquitto;
let exporter: FleetExporter;
let prom: Prometheus;
let am: Alertmanager;
let hook: Server;
const received: { status: string; alertname: string; node: string; at: number }[] = [];
let agent: ChildProcess | null = null;

function startAgent(): Promise<void> {
  const p = spawn(process.execPath, ['--import', 'tsx', 'test/telemetry/telemetry-process.ts', JSON.stringify({ node: 'k1', fleet: 'lab', broker: broker.url, intervalS: 1 })], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  agent = p;
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  return until(() => out.includes('health telemetry ok'), 'the agent to connect', 60_000);
}

test.before(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const doc = JSON.parse(body) as { alerts: { status: string; labels: Record<string, string> }[] };
      for (const a of doc.alerts) received.push({ status: a.status, alertname: a.labels.alertname!, node: a.labels.node ?? '', at: Date.now() });
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  am = await Alertmanager.start(`http://127.0.0.1:${(hook.address() as { port: number }).port}/`);
  broker = await Mosquitto.start();
  exporter = new FleetExporter({ connect: { broker: broker.url }, fleet: 'lab', host: '127.0.0.1', port: 0, limits: { maxLinks: 32, staleS: 300, ttlS: 3600, maxNodes: 100 }, log: () => {} });
  const url = await exporter.start();
  prom = await Prometheus.start({ targets: [new URL(url).host], scrapeIntervalS: 1, ruleFiles: [rules], alertmanager: am.address });
  await startAgent();
});

test.after(async () => {
  agent?.kill('SIGKILL');
  await prom?.stop();
  await am?.stop();
  await exporter?.stop();
  await broker?.stop();
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
  exitIfStuck('test/fleet-exporter/node-down-e2e.test.ts');
});

test('killing an agent fires NodeDown in Alertmanager; its return resolves it', async () => {
  const upQuery = async () => (await prom.query('x0tta6bl4_node_online{node="k1"}'))[0]?.value[1];
  const deadline = Date.now() + 60_000;
  while ((await upQuery()) !== '1') {
    if (Date.now() > deadline) throw new Error('k1 never online in Prometheus');
    await new Promise((r) => setTimeout(r, 500));
  }
  const killedAt = Date.now();
  agent!.kill('SIGKILL');
  await until(() => received.some((a) => a.alertname === 'NodeDown' && a.node === 'k1' && a.status === 'firing'), 'NodeDown at the receiver', (FOR_S + 120) * 1000);
  const fired = received.find((a) => a.alertname === 'NodeDown' && a.status === 'firing')!;
  process.stderr.write(`node-down-e2e: NodeDown reached the receiver ${((fired.at - killedAt) / 1000).toFixed(1)} s after the kill (for: ${FOR_S} s, scrape 1 s)\n`);
  assert.ok(fired.at - killedAt >= FOR_S * 1000, 'fired before the rule’s for: the rule is not what ran');
  const backAt = Date.now();
  await startAgent();
  await until(() => received.some((a) => a.alertname === 'NodeDown' && a.node === 'k1' && a.status === 'resolved'), 'NodeDown resolved at the receiver', 120_000);
  const resolved = received.find((a) => a.status === 'resolved')!;
  process.stderr.write(`node-down-e2e: resolved ${((resolved.at - backAt) / 1000).toFixed(1)} s after the agent was restarted\n`);
  assert.ok(received.every((a) => a.alertname === 'NodeDown' && a.node === 'k1'), `other alerts: ${JSON.stringify(received)}`);
});

test.run();
