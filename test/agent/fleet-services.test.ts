// The whole agent with its fleet parts switched on in UCI terms: telemetry to a real mosquitto,
// learning on the loaded WASM core, a federation that cannot start (no certificate). Checks
// that each part reaches /health, /status and /metrics, and that a failing part does not stop
// the rest. The mesh is the simulator (no batman-adv kernel in this test).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '../../src/agent/create-agent.ts';
import { defaultConfig } from '../../src/config/index.ts';
import { loadCore } from '../../src/core/index.ts';
import { SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { Subscriber, until, exitIfStuck } from '../telemetry/subscriber.ts';

test('telemetry, learning and a failing federation, each visible; the agent runs on', async () => {
  const broker = await Mosquitto.start();
  const dir = mkdtempSync(join(tmpdir(), 'x0-fleet-'));
  const world = new SimulatedMesh({ seed: 7, nodes: 3, topology: 'chain' });
  world.step(30_000);
  const config = defaultConfig();
  config.agent.nodeName = 'n1';
  config.agent.fleet = 'lab';
  config.agent.stateDir = dir; // no node certificate here: the federation must refuse to start
  config.healing.enabled = false;
  config.telemetry.enabled = true;
  config.telemetry.broker = `mqtt://127.0.0.1:${broker.port}`;
  config.telemetry.intervalS = 5;
  config.learning.enabled = true;
  config.learning.dpClipNorm = 0.5;
  config.learning.dpNoiseMultiplier = 1.25;
  config.federation.enabled = true;
  config.federation.listen = ['/ip4/127.0.0.1/tcp/0'];
  const core = await loadCore();
  const agent = createAgent({ config, driver: world.driver(0), serveStatus: false, core });
  const sub = await Subscriber.connect(`mqtt://127.0.0.1:${broker.port}`, ['x0tta6bl4/lab/n1/#']);
  try {
    await agent.start();
    const component = (name: string) => agent.health().components.find((c) => c.name === name);
    await until(() => component('telemetry')?.state === 'ok', 'telemetry ok');
    await until(() => sub.on('x0tta6bl4/lab/n1/state').some((m) => JSON.parse(m.text).state === 'online'), 'retained online state');

    assert.is(component('federation')?.state, 'down');
    assert.match(component('federation')!.reason, /could not start/);
    assert.is(component('learning')?.state, 'ok');
    assert.match(component('learning')!.reason, /local data only/);

    await agent.tick();
    const s = agent.status();
    assert.ok(s.learning && (s.learning as { schema?: number }).schema === 1, 'learning block in /status');
    // learning.dp_* from UCI reach the learner and are reported
    const dp = (s.learning as { privacy: { dp: { clipNorm: number; noiseMultiplier: number } | null } }).privacy.dp;
    assert.equal([dp?.clipNorm, dp?.noiseMultiplier], [0.5, 1.25]);
    assert.ok(s.telemetry, 'telemetry block in /status');
    assert.is(s.federation, null);
    assert.ok(s.mesh.neighbours.length > 0, 'the mesh is still watched');
    const metrics = agent.metrics();
    assert.match(metrics, /^x0tta6bl4_learning_dp_noise_multiplier\{[^}]*\} 1\.25$/m);
    assert.match(metrics, /^x0tta6bl4_telemetry_/m);

    await agent.stop();
    await until(
      () => sub.on('x0tta6bl4/lab/n1/state').some((m) => JSON.parse(m.text).reason === 'stopped'),
      'retained offline/stopped after stop()',
    );
  } finally {
    sub.client.end(true);
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(() => exitIfStuck('fleet-services.test.ts'));
test.run();
