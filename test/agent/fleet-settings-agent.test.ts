// Fleet settings (signed by the fleet CA) in whole agents, on loopback libp2p: a setting file
// in A's state_dir is in force from A's start (options read only at start included); B, started
// without it, hears it over the federation — a federation option applies at once, a start-time
// option is kept for the next start — and after a restart B has them all from its own copy.
// A setting signed by another CA is ignored. The meshes are simulated (no batman-adv here).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/agent.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { defaultConfig } from '../../src/config/index.ts';
import type { AgentConfig } from '../../src/config/schema.ts';
import { signSetting } from '../../src/federation/pki-issue.ts';
import { SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { FLEET, TestFleet, until } from '../federation/fleet-harness.ts';
import { freePort } from '../telemetry/mosquitto.ts';

test('fleet settings: in force from the start, heard live, kept for the next start; a foreign CA is ignored', async () => {
  const fleet = new TestFleet('agent-settings');
  const stranger = new TestFleet('agent-settings-stranger');
  const world = new SimulatedMesh({ seed: 5, nodes: 2, topology: 'chain' });
  world.step(10_000);
  const logs: string[] = [];
  const agents: Agent[] = [];
  try {
    const a = await fleet.prepare('a');
    await fleet.prepare('b'); // B's key and certificate
    const dirA = join(fleet.root, 'a');
    const dirB = join(fleet.root, 'b');
    const settingsA = join(dirA, 'fleet-settings');
    mkdirSync(settingsA, { recursive: true });
    const put = (issuer: TestFleet, name: string, value: string) =>
      writeFileSync(join(settingsA, `${name}.setting`), signSetting({ caKey: issuer.ca.key, fleet: FLEET, name, value }));
    put(fleet, 'healing.cooldown', '300'); // read only at start
    put(fleet, 'federation.rate_limit', '7'); // the running federation takes it
    put(stranger, 'healing.hold', '999'); // not our CA
    const portA = await freePort();
    const make = (name: string, dir: string, listen: string, peers: string[], i: number): { agent: Agent; config: AgentConfig } => {
      const c = defaultConfig();
      c.agent.nodeName = name;
      c.agent.fleet = FLEET;
      c.agent.stateDir = dir;
      c.healing.enabled = false;
      c.federation.enabled = true;
      c.federation.mdns = false;
      c.federation.listen = [listen];
      c.federation.peers = peers;
      const log = createLogger('info', (l) => logs.push(`${name} ${l}`));
      const agent = createAgent({ config: c, driver: world.driver(i), log, serveStatus: false });
      agents.push(agent);
      return { agent, config: c };
    };
    const A = make('a', dirA, `/ip4/127.0.0.1/tcp/${portA}`, [], 0);
    assert.is(A.config.healing.cooldownS, 300, 'in force before any part started');
    assert.is(A.config.federation.ratePerSecond, 7);
    assert.is(A.config.healing.holdS, 120, 'a setting signed by another CA is ignored');
    assert.ok(logs.some((l) => /fleet setting ignored: .*healing\.hold\.setting/.test(l)), logs.join('\n'));
    await A.agent.start();

    const peerA = `/ip4/127.0.0.1/tcp/${portA}/p2p/${a.peerId}`;
    const B = make('b', dirB, '/ip4/127.0.0.1/tcp/0', [peerA], 1);
    assert.equal([B.config.healing.cooldownS, B.config.federation.ratePerSecond], [120, 20], 'B starts with its own values');
    await B.agent.start();
    const eventsB = () => B.agent.status().events.map((e) => e.message);
    await until('B hears both settings', () => eventsB().filter((m) => m.startsWith('fleet setting')).length >= 2, 60_000);
    assert.ok(eventsB().includes('fleet setting federation.rate_limit = 7 applied (signed by the fleet CA)'), eventsB().join('\n'));
    assert.is(B.config.federation.ratePerSecond, 7, 'a federation option applies while running');
    assert.ok(eventsB().some((m) => m.startsWith('fleet setting healing.cooldown = 300 adopted') && m.endsWith('takes effect at the next start of the agent')), eventsB().join('\n'));
    assert.is(B.config.healing.cooldownS, 120, 'a start-time option is not pretended applied');
    assert.not.ok(eventsB().some((m) => m.includes('healing.hold')), 'the foreign setting did not travel');

    await B.agent.stop();
    agents.pop();
    const B2 = make('b', dirB, '/ip4/127.0.0.1/tcp/0', [peerA], 1);
    assert.equal([B2.config.healing.cooldownS, B2.config.federation.ratePerSecond], [300, 7], 'B kept its copy and starts with the fleet values');
    assert.is(B2.config.healing.holdS, 120);
  } finally {
    for (const x of agents) await x.stop().catch(() => {});
    rmSync(fleet.root, { recursive: true, force: true });
    rmSync(stranger.root, { recursive: true, force: true });
  }
});

test.run();
