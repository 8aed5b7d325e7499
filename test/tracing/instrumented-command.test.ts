// An operator's `run-action` over a real mosquitto into a whole agent on the simulator, traced:
// the command's spans sit under the operator's span (W3C traceparent inside the signed
// envelope), the action it ran is a mapek.execute under command.execute, and the verify window's
// verdict, decided polls later, joins the same trace. Spans decoded by an OTLP receiver.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCore } from '../../src/core/index.ts';
import { signCommand } from '../../src/telemetry/command-envelope.ts';
import type { ReplyPayload } from '../../src/telemetry/payloads.ts';
import { createTracer } from '../../src/tracing/tracer.ts';
import { simAgent } from '../mapek/sim-agent.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { TestPki } from '../telemetry/pki.ts';
import { exitIfStuck, Subscriber, until } from '../telemetry/subscriber.ts';
import { OtlpReceiver, attrs } from './otlp-receiver.ts';

const core = await loadCore();

test('run-action over MQTT: command → execute → verify → keep, one trace under the operator span', async () => {
  const broker = await Mosquitto.start();
  const recv = await OtlpReceiver.start();
  const dir = mkdtempSync(join(tmpdir(), 'x0-trace-cmd-'));
  const pki = new TestPki(dir);
  const ca = pki.issue('fleet-ca', { ca: true });
  const ops = pki.issue('ops', { issuer: ca, keyType: 'ed25519', san: 'URI:spiffe://lab.x0tta6bl4/operator/ops' });
  copyFileSync(ca.certFile, join(dir, 'fleet-ca.pem'));
  const tracer = createTracer({ enabled: true, endpoint: recv.url, headers: {}, sampleRatio: 1, queueLimit: 1000 }, { serviceName: 'x0tta6bl4-agent', serviceVersion: 'test', hostName: 'n1' }, { flushDelayMs: 20 });
  const s = await simAgent({
    score: core.scoreRoutes,
    tracer,
    configure: (c) => {
      c.agent.fleet = 'lab';
      c.agent.stateDir = dir;
      c.telemetry = { ...c.telemetry, enabled: true, broker: broker.url, intervalS: 5 };
    },
  });
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/n1/cmd/+/reply', 'x0tta6bl4/lab/n1/state']);
  const traceId = randomBytes(16).toString('hex');
  const operatorSpan = randomBytes(8).toString('hex');
  try {
    await until(() => s.agent.healthBoard.get('telemetry')?.state === 'ok', 'telemetry ok');
    await until(() => sub.on('x0tta6bl4/lab/n1/state').length > 0, 'online state (command subscription in place)');
    const env = signCommand({ fleet: 'lab', node: 'n1', cmd: 'run-action', args: ['orig-interval'], key: ops.keyPem, cert: ops.certPem, trace: { traceparent: `00-${traceId}-${operatorSpan}-01` } });
    await sub.client.publishAsync('x0tta6bl4/lab/n1/cmd/run-action', JSON.stringify(env), { qos: 1 });
    await until(() => sub.on('x0tta6bl4/lab/n1/cmd/run-action/reply').length > 0, 'the reply');
    const reply = sub.json<ReplyPayload>('x0tta6bl4/lab/n1/cmd/run-action/reply')[0]!;
    assert.ok(reply.ok, reply.error);
    await s.run(12_000); // past the verify window
    const entry = s.journal().find((e) => e.reason === 'operator command over MQTT')!;
    assert.ok(entry && entry.state !== 'verifying', JSON.stringify(entry));
  } finally {
    await s.agent.stop();
    sub.client.end(true);
    await broker.stop();
    await recv.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const spans = recv.spans().filter((x) => x.traceId === traceId);
  const named = (n: string) => {
    const f = spans.find((x) => x.name === n);
    assert.ok(f, `${n} in the operator's trace: ${spans.map((x) => x.name).join(', ')}`);
    return f;
  };
  const command = named('command run-action');
  assert.is(command.parentSpanId, operatorSpan);
  assert.is(attrs(command.attributes)['x0tta6bl4.command'], 'run-action');
  const execute = named('command.execute');
  assert.is(execute.parentSpanId, command.spanId);
  const action = named('mapek.execute');
  assert.is(action.parentSpanId, execute.spanId, 'the action runs under the command');
  assert.is(attrs(action.attributes)['x0tta6bl4.action'], 'orig-interval');
  const verify = named('mapek.verify');
  assert.is(verify.parentSpanId, action.spanId, 'verified polls later, in the same trace');
  const decided = spans.filter((x) => x.parentSpanId === verify.spanId).map((x) => x.name);
  assert.equal(decided.length, 1);
  assert.ok(['mapek.keep', 'mapek.rollback'].includes(decided[0]!), decided[0]);
  assert.ok(named('command.reply').parentSpanId === command.spanId);
});

test.after(() => exitIfStuck('instrumented-command.test.ts'));
test.run();
