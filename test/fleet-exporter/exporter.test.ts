// The fleet exporter against a real mosquitto: two agents' real telemetry code (test fixtures for
// their status), one agent process killed (its Last Will), a contract-following publisher for
// events with QoS 1 duplicates and gaps, and junk on the bus. /metrics is read over HTTP, and
// promtool (Debian 'prometheus') checks the exposition format and naming conventions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { FleetExporter } from '../../src/fleet-exporter/exporter.ts';
import { startTelemetry, type Telemetry } from '../../src/telemetry/telemetry.ts';
import { EventSource, statusFixture } from '../telemetry/fixture.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { exitIfStuck, Subscriber } from '../telemetry/subscriber.ts';
import { parseProm, valueOf, type PromSample } from './prom-text.ts';

const root = new URL('../..', import.meta.url).pathname;
let broker: Mosquitto;
let exporter: FleetExporter;
let url: string;
let pub: Subscriber;
const agents: Telemetry[] = [];
const events = new EventSource();

async function scrape(): Promise<{ text: string; samples: PromSample[] }> {
  const r = await fetch(url);
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', 'text/plain; version=0.0.4');
  const text = await r.text();
  return { text, samples: parseProm(text) };
}

async function scrapeUntil(pred: (s: PromSample[]) => boolean, what: string): Promise<PromSample[]> {
  let last: PromSample[];
  const deadline = Date.now() + 20_000;
  for (;;) {
    last = (await scrape()).samples;
    if (pred(last)) return last;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test.before(async () => {
  broker = await Mosquitto.start();
  exporter = new FleetExporter({
    connect: { broker: broker.url },
    fleet: 'lab',
    host: '127.0.0.1',
    port: 0,
    limits: { maxLinks: 32, staleS: 300, ttlS: 3600, maxNodes: 100 },
    log: () => {},
    backoff: { minMs: 100, maxMs: 500 },
  });
  url = await exporter.start();
  pub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/+/state']);
  for (const name of ['n1', 'n2']) {
    const health = new HealthBoard(name);
    if (name === 'n2') health.set('mesh', 'degraded', 'no neighbours on mesh1');
    agents.push(startTelemetry({
      node: name, fleet: 'lab', broker: broker.url, intervalS: 60,
      source: { status: () => statusFixture(name, 'lab', health, 3) },
      subscribeEvents: name === 'n1' ? events.subscribe : new EventSource().subscribe,
      health, log: createLogger('error', () => {}),
    }));
  }
});

test.after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await pub?.close();
  await exporter?.stop();
  await broker?.stop();
  exitIfStuck('test/fleet-exporter/exporter.test.ts');
});

