// OTLP over https to a receiver on 127.0.0.1 whose certificate comes from a scratch CA made with
// openssl: trusted through tracing.ca_file, refused with another CA, with the system's CAs, or
// with a ca_file that is not a certificate (verification cannot be turned off).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTracer, type TracerTuning, type TracingSettings } from '../../src/tracing/tracer.ts';
import { TestPki } from '../telemetry/pki.ts';
import { OtlpReceiver, until } from './otlp-receiver.ts';

const RESOURCE = { serviceName: 'x0tta6bl4', serviceVersion: '0.0.1', hostName: 'router-c' };
const FAST: TracerTuning = { flushDelayMs: 20, firstRetryDelayMs: 50, maxRetryDelayMs: 100, timeoutMs: 5000, maxAttempts: 1 };

const dir = mkdtempSync(join(tmpdir(), 'x0-tracing-tls-'));
const pki = new TestPki(dir);
const ca = pki.issue('collector-ca', { ca: true });
const server = pki.issue('collector', { issuer: ca, san: 'IP:127.0.0.1', extKeyUsage: 'serverAuth' });
const otherCa = pki.issue('other-ca', { ca: true });
// Signed by the right CA, but for another address: the name check must refuse it.
const wrongName = pki.issue('collector-elsewhere', { issuer: ca, san: 'IP:127.0.0.2,DNS:collector.example', extKeyUsage: 'serverAuth' });
const notPem = join(dir, 'not-a-cert.pem');
writeFileSync(notPem, 'hello\n');

const settings = (endpoint: string, caFile?: string): TracingSettings =>
  ({ enabled: true, endpoint, headers: { Authorization: 'Bearer secret' }, sampleRatio: 1, queueLimit: 100, ...(caFile ? { caFile } : {}) });

test('the scratch CA in ca_file: the collector is verified and gets the spans', async () => {
  const recv = await OtlpReceiver.start({ key: server.keyPem, cert: server.certPem });
  const tracer = createTracer(settings(`${recv.url}/v1/traces`, ca.certFile), RESOURCE, FAST);
  try {
    tracer.startSpan('over-tls').end();
    await until(() => tracer.stats().exported === 1, 'the span to be exported over TLS');
    assert.is(recv.spans()[0]!.name, 'over-tls');
    assert.is(recv.posts[0]!.headers.authorization, 'Bearer secret');
  } finally {
    await tracer.shutdown();
    await recv.close();
  }
});

test('the right CA but a certificate for another host: refused', async () => {
  const recv = await OtlpReceiver.start({ key: wrongName.keyPem, cert: wrongName.certPem });
  const tracer = createTracer(settings(recv.url, ca.certFile), RESOURCE, FAST);
  try {
    tracer.startSpan('misnamed').end();
    await until(() => tracer.stats().dropped === 1, 'the span to be dropped');
    assert.is(recv.posts.length, 0);
    assert.match(tracer.health().reason, /altnames|ERR_TLS_CERT_ALTNAME_INVALID/i);
  } finally {
    await tracer.shutdown();
    await recv.close();
  }
});

for (const [what, caFile, reason] of [
  ['another CA', otherCa.certFile, /certificate|self.signed|verify/i],
  ['no ca_file (the system CAs)', undefined, /certificate|self.signed|verify/i],
  ['a ca_file that is not PEM', notPem, /no PEM certificate/],
  ['a ca_file that does not exist', join(dir, 'missing.pem'), /no such file/],
] as const) {
  test(`${what}: refused, nothing delivered, the failure counted and explained`, async () => {
    const recv = await OtlpReceiver.start({ key: server.keyPem, cert: server.certPem });
    const tracer = createTracer(settings(recv.url, caFile), RESOURCE, FAST);
    try {
      tracer.startSpan('refused').end();
      await until(() => tracer.stats().dropped === 1, 'the span to be dropped');
      assert.is(recv.posts.length, 0, 'no request reached the collector (and no header with the token)');
      assert.is(tracer.stats().failedExports, 1);
      assert.match(tracer.health().reason, reason);
    } finally {
      await tracer.shutdown();
      await recv.close();
    }
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
