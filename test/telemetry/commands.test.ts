// Fleet commands end to end through a real mosquitto, with the agent side started the way the
// agent starts it (startAgentTelemetry from a config): signed commands run and reply; forged,
// unsigned, replayed, stale, misaddressed and malformed ones are refused with a reason on the
// reply topic; `set` is validated by the config schema; /health and /metrics show it all.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import type { AgentConfig } from '../../src/config/schema.ts';
import { startAgentTelemetry, type AgentTelemetry } from '../../src/telemetry/agent-telemetry.ts';
import { signCommand, type CommandEnvelope } from '../../src/telemetry/command-envelope.ts';
import type { ReplyPayload } from '../../src/telemetry/payloads.ts';
import { EventSource, statusFixture } from './fixture.ts';
import { Mosquitto } from './mosquitto.ts';
import { TestPki } from './pki.ts';
import { exitIfStuck, Subscriber, until } from './subscriber.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-cmds-'));
const pki = new TestPki(dir);
const fleetCa = pki.issue('fleet-ca', { ca: true });
// Operator certificates as `pki issue-operator` makes them (SPIFFE ID under the fleet's trust domain).
const alice = pki.issue('ops-alice', { issuer: fleetCa, keyType: 'ed25519', san: 'URI:spiffe://lab.x0tta6bl4/operator/alice' });
const strangerCa = pki.issue('stranger-ca', { ca: true });
const mallory = pki.issue('ops-mallory', { issuer: strangerCa, keyType: 'ed25519', san: 'URI:spiffe://lab.x0tta6bl4/operator/mallory' });
const router = pki.issue('n2', { issuer: fleetCa, keyType: 'ed25519', san: 'URI:spiffe://lab.x0tta6bl4/node/12D3KooWn2' });
copyFileSync(fleetCa.certFile, join(dir, 'fleet-ca.pem')); // <state_dir>/fleet-ca.pem: the default place
const logs: string[] = [];

let broker: Mosquitto;
let sub: Subscriber;
let tel: AgentTelemetry;
const health = new HealthBoard('n1');
const events = new EventSource();
const applied: { option: string; value: unknown; dryRun: boolean }[] = [];
const actions: string[] = [];

test.before(async () => {
  broker = await Mosquitto.start();
  sub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/n1/cmd/+/reply', 'x0tta6bl4/lab/n1/state', 'x0tta6bl4/lab/n1/events']);
  const config = defaultConfig();
  config.agent.fleet = 'lab';
  config.agent.stateDir = dir;
  config.telemetry = { ...config.telemetry, enabled: true, broker: broker.url, intervalS: 5 };
  tel = startAgentTelemetry(config, {
    node: 'n1',
    status: () => statusFixture('n1', 'lab', health),
    onEvent: (l) => void events.subscribe(l),
    health,
    log: createLogger('info', (l) => logs.push(l)),
    applyConfig: (next: AgentConfig, change) => {
      if (change.option === 'mesh_interface' && change.value === 'eth9') throw new Error('eth9 does not exist');
      applied.push({ option: `${change.section}.${change.option}`, value: change.value, dryRun: next.agent.dryRun });
    },
    runAction: (a) => {
      if (a.action === 'reboot') throw new Error('reboot is not allowed (healing.allow_reboot is 0)');
      const spec = [a.action, a.ifname, a.neighbour].filter((x) => x !== undefined).join('/');
      actions.push(spec);
      return { action: spec, done: true };
    },
    learningRound: () => ({ round: 4 }),
  });
  await until(() => health.get('telemetry')?.state === 'ok', 'the agent to connect');
  await sub.until(() => sub.on('x0tta6bl4/lab/n1/state').length > 0, 'online state (so the command subscription is in place)');
});
test.after(async () => {
  await tel?.stop();
  await sub?.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (process.env.X0_VERBOSE) console.log(logs.join('\n'));
  exitIfStuck('commands.test.ts');
});

