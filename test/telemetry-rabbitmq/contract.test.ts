// The MQTT topic contract v1 through a clustered-broker product: a real RabbitMQ 3.10 (Debian
// 'rabbitmq-server') with its MQTT plugin, a private node started by this file (rabbitmq.ts).
// The same checks as the mosquitto tests, with the agent's real telemetry code, the real command
// path and the built fleet exporter (dist/x0tta6bl4-fleet.mjs, `npm run build` first):
// retained state and the Last Will, QoS 1 events PUBACKed and none lost across a broker restart
// and an agent restart (its queue file), signed commands, and the exporter reading the fleet.
// What RabbitMQ does differently is asserted too (so that a broker upgrade that changes it fails
// here and docs/clustered-broker.md gets updated): retained messages only for exact-topic
// subscriptions, '.' in a topic level, QoS 2 granted as 1, no MQTT 5, no anonymous login.
// Skipped only outside CI when rabbitmq-server is not installed; CI=true makes that a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type IClientOptions } from 'mqtt';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import type { AgentConfig } from '../../src/config/schema.ts';
import { startAgentTelemetry } from '../../src/telemetry/agent-telemetry.ts';
import { signCommand } from '../../src/telemetry/command-envelope.ts';
import type { EventPayload, ReplyPayload, StatePayload, TelemetryPayload } from '../../src/telemetry/payloads.ts';
import { startTelemetry, type TelemetryOptions } from '../../src/telemetry/telemetry.ts';
import { parseProm, valueOf, type PromSample } from '../fleet-exporter/prom-text.ts';
import { EventSource, statusFixture } from '../telemetry/fixture.ts';
import { TestPki } from '../telemetry/pki.ts';
import { exitIfStuck, Subscriber, until, withTimeout } from '../telemetry/subscriber.ts';
import { RabbitMQ, rabbitmqMissing } from './rabbitmq.ts';

const root = new URL('../..', import.meta.url).pathname;
const missing = rabbitmqMissing();
if (missing && (process.env.CI === 'true' || process.env.CI === '1')) throw new Error(`telemetry-rabbitmq needs RabbitMQ in CI: ${missing}`);
if (missing) {
  process.stderr.write(`telemetry-rabbitmq: skipped: ${missing}\n`);
  process.exit(0);
}

const AGENT = { username: 'agent', password: 'agent-pw-1' };
const OPS = { username: 'ops', password: 'ops-pw-1' };
const dir = mkdtempSync(join(tmpdir(), 'x0-rabbit-test-'));
const logs: string[] = [];
let broker: RabbitMQ;
/** The exporter started before any agent: it sees everything live. */
let exporter: Exporter;
const children: ChildProcess[] = [];

test.before(async () => {
  broker = await RabbitMQ.start({ [AGENT.username]: AGENT.password, [OPS.username]: OPS.password });
  exporter = await Exporter.start();
});
test.after(async () => {
  await exporter?.stop();
  for (const c of children) c.kill('SIGKILL');
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
  if (process.env.X0_VERBOSE) console.log(logs.join('\n'));
  exitIfStuck('test/telemetry-rabbitmq/contract.test.ts');
});

const ops = (over: Parameters<typeof Subscriber.connect>[2] = {}) => ({ ...OPS, ...over });

function agent(node: string, health: HealthBoard, events: EventSource, over: Partial<TelemetryOptions> = {}) {
  return startTelemetry({
    node,
    fleet: 'lab',
    broker: broker.url,
    ...AGENT,
    intervalS: 1,
    reconnectMinS: 0.25,
    reconnectMaxS: 2,
    source: { status: () => statusFixture(node, 'lab', health) },
    subscribeEvents: events.subscribe,
    health,
    log: createLogger('info', (l) => logs.push(`${node}: ${l}`)),
    ...over,
  });
}

