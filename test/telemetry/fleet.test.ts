// `x0tta6bl4 fleet` against a real mosquitto with real publishers: two live nodes, one killed
// (its Last Will), one that stopped cleanly, and junk on the bus; JSON and table output, and
// clear errors for a bad or unreachable broker.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { fleetCommand } from '../../src/cli/commands/fleet.ts';
import { UsageError, UserError, type FlagValues } from '../../src/cli/command.ts';
import type { FleetNode } from '../../src/telemetry/fleet-view.ts';
import { FleetView, renderFleetTable } from '../../src/telemetry/fleet-view.ts';
import { startTelemetry, type Telemetry } from '../../src/telemetry/telemetry.ts';
import { EventSource, statusFixture } from './fixture.ts';
import { freePort, Mosquitto } from './mosquitto.ts';
import { exitIfStuck, Subscriber, until } from './subscriber.ts';

const root = new URL('../..', import.meta.url).pathname;
let broker: Mosquitto;
const agents: Telemetry[] = [];

function node(name: string, fleet = 'lab', degraded = false): Telemetry {
  const health = new HealthBoard(name);
  if (degraded) health.set('mesh', 'degraded', 'no neighbours on mesh1');
  const t = startTelemetry({
    node: name,
    fleet,
    broker: broker.url,
    intervalS: 60,
    source: { status: () => statusFixture(name, fleet, health, name === 'n2' ? 1 : 3) },
    subscribeEvents: new EventSource().subscribe,
    health,
    log: createLogger('error', () => {}),
  });
  agents.push(t);
  return t;
}

async function run(flags: FlagValues): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await fleetCommand.run({
    flags,
    positionals: [],
    io: { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n') },
    stopSignal: new Promise(() => {}),
  });
  return { code, out, err };
}

test.before(async () => {
  broker = await Mosquitto.start();
  const watch = await Subscriber.connect(broker.url, ['x0tta6bl4/#']);
  try {
    node('n1');
    node('n2', 'lab', true);
    node('m1', 'other');
    const gone = node('n4');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/telemetry/telemetry-process.ts', JSON.stringify({ node: 'n3', fleet: 'lab', broker: broker.url })],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    try {
      await until(() => out.includes('health telemetry ok'), 'the n3 process to connect', 30_000);
      await watch.until(() => watch.on('x0tta6bl4/lab/n3/telemetry').length > 0, 'n3 telemetry');
    } finally {
      child.kill('SIGKILL');
    }
    await watch.until(() => watch.on('x0tta6bl4/lab/n3/state').some((m) => m.text.includes('"lost"')), "n3's Last Will");
    await watch.until(() => ['n1', 'n2', 'n4'].every((n) => watch.on(`x0tta6bl4/lab/${n}/telemetry`).length > 0), 'telemetry of n1, n2, n4');
    await gone.stop();
    await watch.until(() => watch.on('x0tta6bl4/lab/n4/state').some((m) => m.text.includes('"stopped"')), 'n4 stopped');
    // Junk: not JSON, wrong version, a payload claiming to be another node, a terminal escape.
    await watch.client.publishAsync('x0tta6bl4/lab/junk/state', 'not json', { retain: true, qos: 1 });
    await watch.client.publishAsync('x0tta6bl4/lab/old/state', JSON.stringify({ v: 99, fleet: 'lab', node: 'old', state: 'online' }), { retain: true, qos: 1 });
    await watch.client.publishAsync('x0tta6bl4/lab/liar/state', JSON.stringify({ v: 1, fleet: 'lab', node: 'n1', state: 'offline' }), { retain: true, qos: 1 });
  } finally {
    await watch.close();
  }
});
test.after(async () => {
  for (const a of agents) await a.stop();
  await broker.stop();
  exitIfStuck('fleet.test.ts');
});