const sign = (cmd: string, args: string[] = [], over: Partial<Parameters<typeof signCommand>[0]> = {}): CommandEnvelope =>
  signCommand({ fleet: 'lab', node: 'n1', cmd, args, key: alice.keyPem, cert: alice.certPem, ...over });

/** Publishes raw bytes on cmd/<name> and waits for the next reply on its reply topic. */
async function send(name: string, payload: string | CommandEnvelope): Promise<ReplyPayload> {
  const topic = `x0tta6bl4/lab/n1/cmd/${name}/reply`;
  const before = sub.on(topic).length;
  await sub.client.publishAsync(`x0tta6bl4/lab/n1/cmd/${name}`, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
  await sub.until(() => sub.on(topic).length > before, `a reply on ${topic}`);
  const r = sub.json<ReplyPayload>(topic)[before]!;
  if (typeof payload !== 'string') assert.is(r.nonce, payload.nonce, 'the reply names the command it answers');
  return r;
}

test('signed commands run and reply: status, dry-run, set, run-action, learning-round', async () => {
  const st = await send('status', sign('status'));
  assert.ok(st.ok, st.error);
  assert.match(st.signer ?? '', 'ops-alice');
  assert.is((st.result as { node: { name: string } }).node.name, 'n1');
  assert.is((st.result as { neighbours: number }).neighbours, 3);

  const dr = await send('dry-run', sign('dry-run', ['on']));
  assert.ok(dr.ok, dr.error);
  assert.equal(applied.at(-1), { option: 'agent.dry_run', value: true, dryRun: true });

  const set = await send('set', sign('set', ['agent.log_level', 'debug']));
  assert.ok(set.ok, set.error);
  assert.equal((set.result as { option: string; previous: unknown; value: unknown }).option, 'agent.log_level');
  assert.is((set.result as { previous: unknown }).previous, 'info');
  assert.is((set.result as { value: unknown }).value, 'debug');
  assert.is(applied.at(-1)!.dryRun, true, 'later changes build on earlier ones');

  const secret = await send('set', sign('set', ['telemetry.password', 'hunter2']));
  assert.ok(secret.ok, secret.error);
  assert.is((secret.result as { value: unknown }).value, '(secret)', 'a secret is not echoed on the bus');
  assert.not.match(JSON.stringify(secret), 'hunter2');

  const act = await send('run-action', sign('run-action', ['restart_radio']));
  assert.ok(act.ok, act.error);
  assert.equal(actions, ['restart_radio']);

  const lr = await send('learning-round', sign('learning-round'));
  assert.ok(lr.ok, lr.error);
  assert.equal(lr.result, { round: 4 });
});

test('set is validated by the config schema; a refused change is not applied', async () => {
  const n = applied.length;
  const bad = await send('set', sign('set', ['agent.log_level', 'loud']));
  assert.is(bad.ok, false);
  assert.is(bad.code, 'bad-args');
  assert.match(bad.error ?? '', /agent\.log_level.*debug, info, warn/);
  const unknown = await send('set', sign('set', ['agent.colour', 'red']));
  assert.is(unknown.code, 'bad-args');
  assert.match(unknown.error ?? '', "expected an option of section 'agent'");
  const refusedByAgent = await send('set', sign('set', ['agent.mesh_interface', 'eth9']));
  assert.is(refusedByAgent.code, 'failed');
  assert.match(refusedByAgent.error ?? '', 'eth9 does not exist');
  assert.is(applied.length, n);
  const failing = await send('run-action', sign('run-action', ['reboot']));
  assert.is(failing.code, 'failed');
  assert.match(failing.error ?? '', 'allow_reboot');
});

test('forged, tampered, unsigned, replayed, stale, misaddressed and malformed commands are refused with reasons', async () => {
  const forged = await send('dry-run', sign('dry-run', ['off'], { key: mallory.keyPem, cert: mallory.certPem }));
  assert.is(forged.code, 'untrusted');
  assert.match(forged.error ?? '', 'signer certificate');

  // Alice's (trusted) certificate on a command signed with Mallory's key.
  const borrowed = await send('dry-run', { ...sign('dry-run', ['off'], { key: mallory.keyPem, cert: mallory.certPem }), cert: alice.certPem });
  assert.is(borrowed.code, 'bad-signature');

  const tampered = { ...sign('dry-run', ['on']), args: ['off'] };
  const t = await send('dry-run', tampered);
  assert.is(t.code, 'bad-signature');

  const { sig: _sig, ...unsigned } = sign('status');
  const u = await send('status', JSON.stringify(unsigned));
  assert.is(u.code, 'malformed');
  assert.match(u.error ?? '', "'sig'");
  assert.is(u.nonce, unsigned.nonce);

  const once = sign('run-action', ['restart_radio']);
  assert.ok((await send('run-action', once)).ok);
  const replay = await send('run-action', once);
  assert.is(replay.code, 'replay');
  assert.equal(actions, ['restart_radio', 'restart_radio'], 'the replay did not run');

  const stale = await send('status', sign('status', [], { now: Date.now() - 3600_000 }));
  assert.is(stale.code, 'stale');

  const other = await send('status', sign('status', [], { node: 'n2' }));
  assert.is(other.code, 'wrong-node');

  const wrongTopic = await send('status', sign('dry-run', ['on']));
  assert.is(wrongTopic.code, 'wrong-topic');

  const junk = await send('status', '{"v":1, not json');
  assert.is(junk.code, 'malformed');
  assert.is(junk.nonce, null);

  const unknown = await send('format-disk', sign('format-disk'));
  assert.is(unknown.code, 'unknown-command');

  // Certified by the fleet CA, but not operators: the CA's own key, a router's node certificate.
  const byCa = await send('dry-run', sign('dry-run', ['off'], { key: fleetCa.keyPem, cert: fleetCa.certPem }));
  assert.is(byCa.code, 'untrusted');
  assert.match(byCa.error ?? '', /is a CA certificate.*pki issue-operator/);
  const byNode = await send('dry-run', sign('dry-run', ['off'], { key: router.keyPem, cert: router.certPem }));
  assert.is(byNode.code, 'untrusted');
  assert.match(byNode.error ?? '', 'is a node certificate');
  assert.is(applied.at(-1)!.dryRun, true, 'neither changed dry run');
  assert.is(health.get('telemetry')?.state, 'ok', 'refusals do not disturb the connection');
});

test('/health and /metrics show telemetry and the command counts', () => {
  assert.is(tel.health().state, 'ok');
  const m = tel.metrics();
  assert.match(m, /^x0tta6bl4_telemetry_connected 1$/m);
  const accepted = Number(/x0tta6bl4_telemetry_commands_total\{result="accepted"\} (\d+)/.exec(m)?.[1]);
  const rejected = Number(/x0tta6bl4_telemetry_commands_total\{result="rejected"\} (\d+)/.exec(m)?.[1]);
  assert.ok(accepted >= 10, m);
  assert.is(rejected, 12, m); // this test runs before the flood
  assert.match(m, '# TYPE x0tta6bl4_telemetry_events_dropped_total counter');
  assert.is(tel.report()?.state, 'connected');
});

test('a flood of junk is refused and counted, but answered at a limited rate', async () => {
  const topic = 'x0tta6bl4/lab/n1/cmd/status/reply';
  const repliesBefore = sub.on(topic).length;
  const rejectedBefore = tel.report()!.commandsRejected;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 60 }, (_, i) => sub.client.publishAsync('x0tta6bl4/lab/n1/cmd/status', `junk ${i}`, { qos: 1 })));
  await until(() => tel.report()!.commandsRejected === rejectedBefore + 60, 'all 60 refused');
  const good = sign('status');
  await sub.client.publishAsync('x0tta6bl4/lab/n1/cmd/status', JSON.stringify(good), { qos: 1 });
  // Replies go out in order: once the good one is here, every refusal that was answered is too.
  await sub.until(() => sub.json<ReplyPayload>(topic).some((r) => r.ok && r.nonce === good.nonce), 'a good command still answered after the flood');
  const elapsedS = (Date.now() - t0) / 1000;
  const refusals = sub.json<ReplyPayload>(topic).slice(repliesBefore).filter((r) => !r.ok).length;
  // A burst of at most 20 replies, then 2 per second.
  assert.ok(refusals <= 20 + Math.ceil(2 * elapsedS) + 1 && refusals < 60, `${refusals} refusals answered in ${elapsedS.toFixed(1)} s`);
  assert.ok(refusals > 0);
});

