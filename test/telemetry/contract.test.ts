// The topic contract end to end through a real mosquitto: retained state with the Last Will,
// retained telemetry, QoS 1 events in order, clean shutdown, and the Last Will firing when the
// agent process is killed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import type { EventPayload, StatePayload, TelemetryPayload } from '../../src/telemetry/payloads.ts';
import { MAX_TELEMETRY_BYTES } from '../../src/telemetry/snapshot.ts';
import { startTelemetry } from '../../src/telemetry/telemetry.ts';
import { EventSource, statusFixture } from './fixture.ts';
import { Mosquitto } from './mosquitto.ts';
import { Subscriber, until } from './subscriber.ts';

const root = new URL('../..', import.meta.url).pathname;
let broker: Mosquitto;
const logs: string[] = [];
const log = createLogger('debug', (l) => logs.push(l));

test.before(async () => {
  broker = await Mosquitto.start();
});
test.after(async () => {
  await broker.stop();
});

test('state, telemetry and events on the documented topics; clean stop says offline', async () => {
  const health = new HealthBoard('n1');
  const events = new EventSource();
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/#']);
  const t = startTelemetry({
    node: 'n1',
    fleet: 'lab',
    broker: broker.url,
    intervalS: 1,
    source: { status: () => statusFixture('n1', 'lab', health) },
    subscribeEvents: events.subscribe,
    health,
    log,
  });
  try {
    await sub.until(() => sub.on('x0tta6bl4/lab/n1/telemetry').length >= 2, 'two telemetry snapshots');
    assert.is(health.get('telemetry')?.state, 'ok');
    assert.match(health.get('telemetry')!.reason, `connected to mqtt://127.0.0.1:${broker.port} (plaintext)`);

    const state = sub.json<StatePayload>('x0tta6bl4/lab/n1/state');
    assert.is(state[0]!.state, 'online');
    assert.is(state[0]!.v, 1);
    assert.is(state[0]!.reason, 'connected');
    assert.is(sub.on('x0tta6bl4/lab/n1/state')[0]!.qos, 1);

    const tel = sub.json<TelemetryPayload>('x0tta6bl4/lab/n1/telemetry');
    const last = tel[tel.length - 1]!;
    assert.is(last.v, 1);
    assert.is(last.node, 'n1');
    assert.is(last.boot, state[0]!.boot);
    assert.ok(last.seq > tel[0]!.seq);
    assert.equal(last.gateway, { originator: '02:00:00:00:00:03', router: '02:00:00:00:00:02', iface: 'mesh0', tq: 220, downKbps: 50000, upKbps: 10000 });
    assert.equal(last.links[0], { neighbour: '02:00:00:00:00:02', iface: 'mesh0', kind: 'tq', metric: 255 });
    assert.is(last.mesh.neighbours, 3);
    assert.is(last.mesh.originators, 3);
    assert.is(last.health.overall, 'ok');
    assert.equal(last.learning, { rounds: 3, loss: 0.25 });
    assert.ok(last.memory.agentRssKb > 0 && last.memory.totalKb > last.memory.freeKb);
    assert.is(last.load.length, 3);
    assert.ok(sub.on('x0tta6bl4/lab/n1/telemetry').every((m) => m.text.length <= MAX_TELEMETRY_BYTES));

    const sent = [events.emit('finding', 'link to 02:00:00:00:00:02 degrading'), events.emit('action', 'hop_penalty 30 → 60'), events.emit('rollback', 'hop_penalty 60 → 30')];
    await sub.until(() => sub.on('x0tta6bl4/lab/n1/events').length >= 3, 'three events');
    const got = sub.json<EventPayload>('x0tta6bl4/lab/n1/events');
    assert.equal(got.map((e) => e.seq), [1, 2, 3]);
    assert.equal(got.map((e) => [e.ts, e.kind, e.message]), sent.map((e) => [e.ts, e.kind, e.message]));
    assert.ok(sub.on('x0tta6bl4/lab/n1/events').every((m) => m.qos === 1 && !m.retain));

    // A subscriber arriving later gets the retained state and telemetry at once.
    const late = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/+/state', 'x0tta6bl4/lab/+/telemetry']);
    await late.until(() => late.messages.length >= 2, 'retained messages');
    assert.ok(late.messages.every((m) => m.retain));
    assert.is(late.json<StatePayload>('x0tta6bl4/lab/n1/state')[0]!.state, 'online');
    await late.close();

    const s = t.stats();
    assert.is(s.state, 'connected');
    assert.is(s.eventsSent, 3);
    assert.is(s.eventsQueued, 0);
    assert.ok(s.telemetrySent >= 2);
  } finally {
    await t.stop();
  }
  await sub.until(() => sub.json<StatePayload>('x0tta6bl4/lab/n1/state').some((p) => p.state === 'offline'), 'offline state');
  const off = sub.json<StatePayload>('x0tta6bl4/lab/n1/state').pop()!;
  assert.is(off.reason, 'stopped');
  assert.is(events.count, 0, 'stop() unsubscribed from events');
  assert.is(health.get('telemetry')?.state, 'disabled');
  await sub.close();
});