/** `x0tta6bl4 fleet exporter` from the built fleet bundle, as an operator runs it. */
class Exporter {
  private out = '';
  private constructor(
    private readonly p: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<Exporter> {
    const bundle = join(root, 'dist/x0tta6bl4-fleet.mjs');
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build`);
    const p = spawn(process.execPath, [bundle, '--broker', broker.url, '--username', OPS.username, '--fleet', 'lab', '--listen', '127.0.0.1:0', '--stale', '30'], {
      env: { ...process.env, X0TTA6BL4_MQTT_PASSWORD: OPS.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(p);
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    await until(() => /subscribed to x0tta6bl4\/lab\/\+\/state/.test(out) || p.exitCode !== null, `the exporter to subscribe`, 20_000);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out)?.[1];
    if (!url || p.exitCode !== null) throw new Error(`the exporter did not start:\n${out}`);
    const e = new Exporter(p, url);
    p.stdout!.on('data', (d) => (e.out += d));
    return e;
  }

  async scrape(): Promise<PromSample[]> {
    return parseProm(await (await fetch(this.url)).text());
  }

  async until(pred: (s: PromSample[]) => boolean, what: string, limitMs = 20_000): Promise<PromSample[]> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const s = await this.scrape();
      if (pred(s)) return s;
      if (Date.now() > deadline) throw new Error(`exporter: gave up waiting for ${what}\n${this.out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    if (this.p.exitCode !== null) return;
    const exited = new Promise((r) => this.p.once('exit', r));
    this.p.kill('SIGTERM');
    await exited;
  }
}

/** Resolves with the broker's CONNACK refusal (or socket error) for a connection that must not be accepted. */
async function refusal(opts: IClientOptions): Promise<string | null> {
  const c = connect(broker.url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  return await withTimeout(
    new Promise<string | null>((resolve) => {
      c.once('connect', () => resolve(null));
      c.once('error', (e) => resolve(e.message));
      c.once('close', () => resolve('connection closed'));
    }),
    10_000,
    'the broker to answer a CONNECT',
  ).finally(() => c.end(true));
}

test('what RabbitMQ 3.10 refuses or changes: no anonymous or guest login, no MQTT 5, QoS 2 granted as 1', async () => {
  for (const [opts, what] of [
    [{}, 'anonymous'],
    [{ username: 'guest', password: 'guest' }, 'guest'],
    [{ ...OPS, password: 'wrong' }, 'a wrong password'],
    [{ ...OPS, protocolVersion: 5 as const }, 'MQTT 5'],
  ] as const) {
    const r = await refusal(opts);
    assert.ok(r !== null, `${what} was accepted`);
    logs.push(`refused ${what}: ${r}`);
  }
  const s = await Subscriber.connect(broker.url, ['x/#'], ops());
  try {
    const granted = await s.client.subscribeAsync('x/q2', { qos: 2 });
    assert.is(granted[0]!.qos, 1, 'QoS 2 is granted as QoS 1 (the contract uses 0 and 1 only)');
  } finally {
    await s.close();
  }
});

test('state, telemetry and QoS 1 events on the documented topics; retained state for a later exact-topic subscriber; clean stop', async () => {
  const health = new HealthBoard('n1');
  const events = new EventSource();
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/#'], ops());
  const t = agent('n1', health, events);
  try {
    await sub.until(() => sub.on('x0tta6bl4/lab/n1/telemetry').length >= 2, 'two telemetry snapshots');
    assert.is(health.get('telemetry')?.state, 'ok');
    assert.match(health.get('telemetry')!.reason, `connected to mqtt://127.0.0.1:${broker.port} (plaintext, user agent)`);
    const state = sub.json<StatePayload>('x0tta6bl4/lab/n1/state');
    assert.is(state[0]!.state, 'online');
    assert.is(sub.on('x0tta6bl4/lab/n1/state')[0]!.qos, 1);
    const tel = sub.json<TelemetryPayload>('x0tta6bl4/lab/n1/telemetry');
    assert.is(tel.at(-1)!.node, 'n1');
    assert.is(tel.at(-1)!.boot, state[0]!.boot);
    assert.is(tel.at(-1)!.mesh.neighbours, 3);

    const sent = [events.emit('finding', 'link to 02:00:00:00:00:02 degrading'), events.emit('action', 'hop_penalty 30 → 60'), events.emit('rollback', 'hop_penalty 60 → 30')];
    await sub.until(() => sub.on('x0tta6bl4/lab/n1/events').length >= 3, 'three events');
    const got = sub.json<EventPayload>('x0tta6bl4/lab/n1/events');
    assert.equal(got.map((e) => [e.seq, e.kind, e.message]), sent.map((e, i) => [i + 1, e.kind, e.message]));
    assert.ok(sub.on('x0tta6bl4/lab/n1/events').every((m) => m.qos === 1 && !m.retain));
    // Counted as sent only on the broker's PUBACK; nothing left waiting for one.
    await until(() => t.stats().eventsSent === 3 && t.stats().eventsQueued === 0, 'three PUBACKs');

    // Retained state and telemetry reach a later subscriber of the node's own topics...
    const late = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/n1/state', 'x0tta6bl4/lab/n1/telemetry'], ops());
    await late.until(() => late.messages.length >= 2, 'retained messages');
    assert.ok(late.messages.every((m) => m.retain));
    assert.is(late.json<StatePayload>('x0tta6bl4/lab/n1/state')[0]!.state, 'online');
    await late.close();
    // ...but not a wildcard subscriber: RabbitMQ 3.10 looks retained messages up by exact topic.
    const wild = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/+/state', 'x0tta6bl4/#'], ops());
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(wild.messages.filter((m) => m.retain).length, 0, 'RabbitMQ now delivers retained messages to wildcards: update docs/clustered-broker.md');
    await wild.close();
  } finally {
    await t.stop();
  }
  await sub.until(() => sub.json<StatePayload>('x0tta6bl4/lab/n1/state').some((p) => p.state === 'offline'), 'offline state');
  assert.is(sub.json<StatePayload>('x0tta6bl4/lab/n1/state').pop()!.reason, 'stopped');
  await sub.close();
  // The exporter, subscribed since before n1 came, saw it live: its events and its clean stop.
  const s = await exporter.until((s) => valueOf(s, 'x0tta6bl4_node_state', { node: 'n1', state: 'stopped' }) === 1, 'n1 stopped');
  assert.is(valueOf(s, 'x0tta6bl4_node_online', { node: 'n1' }), 0);
  assert.is(valueOf(s, 'batman_neighbour_count', { node: 'n1' }), 3);
  assert.is(valueOf(s, 'x0tta6bl4_events_total', { node: 'n1', kind: 'finding' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_events_missing_total', { node: 'n1' }) ?? 0, 0);
});

test('the Last Will says offline/lost when the agent process is killed (kill -9)', async () => {
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/victim/state'], ops());
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/telemetry-rabbitmq/telemetry-process.ts', JSON.stringify({ node: 'victim', fleet: 'lab', broker: broker.url, username: AGENT.username })],
    { cwd: root, env: { ...process.env, X0_MQTT_PASSWORD: AGENT.password }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  try {
    await until(() => out.includes('health telemetry ok'), 'the agent process to connect', 30_000);
    await sub.until(() => sub.json<StatePayload>('x0tta6bl4/lab/victim/state').some((p) => p.state === 'online'), 'online');
    await exporter.until((s) => valueOf(s, 'x0tta6bl4_node_online', { node: 'victim' }) === 1, 'victim online');
    const online = sub.json<StatePayload>('x0tta6bl4/lab/victim/state').find((p) => p.state === 'online')!;
    child.kill('SIGKILL');
    await sub.until(() => sub.json<StatePayload>('x0tta6bl4/lab/victim/state').some((p) => p.state === 'offline'), 'the Last Will');
    const will = sub.json<StatePayload>('x0tta6bl4/lab/victim/state').find((p) => p.state === 'offline')!;
    assert.is(will.reason, 'lost');
    assert.is(will.boot, online.boot);
    const late = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/victim/state'], ops());
    await late.until(() => late.messages.length === 1, 'retained state');
    assert.is(late.json<StatePayload>('x0tta6bl4/lab/victim/state')[0]!.state, 'offline');
    assert.ok(late.messages[0]!.retain, 'the Will was stored as retained');
    await late.close();
    await exporter.until((s) => valueOf(s, 'x0tta6bl4_node_state', { node: 'victim', state: 'lost' }) === 1, 'victim lost in the exporter');
  } finally {
    child.kill('SIGKILL');
    await sub.close();
  }
});

test("a '.' in a node name becomes a level separator: the node's topics leave the contract", async () => {
  // RabbitMQ routes MQTT through AMQP topic routing keys ('/' → '.'); 3.10 maps '.' back to '/'
  // on delivery, so a '.' inside a level becomes a level boundary. Names allow '.' (topics.ts),
  // and such a node's messages arrive as x0tta6bl4/lab/r1/lab/<kind>: outside the contract,
  // missed by '+' subscriptions (the exporter, `x0tta6bl4 fleet`), and commands to the node are
  // not recognised by it. Fleets on RabbitMQ must use names without '.' (docs/clustered-broker.md).
  const health = new HealthBoard('r1.lab');
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/+/state', 'x0tta6bl4/lab/+/telemetry', 'x0tta6bl4/lab/r1/#'], ops());
  const t = agent('r1.lab', health, new EventSource());
  try {
    await until(() => health.get('telemetry')?.state === 'ok', 'r1.lab to connect');
    await sub.until(() => sub.on('x0tta6bl4/lab/r1/lab/telemetry').length >= 1 && sub.on('x0tta6bl4/lab/r1/lab/state').length >= 1, "r1.lab's messages");
    assert.equal(sub.messages.filter((m) => m.topic.includes('r1.lab')), [], "RabbitMQ now keeps '.' in topics: update docs/clustered-broker.md");
    const late = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/r1.lab/state'], ops());
    await late.until(() => late.messages.length >= 1, 'the retained state');
    assert.equal(late.messages.map((m) => m.topic), ['x0tta6bl4/lab/r1/lab/state']);
    await late.close();
    // A command reaches the agent as x0tta6bl4/lab/r1/lab/cmd/status: not its topic, so it is
    // ignored without a reply (against mosquitto this junk is refused as 'malformed', with a reply).
    await sub.client.publishAsync('x0tta6bl4/lab/r1.lab/cmd/status', 'junk', { qos: 1 });
    await sub.until(() => sub.on('x0tta6bl4/lab/r1/lab/cmd/status').length === 1, 'the command, as the broker delivers it');
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(t.stats().commandsRejected + t.stats().commandsAccepted, 0);
    assert.equal(sub.messages.filter((m) => m.topic.endsWith('/reply')), []);
  } finally {
    await t.stop();
    await sub.close();
  }
});

test('signed fleet commands are executed and replied to; a forged one is refused', async () => {
  const pki = new TestPki(dir);
  const fleetCa = pki.issue('fleet-ca', { ca: true });
  const alice = pki.issue('ops-alice', { issuer: fleetCa, keyType: 'ed25519', san: 'URI:spiffe://lab.x0tta6bl4/operator/alice' });
  const strangerCa = pki.issue('stranger-ca', { ca: true });
  const mallory = pki.issue('ops-mallory', { issuer: strangerCa, keyType: 'ed25519', san: 'URI:spiffe://lab.x0tta6bl4/operator/mallory' });
  copyFileSync(fleetCa.certFile, join(dir, 'fleet-ca.pem'));
  const health = new HealthBoard('c1');
  const applied: string[] = [];
  const actions: string[] = [];
  const config = defaultConfig();
  config.agent.fleet = 'lab';
  config.agent.stateDir = dir;
  config.telemetry = { ...config.telemetry, enabled: true, broker: broker.url, intervalS: 5, ...AGENT };
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/c1/cmd/+/reply', 'x0tta6bl4/lab/c1/state'], ops());
  const tel = startAgentTelemetry(config, {
    node: 'c1',
    status: () => statusFixture('c1', 'lab', health),
    onEvent: () => {},
    health,
    log: createLogger('info', (l) => logs.push(`c1: ${l}`)),
    applyConfig: (_next: AgentConfig, change) => void applied.push(`${change.section}.${change.option}=${String(change.value)}`),
    runAction: (a) => {
      actions.push(a.action);
      return { action: a.action, done: true };
    },
  });
  const send = async (name: string, env: ReturnType<typeof signCommand>): Promise<ReplyPayload> => {
    const topic = `x0tta6bl4/lab/c1/cmd/${name}/reply`;
    const before = sub.on(topic).length;
    await sub.client.publishAsync(`x0tta6bl4/lab/c1/cmd/${name}`, JSON.stringify(env), { qos: 1 });
    await sub.until(() => sub.on(topic).length > before, `a reply on ${topic}`);
    const r = sub.json<ReplyPayload>(topic)[before]!;
    assert.is(r.nonce, env.nonce);
    assert.is(sub.on(topic)[before]!.qos, 1);
    return r;
  };
  const sign = (cmd: string, args: string[] = [], key = alice) => signCommand({ fleet: 'lab', node: 'c1', cmd, args, key: key.keyPem, cert: key.certPem });
  try {
    await until(() => health.get('telemetry')?.state === 'ok', 'the agent to connect');
    await sub.until(() => sub.on('x0tta6bl4/lab/c1/state').length > 0, 'online state (the command subscription is made on connect)');
    const st = await send('status', sign('status'));
    assert.ok(st.ok, st.error);
    assert.is((st.result as { node: { name: string } }).node.name, 'c1');
    const set = await send('set', sign('set', ['agent.log_level', 'debug']));
    assert.ok(set.ok, set.error);
    assert.equal(applied, ['agent.log_level=debug']);
    const act = await send('run-action', sign('run-action', ['restart_radio']));
    assert.ok(act.ok, act.error);
    assert.equal(actions, ['restart_radio']);
    const forged = await send('dry-run', sign('dry-run', ['on'], mallory));
    assert.is(forged.code, 'untrusted');
    const once = sign('status');
    assert.ok((await send('status', once)).ok);
    assert.is((await send('status', once)).code, 'replay');
    assert.equal(applied, ['agent.log_level=debug'], 'nothing else was applied');
  } finally {
    await tel.stop();
    await sub.close();
  }
});

/** QoS 1 is at-least-once: the first copy of each (boot, seq), in arrival order. */
function firstCopies(sub: Subscriber, topic: string): EventPayload[] {
  const seen = new Set<string>();
  return sub.json<EventPayload>(topic).filter((e) => {
    const k = `${e.boot}/${e.seq}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

test('QoS 1 events: none lost across a broker restart (held in a persistent session) and an agent restart during it (its queue file)', async () => {
  const topic = 'x0tta6bl4/lab/q1/events';
  const backend = () => Subscriber.connect(broker.url, [topic], ops({ clean: false, clientId: 'backend-q1' }));
  const bufferFile = join(dir, 'q1.buffer');
  const h1 = new HealthBoard('q1');
  const ev1 = new EventSource();
  let sub = await backend();
  const first = agent('q1', h1, ev1, { bufferFile, bufferWriteIntervalS: 1 });
  const emitted: string[] = [];
  const emit = (ev: EventSource, what: string, n: number) => {
    for (let i = 0; i < n; i++) emitted.push(ev.emit('info', `${what} ${i}`).message);
  };
  let second: ReturnType<typeof agent> | null = null;
  try {
    await until(() => h1.get('telemetry')?.state === 'ok', 'connection');
    emit(ev1, 'live', 5);
    await sub.until(() => firstCopies(sub, topic).length >= 5, 'five live events');
    // The backend goes away; the broker holds what comes next in its durable session queue.
    await sub.close();
    emit(ev1, 'held by the broker', 5);
    await until(() => first.stats().eventsSent === 10, 'PUBACKs for the held events');
    await broker.stop();
    await until(() => h1.get('telemetry')?.state === 'degraded', 'the agent to notice');
    emit(ev1, 'queued on the agent', 5);
    await first.stop(); // writes its queue file
    assert.is(readFileSync(bufferFile, 'utf8').trim().split('\n').length, 6, 'header + 5 events');
    const h2 = new HealthBoard('q1');
    const ev2 = new EventSource();
    second = agent('q1', h2, ev2, { bufferFile, bufferWriteIntervalS: 1 });
    assert.is(second.stats().eventsQueued, 5);
    emit(ev2, 'after the agent restart', 2);
    await broker.resume();
    await until(() => h2.get('telemetry')?.state === 'ok', 'reconnection after the broker restart', 30_000);
    await until(() => second!.stats().eventsQueued === 0, 'the queue drained (all PUBACKed)');
    sub = await backend();
    await sub.until(() => firstCopies(sub, topic).length >= 12, 'the held and the queued events', 30_000);
    const got = firstCopies(sub, topic);
    // The first five went to the first backend connection; this one gets the rest, in order.
    assert.equal(got.map((e) => e.message), emitted.slice(5));
    assert.equal(got.map((e) => e.seq), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1, 2]);
    assert.is(new Set(got.map((e) => e.boot)).size, 2, 'each agent boot numbers its own events');
    await until(() => !existsSync(bufferFile), 'the queue file removed once empty', 10_000);
  } finally {
    await first.stop();
    await second?.stop();
    await sub.close();
  }
});

test('an exporter started later learns live nodes from their next message, not from retained state; the first one reconnected', async () => {
  const health = new HealthBoard('w1');
  const t = agent('w1', health, new EventSource());
  const late = await Exporter.start();
  try {
    const s = await late.until((s) => valueOf(s, 'x0tta6bl4_node_online', { node: 'w1' }) === 1, 'w1 from its telemetry');
    assert.is(valueOf(s, 'batman_neighbour_count', { node: 'w1' }), 3);
    // victim's retained 'offline/lost' is on the broker, but only for its exact topic: this
    // exporter (wildcard subscriptions) never hears of it. Against mosquitto it would show up 0.
    assert.is(valueOf(s, 'x0tta6bl4_node_online', { node: 'victim' }), undefined);
    // The first exporter reconnected after the broker restart of the previous test, as the
    // agent does (backoff up to 60 s, so a longer wait), and hears live nodes again; a clean
    // session, so what was published while it was away did not reach it.
    const first = await exporter.until((s) => valueOf(s, 'x0tta6bl4_node_online', { node: 'w1' }) === 1, 'the first exporter back, hearing w1', 75_000);
    assert.is(valueOf(first, 'x0tta6bl4_fleet_exporter_connected'), 1);
    assert.ok((valueOf(first, 'x0tta6bl4_fleet_exporter_connects_total') ?? 0) >= 2);
    assert.ok((valueOf(first, 'x0tta6bl4_events_total', { node: 'q1', kind: 'info' }) ?? 0) >= 10, 'the events it heard live');
  } finally {
    await late.stop();
    await t.stop();
  }
});

test.run();