test('5,000 refused commands write a bounded number of log lines, and say how many they left out', async () => {
  const rejectedBefore = tel.report()!.commandsRejected;
  const linesBefore = logs.length;
  const t0 = Date.now();
  // In batches below mosquitto's per-client queue (max_queued_messages 1000), so none is dropped on the way.
  for (let sent = 0; sent < 5000; sent += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, i) => sub.client.publishAsync('x0tta6bl4/lab/n1/cmd/status', `junk ${sent + i}`, { qos: 1 })));
    await until(() => tel.report()!.commandsRejected >= rejectedBefore + sent + 500, `${sent + 500} refused`);
  }
  const elapsedS = (Date.now() - t0) / 1000;
  assert.is(tel.report()!.commandsRejected, rejectedBefore + 5000, 'every one refused and counted');
  const lines = logs.slice(linesBefore).filter((l) => l.includes('rejected'));
  // The reply budget: a burst of 20, then 2 per second (some of the burst was spent above).
  assert.ok(lines.length <= 20 + Math.ceil(2 * elapsedS) + 1, `${lines.length} log lines for 5000 refusals in ${elapsedS.toFixed(1)} s`);
  // One more after a pause: it is logged, and says how many went unlogged before it.
  await new Promise((r) => setTimeout(r, 1100));
  await sub.client.publishAsync('x0tta6bl4/lab/n1/cmd/status', 'junk after', { qos: 1 });
  await until(() => tel.report()!.commandsRejected === rejectedBefore + 5001, 'the last one refused');
  assert.match(logs.at(-1) ?? '', /rejected: malformed: not JSON \(\d+ more refused since the last one logged\)/);
});

