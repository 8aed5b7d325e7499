// One healing scenario on the real kernel with tracing on (QEMU, as test/vm/heal.test.ts): the
// guest (test/guest/heal-traced.guest.ts) runs a whole agent on n4 that quarantines a flapping
// n3 and releases it, and prints what the agent exported over OTLP. Here the bodies are decoded
// with the official OpenTelemetry definitions and the span tree is checked: one trace from the
// loop's cycle through execute, verify, keep and the restore after the quarantine time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diamond } from '../../scripts/vm/topology.ts';
import type { VmRun } from '../../scripts/vm/run-in-vm.ts';
import { vmSuite } from './vm-suite.ts';
import { attrs, decodeTraceRequest, type DecodedSpan } from '../tracing/otlp-receiver.ts';

let run: VmRun | undefined;

vmSuite([{ name: 'heal-traced', topology: diamond(), mesh: { algo: 'BATMAN_IV' }, scripts: [{ path: 'test/guest/heal-traced.guest.ts', timeoutMs: 200_000 }] }], {
  label: 'test/vm/heal-traced',
  timeoutMs: 8 * 60_000,
  showPrefixes: ['heal-guest'],
  afterRun: (r) => (run = r),
});

test('heal-traced: the spans of the quarantine, decoded: cycle → execute → verify → keep, and the restore', () => {
  if (!run) return; // no VM run: the suite's own tests above say why (skip, or a CI failure)
  const output = run.results.steps[0]?.scripts[0]?.output ?? '';
  const bodies = [...output.matchAll(/^heal-guest: otlp ([A-Za-z0-9+/=]+)$/gm)].map((m) => Buffer.from(m[1]!, 'base64'));
  const traceparent = /^heal-guest: trace-of-quarantine (00-[0-9a-f]{32}-[0-9a-f]{16}-01)$/m.exec(output)?.[1];
  assert.ok(bodies.length > 0 && traceparent, `no spans printed by the guest:\n${output.slice(-3000)}`);
  const requests = bodies.map((b) => decodeTraceRequest(b));
  const spans: DecodedSpan[] = requests.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
  assert.is(attrs(requests[0]!.resourceSpans[0]!.resource.attributes)['host.name'], 'n4');
  const [, traceId, executeId] = traceparent.split('-');
  const trace = spans.filter((s) => s.traceId === traceId);
  const named = (name: string, parent?: DecodedSpan) => {
    const s = trace.find((x) => x.name === name && (!parent || x.parentSpanId === parent.spanId));
    assert.ok(s, `${name}${parent ? ` under ${parent.name}` : ''} in ${trace.map((x) => x.name).join(', ')}`);
    return s;
  };
  // One cycle may act twice (the quarantine and, say, a faster OGM interval): take the quarantine's execute span.
  const execute = trace.find((x) => x.name === 'mapek.execute' && attrs(x.attributes)['x0tta6bl4.action'] === 'quarantine');
  assert.ok(execute, `a quarantine's mapek.execute in ${trace.map((x) => x.name).join(', ')}`);
  assert.is(execute.spanId, executeId, "the journal's traceparent names the execute span");
  assert.is(attrs(execute.attributes)['x0tta6bl4.action'], 'quarantine');
  assert.is(attrs(execute.attributes)['x0tta6bl4.rule'], 'neighbour-flapping');
  const cycle = trace.find((x) => x.spanId === execute.parentSpanId);
  assert.ok(cycle && cycle.name === 'mapek.cycle' && cycle.parentSpanId === '', 'the loop cycle is the root');
  for (const n of ['mapek.monitor', 'mapek.analyze', 'mapek.plan']) named(n, cycle);
  const analyze = named('mapek.analyze', cycle);
  assert.ok(analyze.events.some((e) => attrs(e.attributes)['x0tta6bl4.rule'] === 'neighbour-flapping'), 'the finding is an event');
  const verify = named('mapek.verify', execute);
  named('mapek.keep', verify);
  const restore = named('mapek.restore', execute);
  assert.is(attrs(restore.attributes)['x0tta6bl4.state'], 'restored');
  assert.ok(BigInt(restore.startTimeUnixNano) > BigInt(verify.endTimeUnixNano), 'restored after the verdict');
  console.error(`heal-traced: ${spans.length} spans in ${bodies.length} exports; the quarantine's trace: ${trace.map((x) => x.name).join(', ')}`);
});

test.run();
