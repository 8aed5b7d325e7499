// Trace context inside the signatures: the MQTT command envelope (JSON, signed canonical bytes)
// and the federation envelope (binary, version 2). Signed with the rest, so it cannot be changed
// in transit; absent, the bytes are what they were before tracing (old senders still accepted);
// B3 accepted on input. The command's spans go to a real OTLP receiver. Certificates come from the
// openssl CLI, as in test/telemetry/command-check.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { FleetCa } from '../../src/federation/fleet-ca.ts';
import { decodeEnvelope, encodeEnvelope, EnvelopeError, verifyEnvelope } from '../../src/federation/envelope.ts';
import { signerFor } from '../../src/federation/ed25519.ts';
import { checkCommand, type CommandCheckOptions } from '../../src/telemetry/command-check.ts';
import { CommandRejected, parseEnvelope, signCommand, signedBytes } from '../../src/telemetry/command-envelope.ts';
import { CommandTrace } from '../../src/telemetry/command-trace.ts';
import { NonceCache } from '../../src/telemetry/nonce-cache.ts';
import { createTracer } from '../../src/tracing/tracer.ts';
import { extractContext } from '../../src/tracing/propagation.ts';
import { TestPki } from '../telemetry/pki.ts';
import { OtlpReceiver, attrs } from './otlp-receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-trace-env-'));
const pki = new TestPki(dir);
const root = pki.issue('fleet-root', { ca: true });
const alice = pki.issue('ops-alice', { issuer: root, keyType: 'ed25519', san: 'URI:spiffe://f1.x0tta6bl4/operator/alice' });
const opts = (): CommandCheckOptions => ({ fleet: 'f1', node: 'n1', trust: FleetCa.fromPem(root.certPem), trustDomain: 'f1.x0tta6bl4', maxSkewMs: 300_000, notBeforeMs: Date.now() - 60_000, nonces: new NonceCache(), now: Date.now() });
const sign = (trace?: Record<string, string>) => signCommand({ fleet: 'f1', node: 'n1', cmd: 'status', key: alice.keyPem, cert: alice.certPem, ...(trace ? { trace } : {}) });
const enc = (e: unknown) => Buffer.from(JSON.stringify(e));
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('command envelope: the traceparent is signed; changing it breaks the signature', () => {
  const env = sign({ traceparent: TP, tracestate: 'ops=1' });
  const ok = checkCommand(enc(env), 'status', opts());
  assert.equal(ok.envelope.trace, { traceparent: TP, tracestate: 'ops=1' });
  const forged = { ...env, trace: { traceparent: TP.replace('4bf9', '0000'), tracestate: 'ops=1' } };
  assert.throws(() => checkCommand(enc(forged), 'status', opts()), (e: unknown) => e instanceof CommandRejected && e.code === 'bad-signature');
  const stripped: Record<string, unknown> = { ...env };
  delete stripped.trace;
  assert.throws(() => checkCommand(enc(stripped), 'status', opts()), (e: unknown) => e instanceof CommandRejected && e.code === 'bad-signature', 'removing it breaks it too');
});

test('command envelope: without trace the signed bytes are those of before tracing (old senders accepted)', () => {
  const env = sign();
  assert.is(env.trace, undefined);
  const legacy = Buffer.from('x0tta6bl4-command-v1\n' + JSON.stringify([env.v, env.fleet, env.node, env.cmd, env.args, env.ts, env.nonce]), 'utf8');
  assert.ok(signedBytes(env).equals(legacy));
  assert.is(checkCommand(enc(env), 'status', opts()).name, 'status');
});

