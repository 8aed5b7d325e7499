// The exporter's persistent session (--session-id) on a real mosquitto: the broker keeps the
// subscription and queues QoS 1 events while the exporter is stopped; a new exporter (a fresh
// model, as after a process restart) under the same id receives and counts them, and counts no
// gap. The control: a clean-session exporter stopped the same way never sees those events.
// The node is a contract-following publisher (live `online` state, then QoS 1 events).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../src/cli/command.ts';
import { parseSessionId } from '../../src/fleet-exporter/command.ts';
import { FleetExporter } from '../../src/fleet-exporter/exporter.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { exitIfStuck, Subscriber } from '../telemetry/subscriber.ts';
import { parseProm, valueOf, type PromSample } from './prom-text.ts';

let broker: Mosquitto;
let pub: Subscriber;
const running: FleetExporter[] = [];
const BOOT = 'sb1';

async function startExporter(sessionId: string | null): Promise<{ exporter: FleetExporter; url: string; log: string[] }> {
  const log: string[] = [];
  const exporter = new FleetExporter({
    connect: { broker: broker.url },
    fleet: 'lab',
    host: '127.0.0.1',
    port: 0,
    limits: { maxLinks: 32, staleS: 300, ttlS: 3600, maxNodes: 100 },
    sessionId,
    log: (l) => log.push(l),
    backoff: { minMs: 100, maxMs: 500 },
  });
  running.push(exporter);
  const url = await exporter.start();
  // Publish only once subscribed (start() resolves when /metrics listens).
  const deadline = Date.now() + 20_000;
  while (!log.some((l) => l.includes('subscribed to'))) {
    if (Date.now() > deadline) throw new Error(`the exporter did not subscribe:\n${log.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { exporter, url, log };
}

async function stopExporter(e: FleetExporter): Promise<void> {
  await e.stop();
  running.splice(running.indexOf(e), 1);
}

async function scrapeUntil(url: string, pred: (s: PromSample[]) => boolean, what: string): Promise<PromSample[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = parseProm(await (await fetch(url)).text());
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const counted = (s: PromSample[], node: string) => valueOf(s, 'x0tta6bl4_events_total', { node, kind: 'info' }) ?? 0;
const missing = (s: PromSample[], node: string) => valueOf(s, 'x0tta6bl4_events_missing_total', { node });

async function publishEvents(node: string, seqs: number[]): Promise<void> {
  for (const seq of seqs)
    await pub.client.publishAsync(`x0tta6bl4/lab/${node}/events`, JSON.stringify({ v: 1, fleet: 'lab', node, boot: BOOT, seq, ts: new Date().toISOString(), kind: 'info', message: `e${seq}` }), { qos: 1 });
}

async function comeOnline(node: string): Promise<void> {
  const state = { v: 1, fleet: 'lab', node, state: 'online', reason: 'connected', since: new Date().toISOString(), boot: BOOT, version: 'test' };
  await pub.client.publishAsync(`x0tta6bl4/lab/${node}/state`, JSON.stringify(state), { qos: 1, retain: true });
}

test.before(async () => {
  broker = await Mosquitto.start();
  pub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/none/state']); // a publisher; the topic is unused
});

test.after(async () => {
  for (const e of [...running]) await e.stop();
  await pub?.close();
  await broker?.stop();
  exitIfStuck('test/fleet-exporter/session.test.ts');
});

test('with --session-id, events published while the exporter was down are counted after it returns, with no gap', async () => {
  const first = await startExporter('x0-exporter-test');
  await comeOnline('p1');
  await publishEvents('p1', [1, 2]);
  let s = await scrapeUntil(first.url, (s) => counted(s, 'p1') === 2, 'the first two events');
  assert.is(missing(s, 'p1'), 0);
  assert.ok(first.log.some((l) => l.includes('session x0-exporter-test new')), first.log.join('\n'));
  await stopExporter(first.exporter);

  await publishEvents('p1', [3, 4, 5, 6, 7]); // nobody is connected: the broker queues them for the session
  const second = await startExporter('x0-exporter-test');
  s = await scrapeUntil(second.url, (s) => counted(s, 'p1') === 5, 'the five events sent while the exporter was down');
  assert.is(missing(s, 'p1'), 0, 'no gap: the first run counted 1 and 2');
  assert.ok(second.log.some((l) => l.includes('session x0-exporter-test resumed')), second.log.join('\n'));
  await publishEvents('p1', [8]);
  s = await scrapeUntil(second.url, (s) => counted(s, 'p1') === 6, 'an event after the restart');
  assert.is(missing(s, 'p1'), 0);
  assert.is(valueOf(s, 'x0tta6bl4_events_duplicates_total', { node: 'p1' }), undefined, 'nothing delivered twice');
  await stopExporter(second.exporter);
});

test('control: a clean session (no --session-id) loses the events sent while it was down', async () => {
  const first = await startExporter(null);
  await comeOnline('c1');
  await publishEvents('c1', [1, 2]);
  await scrapeUntil(first.url, (s) => counted(s, 'c1') === 2, 'the first two events');
  await stopExporter(first.exporter);
  await publishEvents('c1', [3, 4, 5]);
  const second = await startExporter(null);
  await scrapeUntil(second.url, (s) => valueOf(s, 'x0tta6bl4_node_online', { node: 'c1' }) === 1, 'c1 from its retained state');
  await publishEvents('c1', [6]);
  const s = await scrapeUntil(second.url, (s) => counted(s, 'c1') >= 1, 'the event after the restart');
  assert.is(counted(s, 'c1'), 1, 'events 3-5 were not kept for a clean session');
  assert.is(missing(s, 'c1'), 0, 'a boot met mid-way (retained state only): earlier seq are not called missing');
  await stopExporter(second.exporter);
});

test('--session-id takes an MQTT client id, and says what is wrong with anything else', () => {
  assert.is(parseSessionId(undefined), null);
  assert.is(parseSessionId('x0tta6bl4-exporter.backend_1'), 'x0tta6bl4-exporter.backend_1');
  for (const bad of ['', 'has space', 'x'.repeat(65), 'a/b', '+', true]) assert.throws(() => parseSessionId(bad), (e: unknown) => e instanceof UsageError && /--session-id must be/.test((e as Error).message), String(bad));
});

test.run();
