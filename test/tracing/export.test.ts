// What the tracer POSTs, decoded by a receiver on 127.0.0.1 with the official OpenTelemetry
// protobuf definitions: the span tree (ids, parents, kinds, times, attributes, events, links,
// status, flags), the resource and scope, the headers; sampling; nothing at all when off.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTracer, type TracerTuning, type TracingSettings } from '../../src/tracing/tracer.ts';
import { extractContext, injectContext } from '../../src/tracing/propagation.ts';
import { NOOP_TRACER } from '../../src/tracing/api.ts';
import { renderTracingMetrics } from '../../src/status/metrics-tracing.ts';
import { OtlpReceiver, attrs, until, type DecodedSpan } from './otlp-receiver.ts';

const RESOURCE = { serviceName: 'x0tta6bl4', serviceVersion: '9.8.7', hostName: 'router-a' };
const FAST: TracerTuning = { flushDelayMs: 20, firstRetryDelayMs: 50, maxRetryDelayMs: 200, timeoutMs: 5000 };
const settings = (endpoint: string, more: Partial<TracingSettings> = {}): TracingSettings =>
  ({ enabled: true, endpoint, headers: {}, sampleRatio: 1, queueLimit: 1000, ...more });

const byName = (spans: DecodedSpan[], name: string) => {
  const s = spans.find((x) => x.name === name);
  if (!s) throw new Error(`no span '${name}' among ${spans.map((x) => x.name).join(', ')}`);
  return s;
};

test('a MAPE-K-like span tree arrives whole: ids, parents, kinds, attributes, events, links, status, resource', async () => {
  const recv = await OtlpReceiver.start();
  const tracer = createTracer(settings(recv.url, { headers: { Authorization: 'Bearer t0k', 'X-Scope-OrgID': 'fleet-a' } }), RESOURCE, FAST);
  try {
    const t0 = Date.now() - 1000;
    const cycle = tracer.startSpan('mapek.cycle', { startTimeMs: t0, attributes: { 'x0tta6bl4.link': 'mesh0', 'network.interface.name': 'mesh0' } });
    const monitor = tracer.startSpan('mapek.monitor', { parent: cycle.context, startTimeMs: t0 });
    monitor.end(t0 + 5);
    const analyze = tracer.startSpan('mapek.analyze', { parent: cycle.context });
    analyze.addEvent('finding', { 'x0tta6bl4.rule': 'link-loss', loss: 0.75, neighbours: 3, flapping: true }, t0 + 7);
    analyze.end();
    const remote = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), sampled: true, remote: true, traceState: 'vendor=1' };
    const execute = tracer.startSpan('mapek.execute', { parent: cycle.context, kind: 'client', links: [remote], attributes: { 'x0tta6bl4.action': 'orig-interval' } });
    execute.setAttribute('attempt', 2);
    execute.setStatus('error', 'netlink: EPERM');
    execute.end();
    cycle.setStatus('ok');
    cycle.setStatus('error', 'ignored: ok is final');
    cycle.end();

    await recv.waitForPosts(1);
    const post = recv.posts[0]!;
    assert.is(post.decodeError, null);
    assert.is(post.path, '/v1/traces', 'a bare origin gets the OTLP default path');
    assert.is(post.headers['content-type'], 'application/x-protobuf');
    assert.is(post.headers.authorization, 'Bearer t0k');
    assert.is(post.headers['x-scope-orgid'], 'fleet-a');

    const rs = post.request!.resourceSpans;
    assert.is(rs.length, 1);
    assert.equal(attrs(rs[0]!.resource.attributes), { 'service.name': 'x0tta6bl4', 'service.version': '9.8.7', 'host.name': 'router-a' });
    assert.is(rs[0]!.scopeSpans[0]!.scope.name, 'x0tta6bl4');
    assert.is(rs[0]!.scopeSpans[0]!.scope.version, '9.8.7');

    const spans = recv.spans();
    assert.is(spans.length, 4);
    const [c, m, a, e] = ['mapek.cycle', 'mapek.monitor', 'mapek.analyze', 'mapek.execute'].map((n) => byName(spans, n)) as DecodedSpan[];
    assert.is(c!.traceId, cycle.context.traceId);
    assert.is(c!.spanId, cycle.context.spanId);
    assert.is(c!.parentSpanId, '', 'the cycle is the root');
    for (const child of [m!, a!, e!]) {
      assert.is(child.traceId, c!.traceId);
      assert.is(child.parentSpanId, c!.spanId);
      assert.is.not(child.spanId, c!.spanId);
    }
    assert.match(c!.traceId, /^[0-9a-f]{32}$/);
    assert.match(m!.spanId, /^[0-9a-f]{16}$/);
    assert.is(c!.kind, 1, 'SPAN_KIND_INTERNAL');
    assert.is(e!.kind, 3, 'SPAN_KIND_CLIENT');
    // Times in unix nanoseconds, as given.
    assert.is(c!.startTimeUnixNano, `${t0}000000`);
    assert.is(m!.endTimeUnixNano, `${t0 + 5}000000`);
    assert.ok(BigInt(c!.endTimeUnixNano) >= BigInt(e!.endTimeUnixNano));
    assert.equal(attrs(c!.attributes), { 'x0tta6bl4.link': 'mesh0', 'network.interface.name': 'mesh0' });
    assert.equal(attrs(e!.attributes), { 'x0tta6bl4.action': 'orig-interval', attempt: 2 });
    assert.is(a!.events.length, 1);
    assert.is(a!.events[0]!.name, 'finding');
    assert.is(a!.events[0]!.timeUnixNano, `${t0 + 7}000000`);
    assert.equal(attrs(a!.events[0]!.attributes), { 'x0tta6bl4.rule': 'link-loss', loss: 0.75, neighbours: 3, flapping: true });
    assert.equal(e!.status, { code: 2, message: 'netlink: EPERM' });
    assert.equal(c!.status, { code: 1, message: '' });
    assert.is(m!.status, null, 'unset status is left out');
    assert.is(e!.links.length, 1);
    assert.equal({ ...e!.links[0]!, attributes: [] }, { traceId: remote.traceId, spanId: remote.spanId, traceState: 'vendor=1', flags: 0x301, attributes: [], droppedAttributesCount: 0 } as never);
    // Span.flags: sampled; a local parent is known not to be remote; a root says nothing.
    assert.is(c!.flags, 0x01);
    assert.is(m!.flags, 0x101);
    await until(() => tracer.stats().exported === 4, 'the answer to reach the exporter');
    assert.equal(tracer.stats(), { queued: 0, exported: 4, dropped: 0, failedExports: 0 });
    assert.is(tracer.health().state, 'ok');
  } finally {
    await tracer.shutdown();
    await recv.close();
  }
});

