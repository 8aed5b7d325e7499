// Signed fleet commands end to end into a whole agent: a real mosquitto, the agent started from
// its config with telemetry on, commands signed by an operator certified by the fleet CA in
// <state_dir>/fleet-ca.pem. Checks what the agent does with them (the loop's dry run, a healing
// action on the mesh, a refused restart-only option), not only the replies. The mesh is the
// simulator (no batman-adv kernel in this test); telemetry/commands.test.ts covers the
// refusals of forged, replayed and malformed commands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '../../src/agent/create-agent.ts';
import { defaultConfig } from '../../src/config/index.ts';
import { simulatedHost } from '../../src/mapek/sim-host.ts';
import { SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { signCommand } from '../../src/telemetry/command-envelope.ts';
import type { ReplyPayload } from '../../src/telemetry/payloads.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { TestPki } from '../telemetry/pki.ts';
import { Subscriber, until, exitIfStuck } from '../telemetry/subscriber.ts';

test('signed dry-run, run-action and set reach the agent and change what it does', async () => {
  const broker = await Mosquitto.start();
  const dir = mkdtempSync(join(tmpdir(), 'x0-fleet-cmd-'));
  const pki = new TestPki(dir);
  const ca = pki.issue('fleet-ca', { ca: true });
  const ops = pki.issue('ops', { issuer: ca, keyType: 'ed25519', san: 'URI:spiffe://lab.x0tta6bl4/operator/ops' });
  copyFileSync(ca.certFile, join(dir, 'fleet-ca.pem'));
  const world = new SimulatedMesh({ seed: 3, nodes: 3, topology: 'chain' });
  world.step(30_000);
  const config = defaultConfig();
  config.agent.nodeName = 'n1';
  config.agent.fleet = 'lab';
  config.agent.stateDir = dir;
  config.telemetry = { ...config.telemetry, enabled: true, broker: broker.url, intervalS: 5 };
  const driver = world.driver(0);
  const agent = createAgent({
    config, driver, serveStatus: false,
    host: simulatedHost(world, 0),
    uptimeMs: () => 3_600_000, // past the boot grace
    random: () => 0, // no start-up delay
  });
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/n1/cmd/+/reply', 'x0tta6bl4/lab/n1/state']);
  const send = async (cmd: string, args: string[] = []): Promise<ReplyPayload> => {
    const topic = `x0tta6bl4/lab/n1/cmd/${cmd}/reply`;
    const before = sub.on(topic).length;
    const env = signCommand({ fleet: 'lab', node: 'n1', cmd, args, key: ops.keyPem, cert: ops.certPem });
    await sub.client.publishAsync(`x0tta6bl4/lab/n1/cmd/${cmd}`, JSON.stringify(env), { qos: 1 });
    await until(() => sub.on(topic).length > before, `a reply to ${cmd}`);
    return sub.json<ReplyPayload>(topic)[before]!;
  };
  try {
    await agent.start();
    await until(() => agent.healthBoard.get('telemetry')?.state === 'ok', 'telemetry ok');
    await until(() => sub.on('x0tta6bl4/lab/n1/state').length > 0, 'online state (command subscription in place)');
    const interval0 = (await driver.settings()).origIntervalMs;
    assert.is(interval0, 1000, 'batman-adv default orig_interval before any action');

    const on = await send('dry-run', ['on']);
    assert.ok(on.ok, on.error);
    assert.is(agent.status().healing?.dryRun, true, 'the loop plans without acting');
    const dry = await send('run-action', ['orig-interval']);
    assert.ok(dry.ok, dry.error);
    assert.equal((dry.result as { dryRun?: boolean }).dryRun, true);
    assert.is((await driver.settings()).origIntervalMs, interval0, 'a dry run leaves the mesh alone');

    const off = await send('dry-run', ['off']);
    assert.ok(off.ok, off.error);
    assert.is(agent.status().healing?.dryRun, false);
    const act = await send('run-action', ['orig-interval']);
    assert.ok(act.ok, act.error);
    assert.is((await driver.settings()).origIntervalMs, 100, 'the action changed the mesh setting');
    const entry = agent.status().healing?.journal.find((e) => e.action === 'orig-interval' && e.reason === 'operator command over MQTT');
    assert.ok(entry, 'journalled with the operator as its reason');

    const unknown = await send('run-action', ['format-flash']);
    assert.is(unknown.code, 'bad-args');
    assert.match(unknown.error ?? '', /unknown action 'format-flash'/);

    // Read only at start: refused with what to do instead, not reported applied and ignored.
    const cooldown = await send('set', ['healing.cooldown', '30']);
    assert.is(cooldown.code, 'failed');
    assert.match(cooldown.error ?? '', /takes effect only when the agent starts: set it with uci/);
    assert.is(config.healing.cooldownS, 120);
    const viaSet = await send('set', ['agent.dry_run', '1']);
    assert.ok(viaSet.ok, viaSet.error);
    assert.is(agent.status().healing?.dryRun, true);

    await agent.stop();
    // the agent closed its driver: read node n1 through a fresh one
    assert.is((await world.driver(0).settings()).origIntervalMs, interval0, 'stop() restored the temporary setting');
  } finally {
    await agent.stop().catch(() => {});
    sub.client.end(true);
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(() => exitIfStuck('fleet-commands.test.ts'));
test.run();