test('command envelope: B3 accepted (single and multi header), key case folded before signing; junk refused', () => {
  const single = checkCommand(enc(sign({ b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' })), 'status', opts());
  assert.is(extractContext(single.envelope.trace!)?.traceId, '80f198ee56343ba864fe8b2a57d3eff7');
  const multi = checkCommand(enc(sign({ 'X-B3-TraceId': '463ac35c9f6413ad48485a3953bb6124', 'X-B3-SpanId': 'a2fb4a1d1a96d312', 'X-B3-Sampled': '1' })), 'status', opts());
  assert.equal(Object.keys(multi.envelope.trace!).sort(), ['x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']);
  assert.is(extractContext(multi.envelope.trace!)?.spanId, 'a2fb4a1d1a96d312');
  for (const bad of [{ cookie: 'x' }, { traceparent: 'a\nb' }, { traceparent: 'x'.repeat(600) }] as Record<string, string>[])
    assert.throws(() => sign(bad), (e: unknown) => e instanceof CommandRejected && e.code === 'malformed', JSON.stringify(bad).slice(0, 40));
  const env = sign({ traceparent: TP });
  assert.throws(() => parseEnvelope(enc({ ...env, trace: [TP] })), (e: unknown) => e instanceof CommandRejected && e.code === 'malformed');
});

test('command spans: received, checked, executed, replied under the operator span (B3 in); refusals before the signature untraced', async () => {
  const recv = await OtlpReceiver.start();
  const tracer = createTracer({ enabled: true, endpoint: recv.url, headers: {}, sampleRatio: 1, queueLimit: 100 }, { serviceName: 's', serviceVersion: 't', hostName: 'n1' }, { flushDelayMs: 10 });
  try {
    const raw = enc(sign({ b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' }));
    const t = CommandTrace.begin(tracer, 'status')!;
    const accepted = checkCommand(raw, 'status', opts());
    const ctx = t.accepted(accepted.envelope, accepted.signer);
    assert.is(ctx.traceId, '80f198ee56343ba864fe8b2a57d3eff7');
    t.executed(true);
    t.replied(true);
    // Unsigned junk: no span at all.
    const junk = CommandTrace.begin(tracer, 'status')!;
    const forged = { ...JSON.parse(raw.toString()), sig: 'AAAA' };
    try {
      checkCommand(enc(forged), 'status', opts());
    } catch (e) {
      junk.rejected(enc(forged), e as CommandRejected);
      junk.replied(false, (e as CommandRejected).code);
    }
    await tracer.shutdown();
    const spans = recv.spans();
    assert.equal(spans.map((s) => s.name).sort(), ['command status', 'command.check', 'command.execute', 'command.receive', 'command.reply']);
    const root = spans.find((s) => s.name === 'command status')!;
    assert.is(root.traceId, '80f198ee56343ba864fe8b2a57d3eff7');
    assert.is(root.parentSpanId, 'e457b5a2e4d86bd1');
    assert.is(attrs(root.attributes)['messaging.system'], 'mqtt');
    assert.ok(spans.filter((s) => s !== root).every((s) => s.parentSpanId === root.spanId));
  } finally {
    await recv.close();
  }
  assert.is(CommandTrace.begin(createTracer({ enabled: false, endpoint: '', headers: {}, sampleRatio: 1, queueLimit: 16 }, { serviceName: 's', serviceVersion: 't', hostName: 'n1' }), 'status'), null, 'off: nothing made');
});

const key = (await generateKeyPair('Ed25519')) as unknown as PrivateKey;
const signer = signerFor(key);
const msg = { seq: 5n, round: 3, timestamp: 1_700_000_000_123, topic: 'learning/update', payload: Buffer.from('weights') };

test('federation envelope: version 2 carries the trace context inside the signature; version 1 unchanged without it', () => {
  const v1 = encodeEnvelope('lab', signer, msg);
  assert.is(v1[2], 1, 'no trace: version 1, as before');
  assert.is(decodeEnvelope(v1, 1 << 20).trace, undefined);
  const v2 = encodeEnvelope('lab', signer, { ...msg, trace: { traceparent: TP, tracestate: 'a=1' } });
  assert.is(v2[2], 2);
  const e = decodeEnvelope(v2, 1 << 20);
  assert.equal(e.trace, { traceparent: TP, tracestate: 'a=1' });
  assert.is(Buffer.from(e.payload).toString(), 'weights');
  assert.is(e.topic, msg.topic);
  assert.ok(verifyEnvelope('lab', e));
  // One flipped byte in the trace context: the signature no longer verifies.
  // header 56 bytes, topic 15, trace length 1: the traceparent starts at byte 72.
  const at = 56 + msg.topic.length + 1;
  assert.is(Buffer.from(v2.subarray(at, at + 55)).toString(), TP);
  const tampered = Uint8Array.from(v2);
  tampered[at + 3] = 0x35;
  assert.not.ok(verifyEnvelope('lab', decodeEnvelope(tampered, 1 << 20)));
  // Truncated or non-ASCII trace contexts are refused before any signature work.
  const bad = Uint8Array.from(v2);
  bad[at + 55] = 0x00; // the "\n" before the tracestate
  assert.throws(() => decodeEnvelope(bad, 1 << 20), (x: unknown) => x instanceof EnvelopeError);
  assert.throws(() => encodeEnvelope('lab', signer, { ...msg, trace: { traceparent: 'é' } }), (x: unknown) => x instanceof EnvelopeError);
});

test.run();
