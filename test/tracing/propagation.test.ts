// Context in and out of carriers: W3C traceparent/tracestate, B3 single and multi, and the
// malformed input another router or the broker may send (undefined, never a throw).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { extractContext, injectContext, isValidSpanContext } from '../../src/tracing/propagation.ts';
import { NOOP_TRACER } from '../../src/tracing/api.ts';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

test('inject writes version 00 traceparent with the sampled flag, and tracestate when present', () => {
  assert.equal(injectContext({ traceId: T, spanId: S, sampled: true }), { traceparent: `00-${T}-${S}-01` });
  assert.equal(injectContext({ traceId: T, spanId: S, sampled: false, traceState: 'rojo=00f067aa0ba902b7' }), {
    traceparent: `00-${T}-${S}-00`,
    tracestate: 'rojo=00f067aa0ba902b7',
  });
});

test('inject then extract round-trips, marked remote', () => {
  for (const sampled of [true, false]) {
    const ctx = { traceId: T, spanId: S, sampled, traceState: 'a=1,b@x=2' };
    assert.equal(extractContext(injectContext(ctx)), { ...ctx, remote: true });
  }
});

test('W3C: keys case-insensitive, flags other than bit 0 ignored, tracestate split over headers joined', () => {
  assert.equal(extractContext({ TraceParent: `00-${T}-${S}-03` }), { traceId: T, spanId: S, sampled: true, remote: true });
  assert.equal(extractContext({ traceparent: `00-${T}-${S}-02` })?.sampled, false);
  assert.is(extractContext({ traceparent: [`00-${T}-${S}-01`], tracestate: ['a=1', 'b=2'] })?.traceState, 'a=1,b=2');
  // A future version may append fields; version 00 may not.
  assert.is(extractContext({ traceparent: `01-${T}-${S}-01-extra` })?.traceId, T);
  assert.is(extractContext({ traceparent: `00-${T}-${S}-01-extra` }), undefined);
});

test('W3C: malformed traceparent is refused', () => {
  const bad = [
    '', 'garbage', `00-${T}-${S}`, `00-${T.toUpperCase()}-${S}-01`, `ff-${T}-${S}-01`,
    `00-${'0'.repeat(32)}-${S}-01`, `00-${T}-${'0'.repeat(16)}-01`, `00-${T}a-${S}-01`, `00-${T}-${S}-1`,
    `0-${T}-${S}-01`, `00_${T}_${S}_01`, `00-${T}-${S}-0g`,
  ];
  for (const tp of bad) assert.is(extractContext({ traceparent: tp }), undefined, tp);
  assert.is(extractContext({ traceparent: 42 }), undefined);
  assert.is(extractContext({ traceparent: [`00-${T}-${S}-01`, `00-${T}-${S}-00`] }), undefined);
});

test('W3C: a bad tracestate is dropped, the traceparent still counts', () => {
  for (const ts of ['UPPER=1', 'no-equals', 'a=1,'.repeat(40), 'x'.repeat(600), 'a=\x01']) {
    const ctx = extractContext({ traceparent: `00-${T}-${S}-01`, tracestate: ts });
    assert.is(ctx?.traceId, T, ts);
    assert.is(ctx?.traceState, undefined, ts);
  }
});

test('B3 single: 128- and 64-bit ids, sampling states, parent id', () => {
  assert.equal(extractContext({ b3: `${T}-${S}-1` }), { traceId: T, spanId: S, sampled: true, remote: true });
  assert.equal(extractContext({ B3: `${T}-${S}-d-${S}` })?.sampled, true);
  assert.equal(extractContext({ b3: `${T}-${S}-0` })?.sampled, false);
  assert.equal(extractContext({ b3: `${T}-${S}` })?.sampled, false, 'deferred counts as not sampled');
  assert.is(extractContext({ b3: `a3ce929d0e0e4736-${S}-1` })?.traceId, '0000000000000000a3ce929d0e0e4736');
  assert.is(extractContext({ b3: `${T.toUpperCase()}-${S}-1` })?.traceId, T);
});

test('B3 single: malformed is refused', () => {
  for (const b3 of ['0', '1', 'd', `${T}`, `${T}-${S}-x`, `${T}-${S}-1-zz`, `${T}-${S}-1-${S}-9`, `abc-${S}-1`, `${T}-abc-1`, `${T}-${S}-true`, `${'0'.repeat(32)}-${S}-1`]) {
    assert.is(extractContext({ b3 }), undefined, b3);
  }
});

test('B3 multi: ids, X-B3-Sampled, X-B3-Flags debug, any key case', () => {
  assert.equal(extractContext({ 'X-B3-TraceId': T, 'X-B3-SpanId': S, 'X-B3-Sampled': '1' }), { traceId: T, spanId: S, sampled: true, remote: true });
  assert.is(extractContext({ 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': 'true' })?.sampled, true);
  assert.is(extractContext({ 'X-B3-TRACEID': T, 'X-B3-SPANID': S, 'X-B3-SAMPLED': '0' })?.sampled, false);
  assert.is(extractContext({ 'X-B3-TraceId': T, 'X-B3-SpanId': S, 'X-B3-Flags': '1' })?.sampled, true);
  assert.is(extractContext({ 'X-B3-TraceId': T, 'X-B3-SpanId': S })?.sampled, false);
  assert.is(extractContext({ 'X-B3-TraceId': T, 'X-B3-SpanId': S, 'X-B3-Sampled': 'maybe' }), undefined);
  assert.is(extractContext({ 'X-B3-TraceId': T }), undefined);
  assert.is(extractContext({ 'X-B3-TraceId': 'zz', 'X-B3-SpanId': S }), undefined);
});

test('W3C wins over B3; a malformed W3C header falls back to B3', () => {
  const other = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  assert.is(extractContext({ traceparent: `00-${T}-${S}-01`, b3: `${other}-${S}-1` })?.traceId, T);
  assert.is(extractContext({ traceparent: 'bad', b3: `${other}-${S}-1` })?.traceId, other);
  assert.is(extractContext({ b3: 'bad', 'X-B3-TraceId': other, 'X-B3-SpanId': S })?.traceId, other);
});

test('absent or hostile carriers yield undefined, never a throw', () => {
  assert.is(extractContext({}), undefined);
  assert.is(extractContext(null as unknown as Record<string, unknown>), undefined);
  assert.is(extractContext('traceparent' as unknown as Record<string, unknown>), undefined);
  const throwing = new Proxy({}, { ownKeys() { throw new Error('boom'); } });
  assert.is(extractContext(throwing), undefined);
  const getter = Object.defineProperty({}, 'traceparent', { enumerable: true, get() { throw new Error('boom'); } });
  assert.is(extractContext(getter), undefined);
});

test('NOOP_TRACER: disabled, one shared span, invalid all-zero context that is never propagated as valid', () => {
  assert.is(NOOP_TRACER.enabled, false);
  const a = NOOP_TRACER.startSpan('a');
  const b = NOOP_TRACER.startSpan('b', { parent: { traceId: T, spanId: S, sampled: true } });
  assert.is(a, b);
  a.setAttribute('k', 1); a.addEvent('e'); a.addLink(a.context); a.setStatus('error', 'x'); a.end();
  assert.is(isValidSpanContext(a.context), false);
  assert.is(extractContext(injectContext(a.context)), undefined);
  assert.is(isValidSpanContext({ traceId: T, spanId: S, sampled: false }), true);
});

test.run();
