// The Grafana dashboards (fleet/grafana/dashboards/*.json): their structure as Grafana imports it,
// and every panel query run on a real Prometheus (Debian's) that scrapes the exporter while
// agents with telemetry on (the agent's own telemetry code; a hand-made status, as in
// test/telemetry) publish and raise events. Each query must succeed through the HTTP API and
// return data (the node page is checked for n2, the node with a degraded component). Grafana
// itself is not installable here (not in Debian): its template variables are
// substituted the way it does ($fleet, $node, $__rate_interval).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { FleetExporter } from '../../src/fleet-exporter/exporter.ts';
import { startTelemetry, type Telemetry } from '../../src/telemetry/telemetry.ts';
import { EventSource, statusFixture } from '../telemetry/fixture.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { exitIfStuck } from '../telemetry/subscriber.ts';
import { Prometheus } from './prometheus.ts';

interface Target { expr: string; refId: string; datasource: { uid: string } }
interface Panel { id: number; type: string; title: string; gridPos: Record<string, number>; datasource: { type: string; uid: string }; targets: Target[] }
interface Dashboard { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query?: { query: string } | string }[] } }

const dir = new URL('../../fleet/grafana/dashboards/', import.meta.url).pathname;
const dashboards = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => ({ file: f, d: JSON.parse(readFileSync(dir + f, 'utf8')) as Dashboard }));
let broker: Mosquitto;
let exporter: FleetExporter;
let prom: Prometheus;
const agents: Telemetry[] = [];
const timers: NodeJS.Timeout[] = [];

test.before(async () => {
  broker = await Mosquitto.start();
  exporter = new FleetExporter({ connect: { broker: broker.url }, fleet: null, host: '127.0.0.1', port: 0, limits: { maxLinks: 32, staleS: 300, ttlS: 3600, maxNodes: 100 }, log: () => {} });
  const url = await exporter.start();
  prom = await Prometheus.start({ targets: [new URL(url).host], scrapeIntervalS: 1 });
  let round = 1;
  for (const name of ['n1', 'n2', 'n3']) {
    const health = new HealthBoard(name);
    if (name === 'n2') health.set('mesh', 'degraded', 'no neighbours on mesh1');
    const events = new EventSource();
    const status = () => ({ ...statusFixture(name, 'lab', health, 3), learning: { round: round++, peersHeard: 2, quality: { heldOutAuc: 0.8 } } });
    agents.push(startTelemetry({ node: name, fleet: 'lab', broker: broker.url, intervalS: 1, source: { status }, subscribeEvents: events.subscribe, health, log: createLogger('error', () => {}) }));
    let k = 0;
    timers.push(setInterval(() => {
      const kinds = [['action', 'restart interface mesh0 (#1, rung 2): demo'], ['rollback', 'restart-interface #1 made things worse (demo): rolled back'], ['finding', 'demo finding']] as const;
      const [kind, msg] = kinds[k++ % kinds.length]!;
      events.emit(kind, msg);
    }, 700));
  }
  // n4 stops cleanly: "Offline by reason" has a node to show (x0tta6bl4_node_state is one series, the current state).
  const n4 = startTelemetry({ node: 'n4', fleet: 'lab', broker: broker.url, intervalS: 1, source: { status: () => statusFixture('n4', 'lab', new HealthBoard('n4'), 3) }, subscribeEvents: new EventSource().subscribe, health: new HealthBoard('n4'), log: createLogger('error', () => {}) });
  for (let i = 0; i < 200 && exporter.model.nodes.get('lab/n4')?.state !== 'online'; i++) await new Promise((r) => setTimeout(r, 100));
  await n4.stop();
});

test.after(async () => {
  for (const t of timers) clearInterval(t);
  await Promise.all(agents.map((a) => a.stop()));
  await prom?.stop();
  await exporter?.stop();
  await broker?.stop();
  exitIfStuck('test/fleet-exporter/dashboards.test.ts');
});

test('the dashboards are Grafana dashboards: unique uids and panel ids, a Prometheus datasource variable, laid out', () => {
  assert.equal(dashboards.map((x) => x.file).sort(), ['x0tta6bl4-fleet-overview.json', 'x0tta6bl4-node.json']);
  assert.is(new Set(dashboards.map((x) => x.d.uid)).size, dashboards.length);
  for (const { file, d } of dashboards) {
    assert.ok(d.templating.list.some((v) => v.type === 'datasource' && v.name === 'datasource'), `${file}: no datasource variable`);
    assert.is(new Set(d.panels.map((p) => p.id)).size, d.panels.length, `${file}: panel ids repeat`);
    for (const p of d.panels) {
      assert.is(p.datasource.uid, '${datasource}', `${file}/${p.title}: datasource`);
      assert.ok(p.targets.length > 0, `${file}/${p.title}: no query`);
      assert.ok(p.gridPos.w! > 0 && p.gridPos.h! > 0 && p.gridPos.x! + p.gridPos.w! <= 24, `${file}/${p.title}: gridPos`);
    }
  }
});

const grafanaVars = (q: string) => q.replaceAll('$__rate_interval', '10s').replaceAll('$fleet', 'lab').replaceAll('$node', 'n2');

async function rangeQuery(expr: string): Promise<{ ok: boolean; error?: string; series: number }> {
  const end = Date.now() / 1000;
  const u = `${prom.url}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${end - 60}&end=${end}&step=2`;
  const body = (await (await fetch(u)).json()) as { status: string; error?: string; data?: { result: { values: unknown[] }[] } };
  if (body.status !== 'success') return { ok: false, error: body.error ?? 'failed', series: 0 };
  return { ok: true, series: body.data!.result.filter((r) => r.values.length > 0).length };
}

test('every panel query runs on Prometheus scraping the exporter, and returns data', async () => {
  const queries = dashboards.flatMap(({ file, d }) => d.panels.flatMap((p) => p.targets.map((t) => ({ where: `${file} / ${p.title} / ${t.refId}`, expr: grafanaVars(t.expr) }))));
  assert.ok(queries.length >= 25, `only ${queries.length} queries`);
  let failing: string[] = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    failing = [];
    for (const q of queries) {
      const r = await rangeQuery(q.expr);
      if (!r.ok) throw new Error(`${q.where}: Prometheus refused ${q.expr}: ${r.error}`);
      if (r.series === 0) failing.push(`${q.where}: no data for ${q.expr}`);
    }
    if (!failing.length || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  assert.equal(failing, [], 'panels without data');
});

test('the template variables resolve (label values of the exporter series)', async () => {
  for (const { file, d } of dashboards)
    for (const v of d.templating.list.filter((x) => x.type === 'query')) {
      const q = typeof v.query === 'string' ? v.query : v.query!.query;
      const m = /^label_values\((.+), (\w+)\)$/.exec(q);
      assert.ok(m, `${file}: variable ${v.name} is not label_values(…)`);
      const u = `${prom.url}/api/v1/label/${m![2]}/values?match[]=${encodeURIComponent(grafanaVars(m![1]!))}`;
      const body = (await (await fetch(u)).json()) as { status: string; data: string[] };
      assert.is(body.status, 'success');
      assert.ok(body.data.length > 0, `${file}: variable ${v.name} has no values`);
    }
});

test.run();
