// One trace id across two federated agents: a real mosquitto carries signed commands, real
// libp2p sockets on 127.0.0.1 carry the federation, and one OTLP receiver decodes what both
// agents export with the official definitions. The operator's `learning-round` command to
// router A carries a W3C traceparent inside its signature; A's round publishes its update with
// the trace context signed into the federation envelope; router B, whose own round was waiting
// for it, counts the update (its learning state changes) and records a span in the operator's
// trace. The meshes are simulated (no batman-adv kernel here); everything else is real.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/agent.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import { defaultConfig } from '../../src/config/index.ts';
import { loadCore } from '../../src/core/index.ts';
import { issueOperatorCertificate, rawEd25519 } from '../../src/federation/pki-issue.ts';
import { SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { signCommand } from '../../src/telemetry/command-envelope.ts';
import type { ReplyPayload } from '../../src/telemetry/payloads.ts';
import { FLEET, TestFleet, TRUST_DOMAIN, until } from '../federation/fleet-harness.ts';
import { freePort, Mosquitto } from '../telemetry/mosquitto.ts';
import { exitIfStuck, Subscriber } from '../telemetry/subscriber.ts';
import { OtlpReceiver, attrs, type DecodedSpan } from './otlp-receiver.ts';

const core = await loadCore();

/** Every span received, with the host.name of the agent that exported it. */
function spansByHost(recv: OtlpReceiver): (DecodedSpan & { host: string })[] {
  return recv.posts.flatMap((p) =>
    (p.request?.resourceSpans ?? []).flatMap((rs) => {
      const host = String(attrs(rs.resource.attributes)['host.name']);
      return rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, host })));
    }),
  );
}