test('--json: one document with every node of the fleet, the killed one offline (lost)', async () => {
  const r = await run({ broker: broker.url, fleet: 'lab', json: true, wait: 2 });
  assert.is(r.code, 0);
  const doc = JSON.parse(r.out) as { v: number; fleet: string; nodes: FleetNode[]; ignored: number };
  assert.is(doc.v, 1);
  assert.equal(doc.nodes.map((n) => n.node), ['n1', 'n2', 'n3', 'n4']);
  const [n1, n2, n3, n4] = doc.nodes as [FleetNode, FleetNode, FleetNode, FleetNode];
  assert.is(n1.online, true);
  assert.is(n1.gateway, '02:00:00:00:00:03');
  assert.is(n1.neighbours, 3);
  assert.is(n1.health, 'ok');
  assert.ok(n1.lastSeen && Date.now() - Date.parse(n1.lastSeen) < 3600_000);
  assert.is(n2.neighbours, 1);
  assert.is(n2.health, 'degraded');
  assert.equal(n2.problems, ['mesh']);
  assert.is(n3.online, false);
  assert.is(n3.stateReason, 'lost');
  assert.is(n3.neighbours, 3, 'the last telemetry of a dead node stays visible');
  assert.is(n4.online, false);
  assert.is(n4.stateReason, 'stopped');
  assert.is(doc.ignored, 3, 'junk, an unknown version and a payload naming another node are ignored');
});

test('--once: a table; without --fleet every fleet, names qualified', async () => {
  const r = await run({ broker: broker.url, once: true, wait: 2 });
  assert.is(r.code, 0);
  const lines = r.out.trimEnd().split('\n');
  assert.match(lines[0]!, /^NODE\s+ONLINE\s+GATEWAY\s+NEIGH\s+HEALTH\s+LAST SEEN/);
  assert.match(r.out, /^lab\/n1\s+yes\s+02:00:00:00:00:03\s+3\s+ok\s+\d+s ago/m);
  assert.match(r.out, /^lab\/n3\s+NO \(lost\)/m);
  assert.match(r.out, /^other\/m1\s+yes/m);
  assert.match(r.out, /^5 node\(s\), 3 online$/m);
});

test('live: draws the table when something arrives, ends cleanly on the stop signal', async () => {
  let out = '';
  let stop!: (s: string) => void;
  const stopped = new Promise<string>((r) => (stop = r));
  const running = fleetCommand.run({ flags: { broker: broker.url, fleet: 'lab' }, positionals: [], io: { out: (t) => (out += t), err: () => {} }, stopSignal: stopped });
  try {
    await until(() => out.includes('4 node(s), 2 online'), 'the live table');
  } finally {
    stop('SIGINT');
  }
  assert.is(await running, 0);
});

test('bad arguments and an unreachable or misconfigured broker are one clear line', async () => {
  const fails = async (flags: FlagValues, cls: typeof UsageError | typeof UserError, text: string | RegExp) => {
    try {
      await run(flags);
    } catch (e) {
      assert.instance(e, cls, String(e));
      assert.match((e as Error).message, text);
      return;
    }
    assert.unreachable(`expected ${cls.name}`);
  };
  await fails({}, UsageError, 'needs --broker');
  await fails({ broker: broker.url, fleet: 'a/b' }, UsageError, 'cannot be an MQTT topic level');
  // A broker URL that can never work is bad usage (exit 2), like any other bad flag.
  await fails({ broker: 'mqtt://broker.example.net' }, UsageError, 'refusing plaintext MQTT');
  await fails({ broker: 'http://x' }, UsageError, 'scheme must be mqtt:// or mqtts://');
  await fails({ broker: broker.url, wait: -1, json: true }, UsageError, '--wait');
  await fails({ broker: `mqtt://127.0.0.1:${await freePort()}`, json: true }, UserError, /connection refused/);
});

test('the view sanitises what it shows: no terminal escapes from the bus', () => {
  const v = new FleetView();
  v.update('x0tta6bl4/f/n/state', Buffer.from(JSON.stringify({ v: 1, fleet: 'f', node: 'n', state: 'online', reason: 'connected', version: '\x1b[2J1.0' })));
  assert.is(v.nodes()[0]!.version, '?[2J1.0');
  assert.not.match(renderFleetTable(v.nodes(), Date.now()), '\x1b');
  assert.is(v.update('x0tta6bl4/f/n/state', Buffer.alloc(0)), true, 'an empty retained message clears the node');
  assert.is(v.nodes().length, 0);
});

test.run();