test('agents with telemetry on show up with their mesh, health and links', async () => {
  const s = await scrapeUntil((s) => valueOf(s, 'batman_neighbour_count', { node: 'n1' }) === 3 && valueOf(s, 'batman_neighbour_count', { node: 'n2' }) === 3, 'both agents');
  assert.is(valueOf(s, 'x0tta6bl4_node_online', { fleet: 'lab', node: 'n1' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_component_state', { node: 'n2', component: 'mesh', state: 'degraded' }), 1);
  assert.is(valueOf(s, 'batman_link_tq', { node: 'n1', neighbour: '02:00:00:00:00:02', iface: 'mesh0' }), 255);
  assert.is(valueOf(s, 'x0tta6bl4_gateway_selected', { node: 'n1' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_fleet_exporter_connected'), 1);
});

test('events from the agent are counted once, by kind and by action', async () => {
  events.emit('action', 'restart interface mesh0 (#1, rung 2): no neighbours');
  events.emit('rollback', 'restart-interface #1 made things worse (tq 10 → 5): rolled back');
  events.emit('finding', 'link to 02:00:00:00:00:02 degrading');
  const s = await scrapeUntil((s) => valueOf(s, 'x0tta6bl4_events_total', { node: 'n1', kind: 'finding' }) === 1, 'the three events');
  assert.is(valueOf(s, 'x0tta6bl4_healing_events_total', { node: 'n1', kind: 'rollback', action: 'restart-interface' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_events_missing_total', { node: 'n1' }), 0);
});

test('QoS 1 redeliveries are dropped and seq gaps counted (a contract-following publisher)', async () => {
  const ev = (seq: number) => JSON.stringify({ v: 1, fleet: 'lab', node: 'p1', boot: 'pb', seq, ts: new Date().toISOString(), kind: 'info', message: `e${seq}` });
  for (const seq of [1, 2, 2, 3, 7, 3, 8]) await pub.client.publishAsync('x0tta6bl4/lab/p1/events', ev(seq), { qos: 1 });
  const s = await scrapeUntil((s) => valueOf(s, 'x0tta6bl4_events_total', { node: 'p1', kind: 'info' }) === 5, 'p1 events');
  assert.is(valueOf(s, 'x0tta6bl4_events_duplicates_total', { node: 'p1' }), 2);
  assert.is(valueOf(s, 'x0tta6bl4_events_missing_total', { node: 'p1' }), 3);
});

test('junk on the broker is counted, and the exporter keeps serving', async () => {
  const c = pub.client;
  await c.publishAsync('x0tta6bl4/lab/j1/state', 'not json', { qos: 1, retain: true });
  await c.publishAsync('x0tta6bl4/lab/j2/telemetry', JSON.stringify({ v: 9, fleet: 'lab', node: 'j2' }), { qos: 1 });
  await c.publishAsync('x0tta6bl4/lab/j3/state', JSON.stringify({ v: 1, fleet: 'lab', node: 'n1', state: 'offline' }), { qos: 1 });
  await c.publishAsync('x0tta6bl4/lab/j4/telemetry', Buffer.alloc(70_000, 0x7b), { qos: 1 });
  await c.publishAsync('x0tta6bl4/lab/j5/events', JSON.stringify({ v: 1, fleet: 'lab', node: 'j5', boot: {}, seq: 'x' }), { qos: 1 });
  const s = await scrapeUntil((s) => (valueOf(s, 'x0tta6bl4_fleet_exporter_messages_ignored_total', { reason: 'schema' }) ?? 0) >= 1, 'the junk counted');
  for (const reason of ['json', 'version', 'identity', 'too-large']) assert.is(valueOf(s, 'x0tta6bl4_fleet_exporter_messages_ignored_total', { reason }), 1, reason);
  assert.is(valueOf(s, 'x0tta6bl4_node_online', { node: 'n1' }), 1, 'a payload naming another node changed nothing');
  assert.ok(!s.some((x) => x.labels.node?.startsWith('j')), 'junk made no node');
  await c.publishAsync('x0tta6bl4/lab/j1/state', '', { qos: 1, retain: true });
});

test('a killed agent: its Last Will makes it offline (lost)', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/telemetry/telemetry-process.ts', JSON.stringify({ node: 'k1', fleet: 'lab', broker: broker.url })], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await scrapeUntil((s) => valueOf(s, 'x0tta6bl4_node_online', { node: 'k1' }) === 1, 'k1 online');
  } finally {
    child.kill('SIGKILL');
  }
  const s = await scrapeUntil((s) => valueOf(s, 'x0tta6bl4_node_state', { node: 'k1', state: 'lost' }) === 1, "k1's Last Will");
  assert.is(valueOf(s, 'x0tta6bl4_node_online', { node: 'k1' }), 0);
  await pub.client.publishAsync('x0tta6bl4/lab/k1/state', '', { qos: 1, retain: true });
  await pub.client.publishAsync('x0tta6bl4/lab/k1/telemetry', '', { qos: 1, retain: true });
});

test('the exporter reconnects after the broker restarts, and the retained state comes back', async () => {
  await broker.stop();
  await scrapeUntil((s) => valueOf(s, 'x0tta6bl4_fleet_exporter_connected') === 0, 'disconnected');
  await broker.resume();
  await scrapeUntil((s) => valueOf(s, 'x0tta6bl4_fleet_exporter_connected') === 1 && (valueOf(s, 'x0tta6bl4_fleet_exporter_connects_total') ?? 0) >= 2, 'reconnected');
  // The agents reconnect on their own backoff and publish their state and a fresh snapshot.
  await scrapeUntil((s) => valueOf(s, 'x0tta6bl4_node_online', { node: 'n1' }) === 1 && valueOf(s, 'x0tta6bl4_node_online', { node: 'n2' }) === 1, 'n1 and n2 back online');
});

test('promtool accepts the exposition: format and naming conventions (units, _total)', async () => {
  const { text } = await scrape();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is not installed (Debian package 'prometheus'): ${r.error.message}`);
  // The router's own /metrics names these three batman_*_count (before this exporter); the exporter
  // keeps the names so that one query works on both. Every other lint message is a failure.
  const inherited = /^batman_(gateway|neighbour|originator)_count non-histogram and non-summary metrics should not have "_count" suffix$/;
  const lint = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() && !inherited.test(l));
  assert.equal(lint, [], 'no other lint messages');
  assert.ok(r.status === 0 || lint.length === 0, `promtool check metrics exited ${r.status}`);
});

test('shards over HTTP: disjoint parts that make the whole fleet, the exporter\'s own series in shard 0; a bad shard is a 400', async () => {
  const nodesIn = async (q: string) => {
    const r = await fetch(`${url}${q}`);
    assert.is(r.status, 200, q);
    const s = parseProm(await r.text());
    return { nodes: s.filter((x) => x.name === 'x0tta6bl4_node_online').map((x) => x.labels.node!), self: s.some((x) => x.name === 'x0tta6bl4_fleet_exporter_connected') };
  };
  const all = await nodesIn('');
  const parts = [await nodesIn('?shard=0&shards=2'), await nodesIn('?shard=1&shards=2')];
  assert.equal([...parts[0]!.nodes, ...parts[1]!.nodes].sort(), all.nodes.sort());
  assert.equal([all.self, parts[0]!.self, parts[1]!.self], [true, true, false]);
  const bad = await fetch(`${url}?shard=2&shards=2`);
  assert.is(bad.status, 400);
  assert.match(await bad.text(), 'shard=I&shards=K needs integers');
});

test('--gzip: compressed when the scraper asks (Accept-Encoding), plain otherwise, the same text', async () => {
  const gz = new FleetExporter({ connect: { broker: broker.url }, fleet: 'lab', host: '127.0.0.1', port: 0, limits: { maxLinks: 32, staleS: 300, ttlS: 3600, maxNodes: 100 }, gzip: true, log: () => {} });
  try {
    const gzUrl = await gz.start();
    const get = (encoding: string | null) => new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      request(gzUrl, { headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
    let z = await get('gzip, deflate');
    for (let i = 0; i < 100 && !gunzipSync(z.body).toString().includes('node="n1"'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      z = await get('gzip, deflate');
    }
    assert.is(z.headers['content-encoding'], 'gzip');
    const text = gunzipSync(z.body).toString();
    assert.ok(parseProm(text).some((x) => x.name === 'x0tta6bl4_node_online' && x.labels.node === 'n1'), 'the fleet, compressed');
    const plain = await get(null);
    assert.is(plain.headers['content-encoding'], undefined);
    assert.ok(plain.body.toString().includes('# TYPE x0tta6bl4_node_online gauge'));
    assert.ok(plain.body.length > z.body.length, `compressed ${z.body.length} < plain ${plain.body.length}`);
  } finally {
    await gz.stop();
  }
});

test.run();
