// The spans of a real healing cycle on the simulator, as an OTLP receiver on 127.0.0.1 decodes
// them with the official definitions: a dead link is found, acted on, verified and kept, all in
// one trace; a healthy mesh sends nothing; with tracing off nothing is exported at all.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCore } from '../../src/core/index.ts';
import { createTracer, type TracerTuning } from '../../src/tracing/tracer.ts';
import { SERVICE_NAME } from '../../src/agent/create-agent.ts';
import { simAgent } from '../mapek/sim-agent.ts';
import { OtlpReceiver, attrs, type DecodedSpan } from './otlp-receiver.ts';

const core = await loadCore();
const FAST: TracerTuning = { flushDelayMs: 20, firstRetryDelayMs: 50, maxRetryDelayMs: 200, timeoutMs: 5000 };

const childrenOf = (spans: DecodedSpan[], parent: DecodedSpan) => spans.filter((s) => s.traceId === parent.traceId && s.parentSpanId === parent.spanId);
const one = (spans: DecodedSpan[], name: string, what = name) => {
  const found = spans.filter((s) => s.name === name);
  assert.is(found.length, 1, `one ${what} among ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
};

test('a dead link on the simulator: one trace from monitor to keep, and a healthy mesh sends nothing', async () => {
  const recv = await OtlpReceiver.start();
  const tracer = createTracer({ enabled: true, endpoint: recv.url, headers: {}, sampleRatio: 1, queueLimit: 1000 }, { serviceName: SERVICE_NAME, serviceVersion: 'test', hostName: 'n1' }, FAST);
  const s = await simAgent({ score: core.scoreRoutes, tracer });
  try {
    await s.run(10_000);
    assert.equal(s.journal(), [], 'a healthy mesh: no action');
    assert.equal(tracer.stats(), { queued: 0, exported: 0, dropped: 0, failedExports: 0 }, 'quiet polls make no span');

    s.world.killLink(0, 1);
    await s.run(4000);
    const restart = s.journal().find((e) => e.action === 'restart-interface');
    assert.ok(restart, JSON.stringify(s.journal()));
    assert.match(restart.trace ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'the journal entry keeps its trace');
    await s.run(12_000);
    assert.is(restart.state, 'kept', restart.outcome ?? '');
  } finally {
    await s.agent.stop(); // flushes the tracer
    await recv.close();
  }

  const spans = recv.spans();
  assert.is(recv.posts.every((p) => p.decodeError === null), true);
  const res = attrs(recv.posts[0]!.request!.resourceSpans[0]!.resource.attributes);
  assert.is(res['service.name'], SERVICE_NAME);
  assert.is(res['host.name'], 'n1');

  // The trace of the restart: cycle → monitor, analyze (finding events), plan, execute → verify → keep.
  const execute = spans.find((x) => x.name === 'mapek.execute' && attrs(x.attributes)['x0tta6bl4.action'] === 'restart-interface');
  assert.ok(execute, `an execute span for restart-interface among ${spans.map((x) => x.name).join(', ')}`);
  const trace = spans.filter((x) => x.traceId === execute.traceId);
  const cycle = one(trace, 'mapek.cycle');
  assert.is(cycle.parentSpanId, '', 'the cycle is the root');
  assert.is(execute.parentSpanId, cycle.spanId);
  assert.equal([...new Set(childrenOf(trace, cycle).map((x) => x.name))].sort(), ['mapek.analyze', 'mapek.execute', 'mapek.monitor', 'mapek.plan']);
  const monitor = one(trace, 'mapek.monitor');
  const analyze = one(trace, 'mapek.analyze');
  const plan = one(trace, 'mapek.plan');
  // Back-dated: the monitor span starts with the poll, before analysis, and the cycle with it.
  assert.is(monitor.startTimeUnixNano, cycle.startTimeUnixNano);
  assert.ok(BigInt(monitor.endTimeUnixNano) <= BigInt(analyze.startTimeUnixNano), 'monitor ends where analyze starts');
  assert.ok(BigInt(analyze.endTimeUnixNano) <= BigInt(plan.startTimeUnixNano), 'analyze before plan');
  assert.ok(BigInt(plan.endTimeUnixNano) <= BigInt(execute.startTimeUnixNano), 'plan before execute');
  const dead = analyze.events.map((e) => attrs(e.attributes)).find((a) => a['x0tta6bl4.rule'] === 'link-dead');
  assert.ok(dead, `a link-dead finding event: ${JSON.stringify(analyze.events.map((e) => attrs(e.attributes)))}`);
  assert.is(dead['network.interface.name'], 'mesh0');
  assert.match(String(dead['x0tta6bl4.link']), /^mesh0\//);
  assert.ok(plan.events.some((e) => attrs(e.attributes)['x0tta6bl4.action'] === 'restart-interface' && attrs(e.attributes)['x0tta6bl4.step.status'] === 'go'));
  const ex = attrs(execute.attributes);
  assert.is(ex['x0tta6bl4.link'], 'mesh0');
  assert.is(ex['x0tta6bl4.rule'], 'link-dead');
  assert.is(ex['x0tta6bl4.state'], 'verifying');
  assert.ok(execute.events.some((e) => e.name === 'applied'));

  // Verify came in a later poll and still joined the trace, under the execute span.
  const verify = trace.find((x) => x.name === 'mapek.verify' && x.parentSpanId === execute.spanId);
  assert.ok(verify, 'verify under execute');
  assert.ok(BigInt(verify.startTimeUnixNano) > BigInt(cycle.endTimeUnixNano), 'verify happened after the cycle ended');
  assert.is(attrs(verify.attributes)['x0tta6bl4.verdict'], 'helped');
  const keep = childrenOf(trace, verify);
  assert.equal(keep.map((x) => x.name), ['mapek.keep']);
  assert.is(attrs(keep[0]!.attributes)['x0tta6bl4.state'], 'kept');

  // A finding that persists with nothing to do is not traced again every poll.
  const cycles = spans.filter((x) => x.name === 'mapek.cycle').length;
  assert.ok(cycles <= 4, `${cycles} traced cycles for one fault over 16 polls`);
});

test('a forced action that makes things worse: execute → verify → rollback in its own trace', async () => {
  const recv = await OtlpReceiver.start();
  const tracer = createTracer({ enabled: true, endpoint: recv.url, headers: {}, sampleRatio: 1, queueLimit: 1000 }, { serviceName: SERVICE_NAME, serviceVersion: 'test', hostName: 'n1' }, FAST);
  const s = await simAgent({ score: core.scoreRoutes, tracer });
  let trace: string | undefined;
  try {
    await s.run(3000);
    s.world.killLink(0, 1);
    await s.run(20_000); // the agent reroutes over n3 (mesh1)
    const e = await s.agent.healer!.force('steer-interface', { ifname: 'mesh1' }, 'test: steer off the only good path');
    await s.run(11_000);
    assert.is(e.state, 'rolled-back', `${e.state}: ${e.outcome}`);
    trace = e.trace;
  } finally {
    await s.agent.stop();
    await recv.close();
  }
  const [, traceId, executeId] = (trace ?? '').split('-');
  const spans = recv.spans().filter((x) => x.traceId === traceId);
  const execute = one(spans, 'mapek.execute');
  assert.is(execute.spanId, executeId);
  assert.is(execute.parentSpanId, '', 'forced without a command: a trace of its own');
  assert.is(attrs(execute.attributes)['x0tta6bl4.action'], 'steer-interface');
  const verify = one(spans, 'mapek.verify');
  assert.is(verify.parentSpanId, execute.spanId);
  assert.is(attrs(verify.attributes)['x0tta6bl4.verdict'], 'worse');
  const rollback = one(spans, 'mapek.rollback');
  assert.is(rollback.parentSpanId, verify.spanId);
  assert.is(attrs(rollback.attributes)['x0tta6bl4.state'], 'rolled-back');
  assert.is(rollback.status?.code ?? 0, 0, 'a rollback done is no error (an undo that failed would be)');
});

test('tracing off: nothing exported, even with an endpoint set and a fault to heal', async () => {
  const recv = await OtlpReceiver.start();
  const s = await simAgent({
    score: core.scoreRoutes,
    configure: (c) => {
      c.tracing.enabled = false;
      c.tracing.endpoint = recv.url;
    },
  });
  try {
    s.world.killLink(0, 1);
    await s.run(16_000);
    assert.ok(s.journal().some((e) => e.action === 'restart-interface'), 'it healed');
    assert.ok(s.journal().every((e) => e.trace === undefined), 'no trace kept in the journal');
    assert.match(s.agent.metrics(), /x0tta6bl4_tracing_enabled\{node="n1"\} 0/);
    assert.is(s.agent.health().components.find((c) => c.name === 'tracing')?.state, 'disabled');
  } finally {
    await s.agent.stop();
  }
  await new Promise((r) => setTimeout(r, 200));
  await recv.close();
  assert.is(recv.posts.length, 0);
});

test.run();
