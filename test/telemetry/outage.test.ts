// Store-and-forward against a real mosquitto that goes away: stopped while events keep
// happening (10 s by default; X0_OUTAGE_MS=60000 for the full minute — the logic is the
// same, only the queue grows), every QoS 1 event arrives afterwards exactly as sent and in order; past the buffer
// bound the oldest are dropped and counted; the flash copy carries events across an agent restart.
// The backend is a persistent-session subscriber (clean: false, QoS 1), as a real one would be,
// and the broker keeps sessions across its restart (persistence). Each test has its own broker,
// stopped in `finally`, so a failure cannot leave the next test without one; every wait has a
// limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import type { StatusEvent } from '../../src/status/types.ts';
import type { EventPayload, TelemetryPayload } from '../../src/telemetry/payloads.ts';
import { startTelemetry, type TelemetryOptions } from '../../src/telemetry/telemetry.ts';
import { EventSource, statusFixture } from './fixture.ts';
import { Mosquitto } from './mosquitto.ts';
import { exitIfStuck, Subscriber, until } from './subscriber.ts';

const OUTAGE_MS = Number(process.env.X0_OUTAGE_MS ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'x0-outage-'));
let broker: Mosquitto;
const logs: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before.each(async () => {
  broker = await Mosquitto.start({ persistence: true });
});
test.after.each(async () => {
  await broker.stop();
  if (process.env.X0_VERBOSE) console.log(logs.join('\n'));
  logs.length = 0;
});
test.after(() => {
  rmSync(dir, { recursive: true, force: true });
  exitIfStuck('outage.test.ts');
});

function agent(node: string, health: HealthBoard, events: EventSource, over: Partial<TelemetryOptions> = {}) {
  return startTelemetry({
    node,
    fleet: 'lab',
    broker: broker.url,
    intervalS: 1,
    reconnectMinS: 0.25,
    reconnectMaxS: 4,
    source: { status: () => statusFixture(node, 'lab', health) },
    subscribeEvents: events.subscribe,
    health,
    log: createLogger('info', (l) => logs.push(`${node}: ${l}`)),
    ...over,
  });
}

/** The backend: a persistent session, so the broker queues events for it while it is away too. */
function backend(node: string): Promise<Subscriber> {
  return Subscriber.connect(broker.url, [`x0tta6bl4/lab/${node}/events`, `x0tta6bl4/lab/${node}/telemetry`], { clean: false, clientId: `backend-${node}` });
}

/** QoS 1 is at-least-once: keep the first copy of each (boot, seq), in arrival order. */
function firstCopies(sub: Subscriber, node: string): { events: EventPayload[]; duplicates: number } {
  const seen = new Set<string>();
  const events: EventPayload[] = [];
  let duplicates = 0;
  for (const e of sub.json<EventPayload>(`x0tta6bl4/lab/${node}/events`)) {
    const k = `${e.boot}/${e.seq}`;
    if (seen.has(k)) duplicates++;
    else {
      seen.add(k);
      events.push(e);
    }
  }
  return { events, duplicates };
}

test(`broker stopped for ${OUTAGE_MS / 1000} s while events keep happening: all arrive after reconnect, as sent, in order`, async () => {
  const health = new HealthBoard('n1');
  const events = new EventSource();
  const sub = await backend('n1');
  const bufferFile = join(dir, 'n1.buffer');
  const t = agent('n1', health, events, { bufferLimit: 1000, bufferFile, bufferWriteIntervalS: 2 });
  const emitted: StatusEvent[] = [];
  let emitting = true;
  const emitter = (async () => {
    for (let i = 0; emitting; i++) {
      emitted.push(events.emit(i % 2 ? 'finding' : 'action', `event ${i}: link 02:00:00:00:00:0${i % 8} tq ${i % 256}`));
      await sleep(100);
    }
  })();
  try {
    await until(() => health.get('telemetry')?.state === 'ok', 'first connection');
    await until(() => emitted.length >= 20, 'events while connected');
    await broker.stop();
    const atStop = emitted.length;
    const stoppedAt = Date.now();
    await until(() => health.get('telemetry')?.state === 'degraded', 'the agent to notice');
    // First 'connection lost', then each retry says why it failed.
    await until(() => /connection refused.*ECONNREFUSED.*retrying/.test(health.get('telemetry')!.reason), 'a refused retry in /health');
    assert.is(health.get('telemetry')!.state, 'degraded', 'a broker away is degraded, not down: it needs time, not an operator');
    await sleep(OUTAGE_MS);
    // Waits, not timing assertions: the agent kept retrying and wrote its buffer to flash.
    await until(() => t.stats().connectFailures >= 3, 'reconnect attempts while the broker is down');
    await until(() => t.stats().bufferFileWrites > 0, 'a write of the flash buffer');
    const during = t.stats();
    const elapsedS = (Date.now() - stoppedAt) / 1000;
    assert.is(during.state, 'retrying');
    assert.ok(during.eventsQueued >= emitted.length - atStop, `queued ${during.eventsQueued}`);
    assert.is(during.eventsDropped, 0);
    assert.ok(during.telemetrySkipped > 0, 'telemetry coalesced while offline');
    assert.ok(existsSync(bufferFile));
    // Rate limit: at most one rewrite per bufferWriteIntervalS (2 s), however many events came.
    assert.ok(during.bufferFileWrites <= Math.ceil(elapsedS / 2) + 1, `flash writes: ${during.bufferFileWrites} in ${elapsedS.toFixed(1)} s`);
    const onFlash = readFileSync(bufferFile, 'utf8').trim().split('\n').slice(1);
    assert.ok(onFlash.length > 0 && onFlash.length <= during.eventsQueued);
    await broker.resume();
    await until(() => health.get('telemetry')?.state === 'ok', 'reconnection', 30_000);
    await sleep(2000);
    emitting = false;
    await emitter;
    await sub.until(() => firstCopies(sub, 'n1').events.length >= emitted.length, `all ${emitted.length} events`, 30_000);
    const { events: got, duplicates } = firstCopies(sub, 'n1');
    assert.is(got.length, emitted.length);
    assert.equal(
      got.map((e) => [e.seq, e.ts, e.kind, e.message]),
      emitted.map((e, i) => [i + 1, e.ts, e.kind, e.message]),
    );
    assert.ok(new Set(got.map((e) => e.boot)).size === 1);
    logs.push(`outage: ${emitted.length} events, ${emitted.length - atStop} during the outage, ${duplicates} duplicate deliveries`);
    // Queue drained: the flash copy goes away at the next batched write.
    await until(() => !existsSync(bufferFile), 'the buffer file to be removed once empty', 10_000);
    const tel = sub.json<TelemetryPayload>('x0tta6bl4/lab/n1/telemetry');
    assert.ok(tel.length > 0 && tel[tel.length - 1]!.telemetry.reconnects >= 1);
  } finally {
    emitting = false;
    await emitter;
    await t.stop();
    await sub.close();
  }
});