test('the Last Will says offline/lost when the agent process is killed', async () => {
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/victim/state']);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/telemetry/telemetry-process.ts', JSON.stringify({ node: 'victim', fleet: 'lab', broker: broker.url })],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  try {
    await until(() => out.includes('health telemetry ok'), 'the agent process to connect', 30_000);
    await sub.until(() => sub.json<StatePayload>('x0tta6bl4/lab/victim/state').some((p) => p.state === 'online'), 'online');
    const online = sub.json<StatePayload>('x0tta6bl4/lab/victim/state').find((p) => p.state === 'online')!;
    child.kill('SIGKILL');
    await sub.until(() => sub.json<StatePayload>('x0tta6bl4/lab/victim/state').some((p) => p.state === 'offline'), 'the Last Will');
    const will = sub.json<StatePayload>('x0tta6bl4/lab/victim/state').find((p) => p.state === 'offline')!;
    assert.is(will.reason, 'lost');
    assert.is(will.boot, online.boot);
    // Retained: what an operator who connects now sees first.
    const late = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/victim/state']);
    await late.until(() => late.messages.length === 1, 'retained state');
    assert.is(late.json<StatePayload>('x0tta6bl4/lab/victim/state')[0]!.state, 'offline');
    assert.ok(late.messages[0]!.retain);
    await late.close();
  } finally {
    child.kill('SIGKILL');
    await sub.close();
  }
});

test('bad names and URLs: a clear "down" status, no crash, no connection attempts', async () => {
  for (const [over, text] of [
    [{ node: 'bad/name' }, 'cannot be an MQTT topic level'],
    [{ broker: 'mqtt://broker.example.net:1883' }, 'refusing plaintext MQTT'],
    [{ broker: 'wss://broker.example.net/mqtt' }, 'not supported'],
    [{ broker: 'mqtts://u:p@broker.example.net' }, 'not in the URL'],
    [{ broker: 'mqtts://broker.example.net', certFile: '/etc/x.pem' }, 'needs both'],
    [{ broker: 'nonsense' }, 'not a URL'],
  ] as const) {
    const health = new HealthBoard('n1');
    const base = { node: 'n1', fleet: 'lab', broker: broker.url, intervalS: 60 };
    const t = startTelemetry({
      ...base,
      ...over,
      source: { status: () => statusFixture('n1', 'lab', health) },
      subscribeEvents: new EventSource().subscribe,
      health,
      log,
    });
    assert.is(health.get('telemetry')?.state, 'down', JSON.stringify(over));
    assert.match(health.get('telemetry')!.reason, text);
    assert.is(t.stats().state, 'misconfigured');
    assert.is(t.stats().connects + t.stats().connectFailures, 0);
    await t.stop();
  }
});

test.run();
