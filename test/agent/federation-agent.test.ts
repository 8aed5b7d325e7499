// Two whole agents with federation on (UCI terms), certified by one test fleet CA, on loopback
// sockets: each admits the other, and `x0tta6bl4 peers` shows it through the status socket.
// The meshes are simulated (no batman-adv kernel here); the libp2p side is real.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { Agent } from '../../src/agent/agent.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import { defaultConfig } from '../../src/config/index.ts';
import { SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { FLEET, TestFleet, until } from '../federation/fleet-harness.ts';
import { freePort } from '../telemetry/mosquitto.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

// Asynchronous: the agent answering the CLI lives in this process's event loop.
function peersCli(socket: string, args: string[] = []): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'peers', '--socket', socket, ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

test('two agents admit each other; /status, /metrics and `peers` show it', async () => {
  const fleet = new TestFleet('agents');
  const world = new SimulatedMesh({ seed: 3, nodes: 2, topology: 'chain' });
  world.step(10_000);
  const agents: Agent[] = [];
  try {
    const a = await fleet.prepare('a');
    const b = await fleet.prepare('b');
    const portA = await freePort();
    const make = (name: string, stateDir: string, listen: string, peers: string[], i: number) => {
      const c = defaultConfig();
      c.agent.nodeName = name;
      c.agent.fleet = FLEET;
      c.agent.stateDir = stateDir;
      c.healing.enabled = false;
      c.status.socket = join(stateDir, 'status.sock');
      c.federation.enabled = true;
      c.federation.listen = [listen];
      c.federation.peers = peers;
      return createAgent({ config: c, driver: world.driver(i) });
    };
    const dirA = join(fleet.root, 'a');
    const dirB = join(fleet.root, 'b');
    agents.push(make('a', dirA, `/ip4/127.0.0.1/tcp/${portA}`, [], 0));
    agents.push(make('b', dirB, '/ip4/127.0.0.1/tcp/0', [`/ip4/127.0.0.1/tcp/${portA}/p2p/${a.peerId}`], 1));
    for (const x of agents) await x.start();

    const peersOf = (x: Agent) => ((x.status().federation as { peers?: { peerId: string }[] } | null)?.peers ?? []).map((p) => p.peerId);
    await until('a admits b and b admits a', () => peersOf(agents[0]!).includes(b.peerId) && peersOf(agents[1]!).includes(a.peerId), 60_000);
    const health = agents[0]!.health().components.find((c) => c.name === 'federation');
    assert.ok(health && health.state !== 'down' && health.state !== 'disabled', `federation health: ${JSON.stringify(health)}`);
    assert.match(agents[0]!.metrics(), /^x0tta6bl4_federation_peers_admitted\S* 1$/m);

    const text = await peersCli(join(dirA, 'status.sock'));
    assert.is(text.status, 0, text.stderr);
    assert.ok(text.stdout.includes(b.peerId), text.stdout);
    assert.match(text.stdout, /admitted/);
    // no bat0 on this machine: discovery says it is not running there, and why
    assert.match(text.stdout, /^mDNS on bat0 (waiting|down): \S.*\(0 peers found\)$/m);
    const json = await peersCli(join(dirA, 'status.sock'), ['--json']);
    assert.is(json.status, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).peers.map((p: { peerId: string }) => p.peerId), [b.peerId]);
  } finally {
    for (const x of agents) await x.stop().catch(() => {});
    rmSync(fleet.root, { recursive: true, force: true });
  }
});

test('peers: federation off → exit 4 with the reason', async () => {
  const world = new SimulatedMesh({ seed: 3, nodes: 2, topology: 'chain' });
  const fleet = new TestFleet('off');
  const c = defaultConfig();
  c.agent.nodeName = 'solo';
  c.healing.enabled = false;
  c.status.socket = join(fleet.root, 'status.sock');
  const agent = createAgent({ config: c, driver: world.driver(0) });
  await agent.start();
  try {
    const r = await peersCli(c.status.socket);
    assert.is(r.status, 4, r.stderr);
    assert.match(r.stdout, /federation is not running: disabled/);
  } finally {
    await agent.stop();
    rmSync(fleet.root, { recursive: true, force: true });
  }
});

test.run();