test('past the buffer bound the oldest events are dropped, counted, and the rest arrive in order', async () => {
  const health = new HealthBoard('n2');
  const events = new EventSource();
  const sub = await backend('n2');
  const t = agent('n2', health, events, { bufferLimit: 50 });
  try {
    await until(() => health.get('telemetry')?.state === 'ok', 'connection');
    await broker.stop();
    await until(() => health.get('telemetry')?.state === 'degraded', 'the agent to notice');
    const emitted = Array.from({ length: 80 }, (_, i) => events.emit('info', `offline event ${i}`));
    assert.is(t.stats().eventsQueued, 50);
    assert.is(t.stats().eventsDropped, 30);
    await broker.resume();
    await sub.until(() => firstCopies(sub, 'n2').events.length >= 50, '50 events', 30_000);
    await sleep(500);
    const got = firstCopies(sub, 'n2').events;
    assert.equal(got.map((e) => e.seq), emitted.slice(30).map((_, i) => 31 + i));
    assert.equal(got.map((e) => e.message), emitted.slice(30).map((e) => e.message));
    await sub.until(() => sub.json<TelemetryPayload>('x0tta6bl4/lab/n2/telemetry').some((p) => p.telemetry.dropped === 30), 'telemetry reporting the drops');
  } finally {
    await t.stop();
    await sub.close();
  }
});

test('events buffered on flash survive an agent restart during an outage', async () => {
  const bufferFile = join(dir, 'n3.buffer');
  const sub = await backend('n3');
  try {
    await restartDuringOutage(sub, bufferFile);
  } finally {
    await sub.close();
  }
});

async function restartDuringOutage(sub: Subscriber, bufferFile: string): Promise<void> {
  const h1 = new HealthBoard('n3');
  const ev1 = new EventSource();
  const first = agent('n3', h1, ev1, { bufferFile });
  let before: StatusEvent[];
  try {
    await until(() => h1.get('telemetry')?.state === 'ok', 'connection');
    await broker.stop();
    await until(() => h1.get('telemetry')?.state === 'degraded', 'the agent to notice');
    before = Array.from({ length: 5 }, (_, i) => ev1.emit('fault', `before restart ${i}`));
  } finally {
    await first.stop(); // saves the queue
  }
  const lines = readFileSync(bufferFile, 'utf8').trim().split('\n');
  assert.is(lines.length, 6, 'header + 5 events');

  const h2 = new HealthBoard('n3');
  const ev2 = new EventSource();
  const second = agent('n3', h2, ev2, { bufferFile });
  try {
    assert.is(second.stats().eventsQueued, 5);
    const after = ev2.emit('info', 'after restart');
    await broker.resume();
    await sub.until(() => firstCopies(sub, 'n3').events.length >= 6, 'six events', 30_000);
    const got = firstCopies(sub, 'n3').events;
    assert.equal(got.map((e) => e.message), [...before, after].map((e) => e.message));
    assert.is(new Set(got.map((e) => e.boot)).size, 2, 'each boot numbers its own events');
    assert.equal(got.map((e) => e.seq), [1, 2, 3, 4, 5, 1]);
  } finally {
    await second.stop();
  }
}

test.run();
