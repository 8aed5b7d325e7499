// TLS against a real mosquitto configured for TLS + client-certificate auth + a password file,
// with a throwaway PKI made by openssl at test time: mutual TLS with username/password works;
// a broker certificate from an untrusted CA (including "no ca_file", which means the system
// roots: verification is on by default), a wrong password, and a missing client certificate
// each give a clear `telemetry` status, retries go on, and the agent keeps working.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import type { StatePayload } from '../../src/telemetry/payloads.ts';
import { startTelemetry, type Telemetry, type TelemetryOptions } from '../../src/telemetry/telemetry.ts';
import { EventSource, statusFixture } from './fixture.ts';
import { Mosquitto } from './mosquitto.ts';
import { TestPki, type Issued } from './pki.ts';
import { exitIfStuck, Subscriber, until } from './subscriber.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-tls-'));
const pki = new TestPki(dir);
const ca = pki.issue('fleet-ca', { ca: true });
const stranger = pki.issue('stranger-ca', { ca: true });
const brokerCert = pki.issue('broker', { issuer: ca, san: 'DNS:localhost,IP:127.0.0.1', extKeyUsage: 'serverAuth' });
const nodeCert = pki.issue('node-n1', { issuer: ca, extKeyUsage: 'clientAuth' });
const opsCert = pki.issue('ops', { issuer: ca, extKeyUsage: 'clientAuth' });
const strangerClient = pki.issue('intruder', { issuer: stranger, extKeyUsage: 'clientAuth' });
const USERS = { n1: 'correct horse', ops: 'ops secret' };
let broker: Mosquitto;
const logs: string[] = [];

test.before(async () => {
  broker = await Mosquitto.start({
    tls: { caFile: ca.certFile, certFile: brokerCert.certFile, keyFile: brokerCert.keyFile, requireCertificate: true },
    users: USERS,
  });
});
test.after(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
  if (process.env.X0_VERBOSE) console.log(logs.join('\n'));
  exitIfStuck('tls.test.ts');
});

function agent(health: HealthBoard, events: EventSource, over: Partial<TelemetryOptions>): Telemetry {
  return startTelemetry({
    node: 'n1',
    fleet: 'lab',
    broker: broker.url,
    intervalS: 1,
    reconnectMinS: 0.2,
    reconnectMaxS: 1,
    source: { status: () => statusFixture('n1', 'lab', health) },
    subscribeEvents: events.subscribe,
    health,
    log: createLogger('info', (l) => logs.push(l)),
    ...over,
  });
}

const good = (client: Issued = nodeCert): Partial<TelemetryOptions> => ({
  caFile: ca.certFile,
  certFile: client.certFile,
  keyFile: client.keyFile,
  username: 'n1',
  password: USERS.n1,
});

/** The operator's side: mTLS with its own certificate and account. */
function operator(topics: string[]): Promise<Subscriber> {
  return Subscriber.connect(broker.url, topics, {
    ca: ca.certPem,
    cert: opsCert.certPem,
    key: opsCert.keyPem,
    username: 'ops',
    password: USERS.ops,
    rejectUnauthorized: true,
  });
}

test('mutual TLS with username/password: connects, says how, publishes the contract', async () => {
  assert.ok(broker.url.startsWith('mqtts://localhost:'));
  const health = new HealthBoard('n1');
  const events = new EventSource();
  const sub = await operator(['x0tta6bl4/lab/n1/#']);
  const t = agent(health, events, good());
  try {
    await until(() => health.get('telemetry')?.state === 'ok', 'a TLS connection');
    assert.is(health.get('telemetry')!.reason, `connected to mqtts://localhost:${broker.port} (TLS, client certificate, user n1)`);
    assert.is(t.stats().security, 'TLS, client certificate, user n1');
    await sub.until(() => sub.json<StatePayload>('x0tta6bl4/lab/n1/state').some((s) => s.state === 'online'), 'online state over TLS');
    events.emit('action', 'over TLS');
    await sub.until(() => sub.on('x0tta6bl4/lab/n1/events').length === 1, 'an event over TLS');
    await sub.until(() => sub.on('x0tta6bl4/lab/n1/telemetry').length > 0, 'telemetry over TLS');
  } finally {
    await t.stop();
    await sub.close();
  }
});

/** Runs an agent with a broken setting: a clear status, retries, no crash, events still buffered. */
async function refused(over: Partial<TelemetryOptions>, state: 'down' | 'degraded', reason: RegExp): Promise<void> {
  const health = new HealthBoard('n1');
  const events = new EventSource();
  const t = agent(health, events, over);
  try {
    await until(() => reason.test(health.get('telemetry')?.reason ?? ''), `telemetry status matching ${reason}`);
    await until(() => t.stats().connectFailures >= 3, 'retries');
    const h = health.get('telemetry')!;
    assert.is(h.state, state, h.reason);
    assert.match(h.reason, 'retrying');
    const s = t.stats();
    assert.is(s.state, 'retrying');
    assert.is(s.connects, 0);
    assert.match(s.lastError ?? '', reason);
    // The agent keeps working: events are still taken and kept for later.
    events.emit('finding', 'while the broker refuses us');
    assert.is(t.stats().eventsQueued, 1);
  } finally {
    await t.stop();
  }
}

test('a broker certificate from a CA we do not trust: down, says check ca_file, retries', async () => {
  await refused({ ...good(), caFile: stranger.certFile }, 'down', /broker's certificate is not trusted .*check ca_file/);
});

test('verification is on by default: no ca_file means the system roots, which do not know the test CA', async () => {
  const { caFile: _none, ...rest } = good();
  await refused(rest, 'down', /broker's certificate is not trusted/);
});

test('a certificate for another host name is refused', async () => {
  const other = pki.issue('other-host', { issuer: ca, san: 'DNS:broker.example.net', extKeyUsage: 'serverAuth' });
  const b = await Mosquitto.start({ tls: { caFile: ca.certFile, certFile: other.certFile, keyFile: other.keyFile } });
  try {
    await refused({ broker: b.url, caFile: ca.certFile }, 'down', /certificate is for another host name/);
  } finally {
    await b.stop();
  }
});

test('wrong password: down, says so, retries', async () => {
  await refused({ ...good(), password: 'wrong' }, 'down', /bad username or password|not authorized/);
});

test('no client certificate, or one from a stranger CA, is refused by the broker with a clear reason', async () => {
  const { certFile: _c, keyFile: _k, ...noCert } = good();
  await refused(noCert, 'down', /TLS: the broker refused the handshake|connection (reset|closed)/);
  await refused(good(strangerClient), 'down', /TLS: the broker refused the handshake|connection (reset|closed)/);
});

test('a missing key file is a clear status (files are read at each attempt: a renewed cert is picked up)', async () => {
  await refused({ ...good(), keyFile: join(dir, 'missing.key') }, 'down', /cannot read key_file .*missing\.key: ENOENT/);
});

test.run();