test('a remote parent (extracted from a message) keeps its trace id, sampled flag and tracestate', async () => {
  const recv = await OtlpReceiver.start();
  const tracer = createTracer(settings(recv.url, { sampleRatio: 0 }), RESOURCE, FAST);
  try {
    const parent = extractContext({ traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`, tracestate: 'x0=1' })!;
    const span = tracer.startSpan('command.received', { parent, kind: 'consumer' });
    assert.equal(injectContext(span.context), { traceparent: `00-${'c'.repeat(32)}-${span.context.spanId}-01`, tracestate: 'x0=1' });
    span.end();
    // B3 from a foreign system: 64-bit ids padded; not sampled there, so not recorded here.
    const b3 = extractContext({ b3: `${'e'.repeat(16)}-${'f'.repeat(16)}-0` })!;
    const quiet = tracer.startSpan('ignored', { parent: b3 });
    assert.is(quiet.context.traceId, '0'.repeat(16) + 'e'.repeat(16));
    assert.is(quiet.context.sampled, false);
    quiet.end();
    await recv.waitForPosts(1);
    const [s] = recv.spans();
    assert.is(s!.traceId, 'c'.repeat(32));
    assert.is(s!.parentSpanId, 'd'.repeat(16));
    assert.is(s!.traceState, 'x0=1');
    assert.is(s!.kind, 5, 'SPAN_KIND_CONSUMER');
    assert.is(s!.flags, 0x301, 'sampled, parent known to be remote');
    await tracer.shutdown();
    assert.is(recv.spans().length, 1, 'the unsampled span was never sent');
  } finally {
    await tracer.shutdown();
    await recv.close();
  }
});

test('sample_ratio decides new traces from their id; children follow the root', async () => {
  const recv = await OtlpReceiver.start();
  const none = createTracer(settings(recv.url, { sampleRatio: 0 }), RESOURCE, FAST);
  const half = createTracer(settings(recv.url, { sampleRatio: 0.5, queueLimit: 100_000 }), RESOURCE, { ...FAST, flushDelayMs: 60_000, maxBatch: 100_000 });
  try {
    const root = none.startSpan('root');
    const child = none.startSpan('child', { parent: root.context });
    assert.is(root.context.sampled, false);
    assert.is(child.context.sampled, false);
    assert.is(child.context.traceId, root.context.traceId, 'an unsampled trace still carries its id');
    child.end(); root.end();
    assert.equal(none.stats(), { queued: 0, exported: 0, dropped: 0, failedExports: 0 });

    let sampled = 0;
    for (let i = 0; i < 2000; i++) {
      const r = half.startSpan('r');
      const c = half.startSpan('c', { parent: r.context });
      assert.is(c.context.sampled, r.context.sampled);
      if (r.context.sampled) sampled++;
      c.end(); r.end();
    }
    // 2000 draws at p = 0.5: outside 800..1200 has probability < 1e-18.
    assert.ok(sampled > 800 && sampled < 1200, `${sampled} of 2000 sampled`);
    assert.is(half.stats().queued, sampled * 2);
  } finally {
    await none.shutdown();
    await half.shutdown();
    await recv.close();
  }
  assert.is(recv.spans().length, half.stats().exported);
});

test('tracing off: the no-op tracer, no timer, no socket, nothing sent; metrics and health say off', async () => {
  const recv = await OtlpReceiver.start();
  const before = process.getActiveResourcesInfo().length;
  const tracer = createTracer(settings(recv.url, { enabled: false }), RESOURCE, FAST);
  assert.is(tracer.enabled, false);
  const span = tracer.startSpan('x', { attributes: { a: 1 } });
  assert.is(span, NOOP_TRACER.startSpan('y'), 'the one shared no-op span');
  for (let i = 0; i < 100; i++) tracer.startSpan('x').end();
  assert.is(process.getActiveResourcesInfo().length, before, 'no timer or handle was created');
  await new Promise((r) => setTimeout(r, 200));
  assert.is(recv.posts.length, 0);
  assert.equal(tracer.stats(), { queued: 0, exported: 0, dropped: 0, failedExports: 0 });
  assert.equal(tracer.health(), { state: 'disabled', reason: 'tracing.enabled is off' });
  const text = renderTracingMetrics('r1', false, tracer.stats());
  assert.match(text, /^x0tta6bl4_tracing_enabled\{node="r1"\} 0$/m);
  assert.match(text, /^x0tta6bl4_tracing_spans_exported_total\{node="r1"\} 0$/m);
  await tracer.shutdown();
  await recv.close();
});

test('metrics carry the exporter counters', () => {
  const text = renderTracingMetrics('r"1', true, { queued: 3, exported: 40, dropped: 5, failedExports: 2 });
  assert.match(text, /^# TYPE x0tta6bl4_tracing_spans_exported_total counter$/m);
  assert.match(text, /^x0tta6bl4_tracing_spans_exported_total\{node="r\\"1"\} 40$/m);
  assert.match(text, /^x0tta6bl4_tracing_spans_dropped_total\{node="r\\"1"\} 5$/m);
  assert.match(text, /^# TYPE x0tta6bl4_tracing_spans_queued gauge$/m);
  assert.match(text, /^x0tta6bl4_tracing_spans_queued\{node="r\\"1"\} 3$/m);
  assert.match(text, /^x0tta6bl4_tracing_export_failures_total\{node="r\\"1"\} 2$/m);
});

test('limits: attributes, events and links beyond the caps are counted as dropped; long strings cut', async () => {
  const recv = await OtlpReceiver.start();
  const tracer = createTracer(settings(recv.url), RESOURCE, FAST);
  try {
    const s = tracer.startSpan('big');
    for (let i = 0; i < 70; i++) s.setAttribute(`k${i}`, i);
    s.setAttribute('k0', 'replaced, not dropped');
    for (let i = 0; i < 70; i++) s.addEvent(`e${i}`);
    for (let i = 0; i < 40; i++) s.addLink({ traceId: 'a'.repeat(32), spanId: (i + 1).toString(16).padStart(16, '0'), sampled: true });
    s.addLink({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), sampled: false }); // the no-op context: ignored
    s.setAttribute('note', 'ü'.repeat(5000));
    s.end();
    s.setAttribute('after', 'end'); // ignored
    s.end(); // a second end is ignored
    await recv.waitForPosts(1);
    const [d] = recv.spans();
    assert.is(d!.attributes.length, 64);
    assert.is(d!.droppedAttributesCount, 6 + 1);
    assert.is(attrs(d!.attributes).k0, 'replaced, not dropped');
    assert.is(d!.events.length, 64);
    assert.is(d!.droppedEventsCount, 6);
    assert.is(d!.links.length, 32);
    assert.is(d!.droppedLinksCount, 8);
    await new Promise((r) => setTimeout(r, 100));
    assert.is(recv.spans().length, 1, 'one span, sent once');
  } finally {
    await tracer.shutdown();
    await recv.close();
  }
});

test('shutdown sends what is queued at once', async () => {
  const recv = await OtlpReceiver.start();
  const tracer = createTracer(settings(recv.url), RESOURCE, { ...FAST, flushDelayMs: 60_000 });
  for (let i = 0; i < 5; i++) tracer.startSpan(`s${i}`).end();
  assert.is(tracer.stats().queued, 5);
  await tracer.shutdown();
  assert.is(recv.spans().length, 5);
  assert.equal(tracer.stats(), { queued: 0, exported: 5, dropped: 0, failedExports: 0 });
  tracer.startSpan('late').end();
  assert.is(tracer.stats().dropped, 1, 'a span ended after shutdown is dropped, and counted');
  await recv.close();
});

test.run();
