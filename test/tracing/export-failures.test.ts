// The exporter when the collector is away, slow or refusing: drops counted in the stats (that
// /metrics and /health show), the queue bound held, retries with backoff on timers while the
// event loop keeps running, a batch delivered once the collector is back, final errors not retried.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTracer, type TracerTuning, type TracingSettings } from '../../src/tracing/tracer.ts';
import { OtlpReceiver, until } from './otlp-receiver.ts';

const RESOURCE = { serviceName: 'x0tta6bl4', serviceVersion: '0.0.1', hostName: 'router-b' };
const FAST: TracerTuning = { flushDelayMs: 20, firstRetryDelayMs: 50, maxRetryDelayMs: 200, timeoutMs: 5000, maxAttempts: 3 };
const settings = (endpoint: string, more: Partial<TracingSettings> = {}): TracingSettings =>
  ({ enabled: true, endpoint, headers: {}, sampleRatio: 1, queueLimit: 1000, ...more });

/** A port on 127.0.0.1 where nothing listens (a receiver started and closed). */
async function closedPort(): Promise<number> {
  const r = await OtlpReceiver.start();
  const port = r.port;
  await r.close();
  return port;
}

/** Counts event-loop turns: proof the loop kept running while exports failed or hung. */
function loopTicker(): { ticks: () => number; stop: () => void } {
  let n = 0;
  const t = setInterval(() => n++, 5);
  return { ticks: () => n, stop: () => clearInterval(t) };
}

test('receiver down: the queue holds queue_limit, the rest is dropped and counted, the batch is given up after its retries', async () => {
  const port = await closedPort();
  const tracer = createTracer(settings(`http://127.0.0.1:${port}`, { queueLimit: 20 }), RESOURCE, FAST);
  const ticker = loopTicker();
  try {
    for (let i = 0; i < 50; i++) tracer.startSpan(`s${i}`).end();
    assert.equal(tracer.stats(), { queued: 20, exported: 0, dropped: 30, failedExports: 0 });
    await until(() => tracer.stats().failedExports === 3 && tracer.stats().queued === 0, 'three failed attempts, then the batch given up');
    assert.equal(tracer.stats(), { queued: 0, exported: 0, dropped: 50, failedExports: 3 });
    const h = tracer.health();
    assert.is(h.state, 'degraded');
    assert.match(h.reason, /ECONNREFUSED/);
    assert.ok(ticker.ticks() > 3, 'the loop ran while the exports failed');
  } finally {
    ticker.stop();
    await tracer.shutdown();
  }
});

test('collector back on the same port: the held batch goes through on a retry, once', async () => {
  const first = await OtlpReceiver.start();
  const port = first.port;
  await first.close();
  const tracer = createTracer(settings(`http://127.0.0.1:${port}`), RESOURCE, { ...FAST, maxAttempts: 1000, maxRetryDelayMs: 100 });
  let recv: OtlpReceiver | null = null;
  try {
    const ids = Array.from({ length: 5 }, (_, i) => { const s = tracer.startSpan(`held${i}`); s.end(); return s.context.spanId; });
    await until(() => tracer.stats().failedExports >= 2, 'a couple of failed attempts');
    // Spans ended during the outage wait in the queue behind the held batch.
    tracer.startSpan('during').end();
    assert.is(tracer.stats().queued, 6);
    recv = await OtlpReceiver.start(undefined, port);
    await until(() => tracer.stats().exported === 6, 'the held batch and the next one to be exported');
    const got = recv.spans().map((s) => s.spanId);
    assert.equal(got.slice(0, 5).sort(), [...ids].sort());
    assert.is(new Set(got).size, got.length, 'no span twice');
    assert.is(tracer.stats().dropped, 0);
    assert.is(tracer.health().state, 'ok', 'a success clears the failure');
  } finally {
    await tracer.shutdown();
    await recv?.close();
  }
});

