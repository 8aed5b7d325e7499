// Two traced routers for the cross-router tracing tests: a real mosquitto carries the operator's
// signed commands, real libp2p sockets on 127.0.0.1 carry the federation, and one OTLP receiver
// decodes what both routers export. Router a listens, router b dials it. The meshes are
// simulated (no batman-adv kernel here); everything else is real.
import { generateKeyPairSync, type KeyPairKeyObjectResult } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/agent.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import { defaultConfig, type AgentConfig } from '../../src/config/index.ts';
import type { Core } from '../../src/core/index.ts';
import { issueOperatorCertificate, rawEd25519 } from '../../src/federation/pki-issue.ts';
import { SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { FLEET, TestFleet, TRUST_DOMAIN, until } from '../federation/fleet-harness.ts';
import { freePort, Mosquitto } from '../telemetry/mosquitto.ts';
import { Subscriber } from '../telemetry/subscriber.ts';
import { OtlpReceiver, attrs, type DecodedSpan } from './otlp-receiver.ts';

export type RouterName = 'a' | 'b';

export interface TracedFleet {
  broker: Mosquitto;
  recv: OtlpReceiver;
  fleet: TestFleet;
  world: SimulatedMesh;
  /** The operator's key and its certificate from the fleet CA, to sign commands with. */
  ops: KeyPairKeyObjectResult;
  opsCert: string;
  /** Subscribed to every command reply and every router's state. */
  sub: Subscriber;
  /** Every agent created so far (stopped by closeTracedFleet, started or not). */
  agents: Agent[];
}

export interface TracedPair {
  a: { peerId: string };
  b: { peerId: string };
  agentA: Agent;
  agentB: Agent;
}

/** Broker, receiver, fleet CA, operator certificate and subscriber; no routers yet. */
export async function openTracedFleet(name: string, seed: number): Promise<TracedFleet> {
  const broker = await Mosquitto.start();
  const recv = await OtlpReceiver.start();
  const fleet = new TestFleet(name);
  const world = new SimulatedMesh({ seed, nodes: 2, topology: 'chain' });
  world.step(10_000);
  const ops = generateKeyPairSync('ed25519');
  const opsCert = issueOperatorCertificate({
    ca: fleet.ca.cert, caKey: fleet.ca.key, operatorKey: rawEd25519(ops.publicKey),
    spiffeId: `spiffe://${TRUST_DOMAIN}/operator/ops`, commonName: 'ops', days: 1,
  }).pem;
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/test/+/cmd/+/reply', 'x0tta6bl4/test/+/state']);
  return { broker, recv, fleet, world, ops, opsCert, sub, agents: [] };
}

/**
 * Starts routers a and b with federation, telemetry and tracing (every span sampled) on;
 * `tweak` sets what the test needs beyond that. Resolves once they admit each other and both
 * are online on the broker.
 */
export async function startTracedPair(
  t: TracedFleet,
  tweak: (c: AgentConfig, name: RouterName) => void,
  opts: { core?: Core } = {},
): Promise<TracedPair> {
  const a = await t.fleet.prepare('a');
  const b = await t.fleet.prepare('b');
  const portA = await freePort();
  const make = (name: RouterName, listen: string, peers: string[], i: number) => {
    const c = defaultConfig();
    c.agent.nodeName = name;
    c.agent.fleet = FLEET;
    c.agent.stateDir = join(t.fleet.root, name); // its fleet-ca.pem also checks the operator's commands
    c.healing.enabled = false;
    c.federation = { ...c.federation, enabled: true, listen: [listen], peers, trustDomain: TRUST_DOMAIN };
    c.telemetry = { ...c.telemetry, enabled: true, broker: t.broker.url, intervalS: 5 };
    c.tracing = { ...c.tracing, enabled: true, endpoint: t.recv.url, sampleRatio: 1 };
    tweak(c, name);
    const agent = createAgent({ config: c, driver: t.world.driver(i), serveStatus: false, ...(opts.core ? { core: opts.core } : {}) });
    t.agents.push(agent);
    return agent;
  };
  const agentA = make('a', `/ip4/127.0.0.1/tcp/${portA}`, [], 0);
  const agentB = make('b', '/ip4/127.0.0.1/tcp/0', [`/ip4/127.0.0.1/tcp/${portA}/p2p/${a.peerId}`], 1);
  for (const x of t.agents) await x.start();
  const peersOf = (x: Agent) => ((x.status().federation as { peers?: { peerId: string }[] } | null)?.peers ?? []).map((p) => p.peerId);
  await until('a and b admit each other', () => peersOf(agentA).includes(b.peerId) && peersOf(agentB).includes(a.peerId), 90_000);
  await until('both online on the broker', () => t.sub.on('x0tta6bl4/test/a/state').length > 0 && t.sub.on('x0tta6bl4/test/b/state').length > 0, 60_000);
  return { a: { peerId: a.peerId }, b: { peerId: b.peerId }, agentA, agentB };
}

/** Stops every agent (which flushes its tracer), then the subscriber, broker and receiver. */
export async function closeTracedFleet(t: TracedFleet): Promise<void> {
  for (const x of t.agents) await x.stop().catch(() => {});
  t.sub.client.end(true);
  await t.broker.stop();
  await t.recv.close();
  rmSync(t.fleet.root, { recursive: true, force: true });
}

/** Every span received, with the host.name of the agent that exported it. */
export function spansByHost(recv: OtlpReceiver): (DecodedSpan & { host: string })[] {
  return recv.posts.flatMap((p) =>
    (p.request?.resourceSpans ?? []).flatMap((rs) => {
      const host = String(attrs(rs.resource.attributes)['host.name']);
      return rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, host })));
    }),
  );
}
