// One trace id across two routers through the fleet state: the operator's signed
// `quarantine-vote` command to router A (a W3C traceparent inside its signature) writes A's vote
// into the replicated fleet state; the vote entry carries the command's trace context, signed in
// its value; router B, applying the entry from state gossip, records `fleet-state.apply` in the
// operator's trace, and B's fleet state shows the vote. Real mosquitto, real libp2p sockets on
// 127.0.0.1, one OTLP receiver decoding both routers' spans with the official definitions. The
// meshes are simulated (no batman-adv kernel here); everything else is real.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import type { Agent } from '../../src/agent/agent.ts';
import { signCommand } from '../../src/telemetry/command-envelope.ts';
import type { ReplyPayload } from '../../src/telemetry/payloads.ts';
import { FLEET, until } from '../federation/fleet-harness.ts';
import { exitIfStuck } from '../telemetry/subscriber.ts';
import { attrs, type DecodedSpan } from './otlp-receiver.ts';
import { closeTracedFleet, openTracedFleet, spansByHost, startTracedPair } from './traced-fleet.ts';

interface VoteReply {
  key: string;
  target: string;
  name: string;
  vote: boolean;
  reason: string;
  quarantined: boolean;
  quorum: number;
  votes: number;
  traceId?: string;
}

test('a quarantine vote sent to router A, applied on router B: spans on both with one trace id', async () => {
  const t = await openTracedFleet('traced-state', 5);
  const { recv, ops, opsCert, sub } = t;
  const traceId = randomBytes(16).toString('hex');
  const operatorSpan = randomBytes(8).toString('hex');
  let a: { peerId: string } | undefined;
  let b: { peerId: string } | undefined;
  let withdrawTrace: string | undefined;
  try {
    // A keeps the default quorum (3): its one vote does not quarantine B, so A keeps talking to B.
    // B counts with a quorum of 1, so A's vote alone shows in B's fleet state as a quarantine.
    const pair = await startTracedPair(t, (c, name) => {
      c.federation.quarantineQuorum = name === 'a' ? 3 : 1;
      c.learning = { ...c.learning, enabled: false };
    });
    ({ a, b } = pair);
    const { agentA, agentB } = pair;
    type Fed = { fleet?: { nodes: { peerId: string }[]; quarantined: string[] } } | null;
    const fed = (x: Agent) => x.status().federation as Fed;
    await until("b in a's registry", () => (fed(agentA)?.fleet?.nodes ?? []).some((n) => n.peerId === b!.peerId), 30_000);

    let sent = 0;
    const send = async (args: string[], trace?: Record<string, string>): Promise<ReplyPayload> => {
      const env = signCommand({ fleet: FLEET, node: 'a', cmd: 'quarantine-vote', args, key: ops.privateKey, cert: opsCert, ...(trace ? { trace } : {}) });
      await sub.client.publishAsync('x0tta6bl4/test/a/cmd/quarantine-vote', JSON.stringify(env), { qos: 1 });
      const n = ++sent;
      const replies = () => sub.json<ReplyPayload>('x0tta6bl4/test/a/cmd/quarantine-vote/reply');
      await until(`reply ${n}`, () => replies().length >= n, 30_000);
      return replies()[n - 1]!;
    };

    // Refusals, clear and before anything is written.
    const self = await send(['a', 'true', 'testing']);
    assert.is(self.ok, false);
    assert.is(self.code, 'bad-args');
    assert.match(self.error ?? '', /this router itself/);
    const unknown = await send(['nosuchnode', 'true', 'testing']);
    assert.is(unknown.code, 'bad-args');
    assert.match(unknown.error ?? '', /no node 'nosuchnode' in the fleet registry/);
    const badVote = await send(['b', 'maybe', 'testing']);
    assert.is(badVote.code, 'bad-args');
    assert.equal(fed(agentB)?.fleet?.quarantined, [], 'nothing written by the refusals');

    // The operator's trace: its own span id as the parent, W3C inside the signed envelope.
    const cast = await send(['b', 'true', 'flapping links'], { traceparent: `00-${traceId}-${operatorSpan}-01`, tracestate: 'ops=1' });
    assert.ok(cast.ok, cast.error);
    const r = cast.result as VoteReply;
    assert.equal(
      { key: r.key, target: r.target, name: r.name, vote: r.vote, reason: r.reason, quarantined: r.quarantined, quorum: r.quorum, votes: r.votes, traceId: r.traceId },
      { key: `vote/${b.peerId}/${a.peerId}`, target: b.peerId, name: 'b', vote: true, reason: 'flapping links', quarantined: false, quorum: 3, votes: 1, traceId },
      'the reply says what was written',
    );
    await until("A's vote in B's fleet state", () => (fed(agentB)?.fleet?.quarantined ?? []).includes(b!.peerId), 30_000);

    // Withdrawn by peer id, in a trace of its own (no trace in the envelope: A's command starts one).
    const off = await send([b.peerId, 'false']);
    assert.ok(off.ok, off.error);
    assert.is((off.result as VoteReply).vote, false);
    withdrawTrace = (off.result as VoteReply).traceId;
    assert.ok(withdrawTrace && withdrawTrace !== traceId);
    await until("the withdrawal in B's fleet state", () => (fed(agentB)?.fleet?.quarantined ?? []).length === 0, 30_000);
  } finally {
    await closeTracedFleet(t);
  }

  const spans = spansByHost(recv);
  const list = () => spans.map((s) => `${s.host}:${s.name}`).join(', ');
  const inTrace = (host: string, id: string) => spans.filter((s) => s.host === host && s.traceId === id);
  const command = inTrace('a', traceId).find((s) => s.name === 'command quarantine-vote');
  assert.ok(command, `A's command span among ${list()}`);
  assert.is(command.parentSpanId, operatorSpan, "the operator's span is its parent");
  assert.is(command.traceState, 'ops=1', 'the tracestate is passed on');
  const childOf = (p: DecodedSpan, name: string) => {
    const c = inTrace('a', traceId).find((s) => s.parentSpanId === p.spanId && s.name === name);
    assert.ok(c, `${name} under ${p.name}: ${list()}`);
    return c;
  };
  for (const n of ['command.receive', 'command.check', 'command.reply']) childOf(command, n);
  const write = childOf(childOf(command, 'command.execute'), 'fleet-state.write');
  assert.is(attrs(write.attributes)['x0tta6bl4.state.key'], `vote/${b!.peerId}/${a!.peerId}`);
  assert.is(write.kind, 4, 'PRODUCER');

  // Router B: the apply span in the operator's trace, under A's write span.
  const applied = inTrace('b', traceId);
  assert.is(applied.length, 1, `B's spans in the trace: ${applied.map((s) => s.name).join(', ')}`);
  const apply = applied[0]!;
  assert.is(apply.name, 'fleet-state.apply');
  assert.is(apply.parentSpanId, write.spanId);
  assert.is(apply.kind, 5, 'CONSUMER');
  assert.is(apply.traceState, 'ops=1');
  const at = attrs(apply.attributes);
  assert.is(at['x0tta6bl4.state.key'], `vote/${b!.peerId}/${a!.peerId}`);
  assert.is(at['x0tta6bl4.peer'], a!.peerId);
  assert.is(at['x0tta6bl4.vote'], true);
  assert.is(at['x0tta6bl4.quarantined'], true, 'B counts the vote (quorum 1)');

  // The withdrawal: its own trace, also on both routers.
  assert.ok(inTrace('a', withdrawTrace!).some((s) => s.name === 'fleet-state.write'));
  const withdrawn = inTrace('b', withdrawTrace!).find((s) => s.name === 'fleet-state.apply');
  assert.ok(withdrawn, 'B applied the withdrawal in its trace');
  assert.is(attrs(withdrawn.attributes)['x0tta6bl4.vote'], false);
  // The refusals wrote nothing, so B has no other apply span.
  assert.is(spans.filter((s) => s.host === 'b' && s.name === 'fleet-state.apply').length, 2, list());
});

test.after(() => exitIfStuck('instrumented-fleet-state.test.ts'));
test.run();
