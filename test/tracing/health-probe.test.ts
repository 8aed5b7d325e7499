// The tracing component in /health: read when health is asked (HealthBoard.probe, no timer),
// shown with its state and reason, and advisory: a collector that is away degrades the
// component, never the router's overall health.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HealthBoard } from '../../src/agent/health.ts';
import { createTracer } from '../../src/tracing/tracer.ts';
import { OtlpReceiver, until } from './otlp-receiver.ts';

const RESOURCE = { serviceName: 'x0tta6bl4', serviceVersion: '0.0.1', hostName: 'router-h' };

test('tracing off: the component says disabled, overall stays ok', () => {
  const board = new HealthBoard('n1');
  board.set('mesh', 'ok', 'fine');
  const tracer = createTracer({ enabled: false, endpoint: '', headers: {}, sampleRatio: 1, queueLimit: 100 }, RESOURCE);
  board.probe('tracing', () => tracer.health());
  const r = board.report();
  assert.equal(r.components.find((c) => c.name === 'tracing'), { name: 'tracing', state: 'disabled', reason: 'tracing.enabled is off' });
  assert.is(r.overall, 'ok');
});

test('collector away: tracing degraded with the reason at the next report, overall still ok; back: ok again', async () => {
  const first = await OtlpReceiver.start();
  const port = first.port;
  await first.close();
  const tracer = createTracer({ enabled: true, endpoint: `http://127.0.0.1:${port}`, headers: {}, sampleRatio: 1, queueLimit: 100 }, RESOURCE,
    { flushDelayMs: 10, firstRetryDelayMs: 30, maxRetryDelayMs: 60, maxAttempts: 1000 });
  const board = new HealthBoard('n1');
  board.set('mesh', 'ok', 'fine');
  const changes: string[] = [];
  board.onChange((c, before) => { if (before !== undefined) changes.push(`${c.name} ${before} -> ${c.state}`); });
  board.probe('tracing', () => tracer.health());
  assert.is(board.get('tracing')!.state, 'ok');
  let recv: OtlpReceiver | null = null;
  try {
    tracer.startSpan('x').end();
    await until(() => tracer.stats().failedExports > 0, 'a failed export');
    const r = board.report();
    const t = r.components.find((c) => c.name === 'tracing')!;
    assert.is(t.state, 'degraded');
    assert.match(t.reason, /ECONNREFUSED/);
    assert.is(r.overall, 'ok', 'tracing is advisory');
    board.set('telemetry', 'degraded', 'broker away');
    assert.is(board.report().overall, 'degraded', 'other components still count');
    recv = await OtlpReceiver.start(undefined, port);
    await until(() => tracer.stats().exported === 1, 'the retry to succeed');
    assert.is(board.report().components.find((c) => c.name === 'tracing')!.state, 'ok');
    assert.equal(changes, ['tracing ok -> degraded', 'tracing degraded -> ok'], 'state changes reach the listeners (the event log)');
  } finally {
    await tracer.shutdown();
    await recv?.close();
  }
});

test.run();
