// One trace id across two federated agents: a real mosquitto carries signed commands, real
// libp2p sockets on 127.0.0.1 carry the federation, and one OTLP receiver decodes what both
// agents export with the official definitions. The operator's `learning-round` command to
// router A carries a W3C traceparent inside its signature; A's round publishes its update with
// the trace context signed into the federation envelope; router B, whose own round was waiting
// for it, counts the update (its learning state changes) and records a span in the operator's
// trace. The meshes are simulated (no batman-adv kernel here); everything else is real.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { loadCore } from '../../src/core/index.ts';
import { signCommand } from '../../src/telemetry/command-envelope.ts';
import type { ReplyPayload } from '../../src/telemetry/payloads.ts';
import { FLEET, until } from '../federation/fleet-harness.ts';
import { exitIfStuck } from '../telemetry/subscriber.ts';
import { attrs, type DecodedSpan } from './otlp-receiver.ts';
import { closeTracedFleet, openTracedFleet, spansByHost, startTracedPair } from './traced-fleet.ts';

const core = await loadCore();

test('a command to router A that changes learning state on router B: spans on both with one trace id', async () => {
  const t = await openTracedFleet('traced', 3);
  const { recv, ops, opsCert, sub } = t;
  const traceId = randomBytes(16).toString('hex');
  const operatorSpan = randomBytes(8).toString('hex');
  try {
    const { agentB } = await startTracedPair(t, (c) => {
      // One round a day: both commands below land in the same round. A, still at round 0 when B's
      // update comes, refuses it as too far ahead and closes its round on the timeout.
      c.learning = { ...c.learning, enabled: true, roundIntervalS: 86_400, roundTimeoutS: 20 };
    }, { core });

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
    await closeTracedFleet(t);
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