test("the agent's events (Knowledge.onEvent) go out on the events topic", async () => {
  events.emit('rollback', 'hop_penalty 60 → 30: no route to the gateway');
  await sub.until(() => sub.on('x0tta6bl4/lab/n1/events').some((m) => m.text.includes('no route to the gateway')), 'the event');
  const e = sub.json<{ kind: string; node: string; seq: number }>('x0tta6bl4/lab/n1/events').at(-1)!;
  assert.is(e.kind, 'rollback');
  assert.is(e.node, 'n1');
});

test('disabled in config, or enabled without a broker: a clear component state, nothing started', async () => {
  const h = new HealthBoard('n9');
  const base = { node: 'n9', status: () => statusFixture('n9', 'lab', h), onEvent: () => {}, health: h, log: createLogger('error', () => {}) };
  const off = startAgentTelemetry(defaultConfig(), base);
  assert.equal(off.health(), { name: 'telemetry', state: 'disabled', reason: 'disabled in config' });
  assert.is(off.metrics(), '');
  await off.stop();
  const c = defaultConfig();
  c.telemetry.enabled = true;
  const empty = startAgentTelemetry(c, base);
  assert.is(empty.health().state, 'down');
  assert.match(empty.health().reason, 'telemetry.broker is empty');
  assert.match(empty.metrics(), /^x0tta6bl4_telemetry_connected 0$/m);
  await empty.stop();
});

test.run();
