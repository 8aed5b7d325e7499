// The seed link-failure model (UCI learning.initial_model): the loader refuses hostile files with
// the reason (decoys in a scratch directory, never a system file), and an agent started with the
// shipped seed (bench/heal/link-model.json) answers failure probabilities as soon as its feature
// windows are full (30 polls), where without it the model has no version and answers nothing
// until its first round (300 s).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent } from '../../src/agent/create-agent.ts';
import { createLogger } from '../../src/agent/logger.ts';
import type { Agent } from '../../src/agent/agent.ts';
import { loadCore } from '../../src/core/index.ts';
import { FEATURE_COUNT } from '../../src/learning/features.ts';
import { readSeedModel, SEED_MAX_BYTES } from '../../src/learning/seed-model.ts';
import { IDEAL_LINK_MODEL, SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { simulatedHost } from '../../src/mapek/sim-host.ts';
import { healingConfig, SPLIT_DIAMOND } from '../mapek/sim-agent.ts';

const SHIPPED = new URL('../../bench/heal/link-model.json', import.meta.url);
const good = JSON.parse(readFileSync(SHIPPED, 'utf8')) as Record<string, unknown>;
const SPEC = { kind: 'mlp' as const, features: FEATURE_COUNT, hidden: 8 };
const SIZE = 8 * FEATURE_COUNT + 2 * 8 + 1;
const dir = mkdtempSync(join(tmpdir(), 'x0-seed-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const core = await loadCore();

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the shipped seed loads: this agent\'s model shape, a base rate', () => {
  const s = readSeedModel(file('good.json', JSON.stringify(good)), SPEC, SIZE);
  assert.is(s.params.length, 8 * FEATURE_COUNT + 2 * 8 + 1);
  assert.ok(s.baseRate > 0 && s.baseRate < 0.9);
});

test('hostile or broken files are refused with the reason', () => {
  const params = good.params as number[];
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"format": "x0tta6bl4-link-model", ', /not JSON/],
    ['NaN literal', JSON.stringify(good).replace(String(params[0]), 'NaN'), /not JSON/],
    ['JSON null', 'null', /not x0tta6bl4-link-model version 1/],
    ['wrong format', JSON.stringify({ ...good, format: 'onnx' }), /not x0tta6bl4-link-model/],
    ['wrong version', JSON.stringify({ ...good, version: 2 }), /version 1/],
    ['other feature count', JSON.stringify({ ...good, spec: { kind: 'mlp', features: FEATURE_COUNT - 1, hidden: 8 } }), /spec not/],
    ['other hidden size', JSON.stringify({ ...good, spec: { kind: 'mlp', features: FEATURE_COUNT, hidden: 4 } }), /spec not/],
    ['params one short', JSON.stringify({ ...good, params: params.slice(1) }), /params: need 113 numbers/],
    ['params not an array', JSON.stringify({ ...good, params: 'abc' }), /params: need/],
    ['Infinity (1e999)', JSON.stringify(good).replace(String(params[0]), '1e999'), /params: need 113 numbers within/],
    ['huge value', JSON.stringify({ ...good, params: params.map((v, i) => (i === 3 ? 1e6 : v)) }), /params: need 113 numbers within/],
    ['a string param', JSON.stringify({ ...good, params: params.map((v, i) => (i === 3 ? '0.1' : v)) }), /params: need 113 numbers within/],
    ['no base rate', JSON.stringify({ ...good, baseRate: undefined }), /baseRate not in/],
    ['base rate 1', JSON.stringify({ ...good, baseRate: 1 }), /baseRate not in/],
    ['too big', JSON.stringify(good) + ' '.repeat(SEED_MAX_BYTES), /more than the 64 KiB/],
  ];
  for (const [name, text, why] of cases) {
    assert.throws(() => readSeedModel(file(`${name.replace(/\W/g, '_')}.json`, text), SPEC, SIZE), why, name);
  }
  assert.throws(() => readSeedModel(join(dir, 'missing.json'), SPEC, SIZE), /no such file/);
  mkdirSync(join(dir, 'a-dir'));
  assert.throws(() => readSeedModel(join(dir, 'a-dir'), SPEC, SIZE), /is a directory, not a regular file/);
  // a FIFO with no writer would block a plain open or read forever
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  assert.throws(() => readSeedModel(join(dir, 'fifo'), SPEC, SIZE), /not a regular file/);
});

async function agentWith(initialModel: string, lines: string[]): Promise<{ world: SimulatedMesh; agent: Agent }> {
  const world = new SimulatedMesh({ seed: 3, topology: SPLIT_DIAMOND, linkModel: IDEAL_LINK_MODEL, nodeNames: ['n1', 'n2', 'n3', 'n4'], settings: (n) => ({ gwMode: n === 3 ? 'server' : 'client' }) });
  world.step(90_000);
  const config = healingConfig((c) => {
    c.learning.enabled = true;
    c.learning.initialModel = initialModel;
  });
  config.agent.nodeName = 'n1';
  const agent = createAgent({
    config, configSource: 'test', driver: world.driver(0), serveStatus: false, manualLoop: true, host: simulatedHost(world, 0),
    now: () => world.nowMs, uptimeMs: () => 3_600_000 + world.nowMs, random: () => 0.5, core, journalPath: null,
    log: createLogger('info', (l) => lines.push(l)),
  });
  await agent.start();
  return { world, agent };
}

// The agent's fleet part is private; the analysis reads the same function (agent.ts).
const probabilities = (a: Agent) => (a as unknown as { fleet: { failureProbabilities(): Map<string, number> } }).fleet.failureProbabilities();

test('an agent started with the seed answers failure probabilities from the first poll with full feature windows', async () => {
  const lines: string[] = [];
  const { world, agent } = await agentWith(file('seed.json', JSON.stringify(good)), lines);
  try {
    let polls = 0;
    for (;;) {
      world.step(1000);
      await agent.tick();
      const filled = Math.min(...agent.knowledge.linkStatus().map((l) => l.history.length));
      // the windows of the model's features are 30 polls (FeatureTracker's default)
      assert.is(probabilities(agent).size > 0, filled >= 30, `poll ${++polls}: windows ${filled}`);
      if (filled >= 30) break;
    }
    assert.ok(polls <= 30, `answers after ${polls} polls`);
    const p = probabilities(agent);
    assert.is(p.size, 2, 'n1 has two links on the diamond');
    for (const v of p.values()) assert.ok(v > 0 && v < 0.5, `a healthy ideal link is not predicted dead: ${v}`);
    const learning = agent.status().learning as { modelVersion: number; initialModel?: string };
    assert.is(learning.modelVersion, 1);
    assert.is(learning.initialModel, 'loaded');
    assert.is(agent.healthBoard.get('learning')?.state, 'ok');
    assert.equal(lines.filter((l) => /initial_model/.test(l)), []);
  } finally {
    await agent.stop();
  }
});

test('an agent with a bad seed file starts without one: one log line, learning degraded with the reason', async () => {
  const lines: string[] = [];
  const bad = file('bad.json', JSON.stringify({ ...good, spec: { kind: 'mlp', features: 7, hidden: 8 } }));
  const { world, agent } = await agentWith(bad, lines);
  try {
    for (let i = 0; i < 31; i++) {
      world.step(1000);
      await agent.tick();
    }
    assert.is(probabilities(agent).size, 0, 'no model yet: nothing predicted');
    const h = agent.healthBoard.get('learning');
    assert.is(h?.state, 'degraded');
    assert.match(h?.reason ?? '', /initial_model .*bad\.json refused \(spec not/);
    assert.is(lines.filter((l) => /initial_model/.test(l)).length, 1, lines.join('\n'));
    const learning = agent.status().learning as { modelVersion: number; initialModel?: string };
    assert.is(learning.modelVersion, 0);
    assert.is(learning.initialModel, 'refused');
  } finally {
    await agent.stop();
  }
});

test.run();
