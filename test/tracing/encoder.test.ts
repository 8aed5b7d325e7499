// Our OTLP protobuf encoder against the official definitions: length prefixes of every size
// (1 to 3+ bytes, the body moved when the prefix grows), number types, unicode, empty fields.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeTraceRequest } from '../../src/tracing/otlp-encode.ts';
import { ProtobufWriter } from '../../src/tracing/protobuf-writer.ts';
import type { SpanData } from '../../src/tracing/span-data.ts';
import { attrs, decodeTraceRequest } from './otlp-receiver.ts';

const RES = { serviceName: 'svc', serviceVersion: '1', hostName: 'h' };
const SCOPE = { name: 'x0tta6bl4', version: '1' };

function span(i: number, more: Partial<SpanData> = {}): SpanData {
  return {
    traceId: (i + 1).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, 'a'), traceState: undefined,
    parentSpanId: undefined, parentRemote: false, name: `span-${i}`, kind: 'internal', startTimeMs: 1_700_000_000_000.5, endTimeMs: 1_700_000_000_001.25,
    attributes: {}, droppedAttributes: 0, events: [], droppedEvents: 0, links: [], droppedLinks: 0, statusCode: 0, statusMessage: '', ...more,
  };
}

const decodeSpans = (body: Uint8Array) => decodeTraceRequest(body).resourceSpans[0]!.scopeSpans[0]!.spans;

test('number, string and boolean attributes land in the right AnyValue member', () => {
  const values = {
    zero: 0, small: 7, negative: -7, bigSafe: Number.MAX_SAFE_INTEGER, minSafe: Number.MIN_SAFE_INTEGER,
    unsafe: 2 ** 60, fraction: 0.1, inf: Infinity, t: true, f: false, empty: '', unicode: 'мост 🛰️ ü',
  };
  const [d] = decodeSpans(encodeTraceRequest(RES, SCOPE, [span(0, { attributes: values })]));
  const got = d!.attributes.map((kv) => [kv.key, Object.keys(kv.value)[0]]);
  assert.equal(got, [
    ['zero', 'intValue'], ['small', 'intValue'], ['negative', 'intValue'], ['bigSafe', 'intValue'], ['minSafe', 'intValue'],
    ['unsafe', 'doubleValue'], ['fraction', 'doubleValue'], ['inf', 'doubleValue'], ['t', 'boolValue'], ['f', 'boolValue'],
    ['empty', 'stringValue'], ['unicode', 'stringValue'],
  ]);
  const a = d!.attributes;
  assert.is(a[3]!.value.intValue, String(Number.MAX_SAFE_INTEGER));
  assert.is(a[4]!.value.intValue, String(Number.MIN_SAFE_INTEGER));
  assert.equal(attrs(a), values);
});

test('times are unix nanoseconds to the microsecond', () => {
  const [d] = decodeSpans(encodeTraceRequest(RES, SCOPE, [span(0)]));
  assert.is(d!.startTimeUnixNano, '1700000000000500000');
  assert.is(d!.endTimeUnixNano, '1700000000001250000');
});

test('timestamps over the whole range: exact against a BigInt reference, microsecond rounding carried', () => {
  const ref = (ms: number) => {
    const whole = Math.floor(ms);
    return (BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1000)) * 1000n).toString();
  };
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const times = [1, 999.9996, 4095.9999, 4096, 1_048_575.5, 2 ** 32, 1_700_000_000_000.0005, 1_799_999_999_999.9999, 4_102_444_800_000.123];
  for (let i = 0; i < 300; i++) times.push(Math.floor(rand() * 4e12) + Math.floor(rand() * 1000) / 1000);
  const spans = times.map((t, i) => span(i, { startTimeMs: t, endTimeMs: t }));
  const decoded = decodeSpans(encodeTraceRequest(RES, SCOPE, spans));
  for (let i = 0; i < times.length; i++) {
    assert.is(decoded[i]!.startTimeUnixNano, ref(times[i]!), `ms ${times[i]}`);
  }
});

test('sub-messages of every size: 1-, 2- and 3-byte length prefixes, a 512-span batch', () => {
  for (const len of [0, 1, 100, 127, 128, 200, 16_383, 16_384, 70_000]) {
    const [d] = decodeSpans(encodeTraceRequest(RES, SCOPE, [span(0, { name: 'n'.repeat(len), attributes: { s: 'x'.repeat(len) } })]));
    assert.is(d!.name.length, len);
    assert.is(attrs(d!.attributes).s, 'x'.repeat(len));
  }
  const many = Array.from({ length: 512 }, (_, i) => span(i, {
    parentSpanId: 'f'.repeat(16), attributes: { i, label: `l${i}` },
    events: [{ name: 'e', timeMs: 1_700_000_000_000, attributes: { k: i }, droppedAttributes: 0 }],
  }));
  const spans = decodeSpans(encodeTraceRequest(RES, SCOPE, many));
  assert.is(spans.length, 512);
  for (let i = 0; i < 512; i++) {
    assert.is(spans[i]!.name, `span-${i}`);
    assert.is(spans[i]!.spanId, many[i]!.spanId);
    assert.equal(attrs(spans[i]!.events[0]!.attributes), { k: i });
  }
});

test('empty and default fields decode as defaults (proto3)', () => {
  const [d] = decodeSpans(encodeTraceRequest({ serviceName: '', serviceVersion: '', hostName: '' }, { name: '', version: '' }, [span(0, { name: '' })]));
  assert.is(d!.name, '');
  assert.is(d!.parentSpanId, '');
  assert.is(d!.traceState, '');
  assert.is(d!.status, null);
  const r = decodeTraceRequest(encodeTraceRequest(RES, SCOPE, []));
  assert.is(r.resourceSpans[0]!.scopeSpans[0]!.spans.length, 0);
});

test('the writer refuses unbalanced sub-messages', () => {
  assert.throws(() => new ProtobufWriter().end(), /without begin/);
  assert.throws(() => new ProtobufWriter().begin(1).finish(), /open sub-message/);
});

test.run();