test('503 is retried with the same spans; 400 is final: dropped and counted, not retried', async () => {
  const recv = await OtlpReceiver.start();
  const tracer = createTracer(settings(recv.url), RESOURCE, FAST);
  try {
    recv.status = 503;
    tracer.startSpan('a').end();
    tracer.startSpan('b').end();
    await recv.waitForPosts(1);
    recv.status = 200;
    await until(() => tracer.stats().exported === 2, 'the retry to succeed');
    assert.is(recv.posts.length, 2);
    assert.equal(recv.posts[1]!.body, recv.posts[0]!.body, 'the retry sends the same request');
    assert.equal(tracer.stats(), { queued: 0, exported: 2, dropped: 0, failedExports: 1 });

    recv.status = 400;
    tracer.startSpan('bad').end();
    await until(() => tracer.stats().dropped === 1, 'the refused span to be dropped');
    await new Promise((r) => setTimeout(r, 300)); // longer than several retry delays
    assert.is(recv.posts.length, 3, 'a 400 is not retried');
    assert.equal(tracer.stats(), { queued: 0, exported: 2, dropped: 1, failedExports: 2 });
    assert.match(tracer.health().reason, /HTTP 400/);
  } finally {
    await tracer.shutdown();
    await recv.close();
  }
});

test("429 with Retry-After: the retry waits at least that long (beyond the exporter's own first delay)", async () => {
  const recv = await OtlpReceiver.start();
  const tracer = createTracer(settings(recv.url), RESOURCE, { ...FAST, firstRetryDelayMs: 20, maxRetryDelayMs: 10_000 });
  try {
    recv.status = 429;
    recv.answerHeaders = { 'retry-after': '1' };
    tracer.startSpan('throttled').end();
    await recv.waitForPosts(1);
    recv.status = 200;
    recv.answerHeaders = {};
    await until(() => tracer.stats().exported === 1, 'the retry to succeed');
    // A lower bound only (a timer never fires early); no upper bound on a loaded machine.
    assert.ok(recv.posts[1]!.atMs - recv.posts[0]!.atMs >= 950, `retried after ${recv.posts[1]!.atMs - recv.posts[0]!.atMs} ms`);
  } finally {
    await tracer.shutdown();
    await recv.close();
  }
});

test('a collector that never answers: each attempt times out, the loop and new spans carry on, the queue stays bounded', async () => {
  const recv = await OtlpReceiver.start();
  recv.stall = true;
  const tracer = createTracer(settings(recv.url, { queueLimit: 30 }), RESOURCE, { ...FAST, timeoutMs: 300, maxAttempts: 2 });
  const ticker = loopTicker();
  try {
    for (let i = 0; i < 10; i++) tracer.startSpan(`first${i}`).end();
    await recv.waitForPosts(1);
    // The export hangs; the agent keeps tracing: 10 held + 20 queued fill the 30, 5 dropped.
    for (let i = 0; i < 25; i++) tracer.startSpan(`more${i}`).end();
    assert.equal(tracer.stats(), { queued: 30, exported: 0, dropped: 5, failedExports: 0 });
    await until(() => tracer.stats().failedExports >= 2, 'two timed-out attempts');
    assert.match(tracer.health().reason, /no answer within 300 ms/);
    assert.ok(tracer.stats().queued <= 30);
    assert.ok(ticker.ticks() > 3, 'the loop ran while the export hung');
  } finally {
    ticker.stop();
    await tracer.shutdown();
    await recv.close();
  }
  assert.is(tracer.stats().queued, 0, 'shutdown leaves nothing held');
});

test('an endpoint that is not a URL: no crash, every span dropped and counted, /health says why', async () => {
  const tracer = createTracer(settings('not a url'), RESOURCE, FAST);
  tracer.startSpan('x').end();
  assert.equal(tracer.stats(), { queued: 0, exported: 0, dropped: 1, failedExports: 0 });
  assert.match(tracer.health().reason, /endpoint 'not a url'/);
  await tracer.shutdown();
});

test.run();
