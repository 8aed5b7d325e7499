// The one way from config to components: each mapper turns its section (UCI seconds, empty
// meaning "the default") into the options its component takes, and createAgent fills in what a
// caller leaves out as a router has it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '../../src/agent/create-agent.ts';
import { healerOptions, monitorOptions, type HealerParts } from '../../src/agent/healing-options.ts';
import { Knowledge } from '../../src/mapek/knowledge.ts';
import { learningOptions } from '../../src/agent/learning-options.ts';
import { silentLogger } from '../../src/agent/logger.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import type { Core } from '../../src/core/index.ts';
import type { MeshDriver } from '../../src/mesh/driver.ts';
import { SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { telemetryOptions } from '../../src/telemetry/agent-telemetry.ts';

const parts = (driver: MeshDriver): HealerParts => ({
  driver,
  run: async () => ({ code: 0, stdout: '', stderr: '' }),
  knowledge: new Knowledge(),
  log: silentLogger,
  now: () => 0,
  uptimeMs: () => 0,
  random: () => 0,
  score: null,
});

test('healerOptions and monitorOptions: seconds become milliseconds; journal and gateway probe by driver', () => {
  const config = defaultConfig();
  config.agent.stateDir = '/tmp/x0-state';
  config.healing.cooldownS = 120;
  config.healing.verifyWindowS = 10;
  config.healing.fastOrigIntervalS = 0.25;
  config.healing.intervalS = 1.5;
  const world = new SimulatedMesh({ seed: 1, nodes: 2, topology: 'chain' });
  const simulated = healerOptions(config, parts(world.driver(0)));
  assert.is(simulated.plan.defaultCooldownMs, 120_000);
  assert.is(simulated.execute.verifyWindowMs, 10_000);
  assert.is(simulated.fastOrigIntervalMs, 250);
  assert.is(simulated.journalPath, null, 'a simulated mesh keeps its journal in memory');
  assert.is(simulated.gatewayProbe, null, 'no batctl on a simulated mesh');
  const router = healerOptions(config, parts({ kind: 'batman-adv' } as MeshDriver));
  assert.is(router.journalPath, '/tmp/x0-state/journal.json');
  assert.is(router.gatewayProbe !== null, config.healing.gatewayProbe);
  assert.is(healerOptions(config, { ...parts({ kind: 'batman-adv' } as MeshDriver), journalPath: null }).journalPath, null, "the caller's choice wins");
  assert.is(monitorOptions(config, {}).intervalMs, 1500);
});

test('learningOptions: seconds, the rule name and the privacy settings', () => {
  const config = defaultConfig();
  config.learning.roundIntervalS = 60;
  config.learning.dpClipNorm = 0.5;
  config.learning.dpNoiseMultiplier = 1.25;
  const options = learningOptions(config, { core: {} as Core, transport: null });
  assert.is(options.roundIntervalMs, 60_000);
  assert.equal(options.learner?.dp, { clipNorm: 0.5, noiseMultiplier: 1.25, cohort: 1 });
  assert.not.match(String(options.learner?.aggregation?.rule), '_');
});

test('telemetryOptions: everything from config.telemetry; trust domain and CRL as the federation has them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'x0-options-'));
  try {
    const config = defaultConfig();
    config.agent.fleet = 'Lab';
    config.agent.stateDir = dir;
    config.telemetry.broker = 'mqtts://broker.lab:8883';
    config.telemetry.bufferLimit = 50;
    config.telemetry.bufferWriteIntervalS = 30;
    config.telemetry.allowPlaintext = true;
    const options = telemetryOptions(config, 'n1');
    assert.equal(
      [options.node, options.fleet, options.bufferLimit, options.bufferWriteIntervalS, options.allowPlaintext],
      ['n1', 'Lab', 50, 30, true],
    );
    assert.is(options.trustDomain, 'lab.x0tta6bl4');
    assert.is(options.crlFile, join(dir, 'fleet.crl'));
    assert.is(options.commandCaFile, undefined, 'no fleet CA in state_dir: commands are refused');
    assert.not.ok('username' in options || 'bufferFile' in options, 'empty options stay unset');
    writeFileSync(join(dir, 'fleet-ca.pem'), '');
    assert.is(telemetryOptions(config, 'n1').commandCaFile, join(dir, 'fleet-ca.pem'));
    config.telemetry.commandCaFile = '/etc/x0/ca.pem';
    assert.is(telemetryOptions(config, 'n1').commandCaFile, '/etc/x0/ca.pem');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('createAgent: a caller passes only what it changes', async () => {
  const world = new SimulatedMesh({ seed: 1, nodes: 2, topology: 'chain' });
  const config = defaultConfig();
  config.agent.nodeName = 'n1';
  const agent = createAgent({ config, driver: world.driver(0), serveStatus: false, manualLoop: true });
  const health = Object.fromEntries(agent.health().components.map((c) => [c.name, c]));
  assert.is(health.core?.state, 'down', 'no core given: it did not load');
  assert.is(health.config?.state, 'ok');
  assert.ok(health.privileges, 'privileges are read for /health');
  assert.is(agent.name, 'n1');
  await agent.stop();
});

test.run();