test('a command to router A that changes learning state on router B: spans on both with one trace id', async () => {
  const broker = await Mosquitto.start();
  const recv = await OtlpReceiver.start();
  const fleet = new TestFleet('traced');
  const world = new SimulatedMesh({ seed: 3, nodes: 2, topology: 'chain' });
  world.step(10_000);
  const ops = generateKeyPairSync('ed25519');
  const opsCert = issueOperatorCertificate({
    ca: fleet.ca.cert, caKey: fleet.ca.key, operatorKey: rawEd25519(ops.publicKey),
    spiffeId: `spiffe://${TRUST_DOMAIN}/operator/ops`, commonName: 'ops', days: 1,
  }).pem;
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/test/+/cmd/+/reply', 'x0tta6bl4/test/+/state']);
  const agents: Agent[] = [];
  const traceId = randomBytes(16).toString('hex');
  const operatorSpan = randomBytes(8).toString('hex');
  try {
    const a = await fleet.prepare('a');
    const b = await fleet.prepare('b');
    const portA = await freePort();
    const make = (name: string, listen: string, peers: string[], i: number) => {
      const c = defaultConfig();
      c.agent.nodeName = name;
      c.agent.fleet = FLEET;
      c.agent.stateDir = join(fleet.root, name); // its fleet-ca.pem also checks the operator's commands
      c.healing.enabled = false;
      c.federation = { ...c.federation, enabled: true, listen: [listen], peers, trustDomain: TRUST_DOMAIN };
      c.telemetry = { ...c.telemetry, enabled: true, broker: broker.url, intervalS: 5 };
      // One round a day: both commands below land in the same round. A, still at round 0 when B's
      // update comes, refuses it as too far ahead and closes its round on the timeout.
      c.learning = { ...c.learning, enabled: true, roundIntervalS: 86_400, roundTimeoutS: 20 };
      c.tracing = { ...c.tracing, enabled: true, endpoint: recv.url, sampleRatio: 1 };
      return createAgent({ config: c, driver: world.driver(i), serveStatus: false, core });
    };
    agents.push(make('a', `/ip4/127.0.0.1/tcp/${portA}`, [], 0));
    agents.push(make('b', '/ip4/127.0.0.1/tcp/0', [`/ip4/127.0.0.1/tcp/${portA}/p2p/${a.peerId}`], 1));
    for (const x of agents) await x.start();
    const [agentA, agentB] = agents as [Agent, Agent];
    const peersOf = (x: Agent) => ((x.status().federation as { peers?: { peerId: string }[] } | null)?.peers ?? []).map((p) => p.peerId);
    await until('a and b admit each other', () => peersOf(agentA).includes(b.peerId) && peersOf(agentB).includes(a.peerId), 90_000);
    await until('both online on the broker', () => sub.on('x0tta6bl4/test/a/state').length > 0 && sub.on('x0tta6bl4/test/b/state').length > 0, 60_000);

    const send = async (node: string, trace?: Record<string, string>) => {
      const env = signCommand({ fleet: FLEET, node, cmd: 'learning-round', key: ops.privateKey, cert: opsCert, ...(trace ? { trace } : {}) });
      await sub.client.publishAsync(`x0tta6bl4/test/${node}/cmd/learning-round`, JSON.stringify(env), { qos: 1 });
    };
    const replies = (node: string) => sub.json<ReplyPayload>(`x0tta6bl4/test/${node}/cmd/learning-round/reply`);
    const learningB = () => agentB.status().learning as { peersHeard: number; lastRound: { heard: number; closedBy: string } | null } | null;

    // B opens the round first, untraced, and waits there for its peer's update.
    await send('b');
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(replies('b').length, 0, 'B waits for A');
    // The operator's trace: its own span id as the parent, W3C inside the signed envelope.
    await send('a', { traceparent: `00-${traceId}-${operatorSpan}-01`, tracestate: 'ops=1' });
    await until('both replies', () => replies('a').length > 0 && replies('b').length > 0, 90_000);
    assert.ok(replies('a')[0]!.ok, replies('a')[0]!.error);
    assert.ok(replies('b')[0]!.ok, replies('b')[0]!.error);
    const l = learningB();
    assert.is(l?.peersHeard, 1, `B counted A's update: ${JSON.stringify(l)}`);
    assert.is(l?.lastRound?.closedBy, 'quorum', 'B closed its round on A\'s update, not on the timeout');
  } finally {
    for (const x of agents) await x.stop().catch(() => {}); // flushes each tracer
    sub.client.end(true);
    await broker.stop();
    await recv.close();
    rmSync(fleet.root, { recursive: true, force: true });
  }

  const spans = spansByHost(recv);
  const on = (host: string, name: string) => spans.filter((s) => s.host === host && s.name === name);
  const [command] = on('a', 'command learning-round');
  assert.ok(command, `A's command span among ${spans.map((s) => `${s.host}:${s.name}`).join(', ')}`);
  assert.is(command.traceId, traceId, "the operator's trace id");
  assert.is(command.parentSpanId, operatorSpan, "the operator's span is its parent");
  assert.is(command.kind, 2, 'SERVER');
  assert.is(command.traceState, 'ops=1', 'the tracestate is passed on');
  assert.is(attrs(command.attributes)['x0tta6bl4.command'], 'learning-round');
  const inTrace = (host: string) => spans.filter((s) => s.host === host && s.traceId === traceId);
  const childOf = (p: DecodedSpan, name: string) => {
    const c = inTrace('a').find((s) => s.parentSpanId === p.spanId && s.name === name);
    assert.ok(c, `${name} under ${p.name}`);
    return c;
  };
  childOf(command, 'command.receive');
  childOf(command, 'command.check');
  childOf(command, 'command.reply');
  const execute = childOf(command, 'command.execute');
  const round = childOf(execute, 'learning.round');
  for (const phase of ['learning.train', 'learning.collect', 'learning.aggregate', 'learning.apply']) childOf(round, phase);
  const publish = childOf(round, 'learning.publish');
  assert.is(attrs(childOf(round, 'learning.aggregate').attributes)['x0tta6bl4.core'], 'wasm');

  // Router B: a span in the operator's trace, under A's publish span.
  const received = inTrace('b').filter((s) => s.name === 'learning.update.receive');
  assert.is(received.length, 1, `B's spans in the trace: ${inTrace('b').map((s) => s.name).join(', ')}`);
  assert.is(received[0]!.parentSpanId, publish.spanId);
  assert.is(received[0]!.status?.code ?? 0, 0, 'accepted, no error status');
  // B's own round (its own trace) counts A's update as an event and links to A's publish span.
  const collectB = on('b', 'learning.collect').find((s) => s.links.some((l) => l.traceId === traceId));
  assert.ok(collectB, "B's collect span links to the operator's trace");
  assert.is(collectB.links.find((l) => l.traceId === traceId)!.spanId, publish.spanId);
  assert.ok(collectB.events.some((e) => e.name === 'update'));
});

test.after(() => exitIfStuck('instrumented-federation.test.ts'));
test.run();
