// The exporter over TLS like the agent: a mosquitto that requires client certificates from the
// fleet CA; the exporter with the CA and its own certificate sees a node, one with the wrong CA
// never connects (counted, retried) and says why. Certificates from openssl in a temp dir.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetExporter } from '../../src/fleet-exporter/exporter.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { TestPki } from '../telemetry/pki.ts';
import { exitIfStuck, Subscriber, until } from '../telemetry/subscriber.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-fleet-tls-'));
const pki = new TestPki(dir);
const ca = pki.issue('fleet-ca', { ca: true });
const stranger = pki.issue('stranger-ca', { ca: true });
const brokerCert = pki.issue('broker', { issuer: ca, san: 'DNS:localhost,IP:127.0.0.1', extKeyUsage: 'serverAuth' });
const nodeCert = pki.issue('node-n1', { issuer: ca, extKeyUsage: 'clientAuth' });
const opsCert = pki.issue('ops', { issuer: ca, extKeyUsage: 'clientAuth' });
let broker: Mosquitto;
const exporters: FleetExporter[] = [];
const limits = { maxLinks: 32, staleS: 300, ttlS: 3600, maxNodes: 100 };

test.before(async () => {
  broker = await Mosquitto.start({ tls: { caFile: ca.certFile, certFile: brokerCert.certFile, keyFile: brokerCert.keyFile, requireCertificate: true } });
});
test.after(async () => {
  await Promise.all(exporters.map((e) => e.stop()));
  await broker?.stop();
  exitIfStuck('test/fleet-exporter/tls.test.ts');
});

function exporter(caFile: string): FleetExporter {
  const e = new FleetExporter({ connect: { broker: broker.url, caFile, certFile: opsCert.certFile, keyFile: opsCert.keyFile }, fleet: 'lab', host: '127.0.0.1', port: 0, limits, log: () => {}, backoff: { minMs: 100, maxMs: 300 } });
  exporters.push(e);
  return e;
}

test('with the fleet CA and a client certificate it connects and sees the node', async () => {
  const e = exporter(ca.certFile);
  const url = await e.start();
  const node = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/n1/state'], { ca: readFileSync(ca.certFile), cert: readFileSync(nodeCert.certFile), key: readFileSync(nodeCert.keyFile), rejectUnauthorized: true });
  try {
    await until(() => e.stats.connected, 'the exporter to connect over TLS');
    await node.client.publishAsync('x0tta6bl4/lab/n1/state', JSON.stringify({ v: 1, fleet: 'lab', node: 'n1', state: 'online', reason: 'connected', since: new Date().toISOString(), boot: 'b', version: '1' }), { qos: 1, retain: true });
    await until(() => e.model.nodes.has('lab/n1'), 'n1 in the model');
    assert.match(await (await fetch(url)).text(), /^x0tta6bl4_node_online\{fleet="lab",node="n1"\} 1$/m);
  } finally {
    await node.close();
  }
});

test('with the wrong CA it does not connect: counted, retried, and the reason kept', async () => {
  const e = exporter(stranger.certFile);
  await e.start();
  await until(() => e.stats.connectFailures >= 2, 'two failed attempts');
  assert.not.ok(e.stats.connected);
  assert.match(e.stats.lastError ?? '', /certificate/i);
});

test('a CA file that disappears while retrying is said and retried, never a crash', async () => {
  const caCopy = join(dir, 'ca-that-goes.pem');
  copyFileSync(stranger.certFile, caCopy);
  const e = exporter(caCopy);
  await e.start();
  await until(() => e.stats.connectFailures >= 1, 'a first failed attempt');
  rmSync(caCopy);
  const before = e.stats.connectFailures;
  await until(() => e.stats.connectFailures >= before + 3, 'three more attempts without the file');
  assert.match(e.stats.lastError ?? '', 'ca_file');
});

test.run();
