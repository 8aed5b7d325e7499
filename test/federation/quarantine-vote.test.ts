// The operator's quarantine vote without sockets: the command's argument checks, the vote's
// value with and without a trace context (signed, inside the entry), and old-format votes (as a
// router without tracing writes them) still accepted, byte for byte what they were.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync } from 'node:fs';
import { FleetState } from '../../src/federation/fleet-state.ts';
import { FleetCa } from '../../src/federation/fleet-ca.ts';
import { signerFor, type Signer } from '../../src/federation/ed25519.ts';
import { decodeEntry, encodeEntry, KIND_NODE, nodeSigner } from '../../src/federation/state-entry.ts';
import { encodeVoteValue, voteTrace } from '../../src/federation/vote-value.ts';
import { loadOrCreateIdentity } from '../../src/federation/identity.ts';
import { parseCommandArgs } from '../../src/telemetry/command-args.ts';
import { CommandRejected } from '../../src/telemetry/command-envelope.ts';
import { TestFleet, FLEET, TRUST_DOMAIN } from './fleet-harness.ts';

const fleet = new TestFleet('vote');
const ca = FleetCa.fromPem(fleet.ca.pem);
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

async function member(name: string): Promise<{ signer: Signer; state: FleetState }> {
  const p = await fleet.prepare(name);
  const { key } = await loadOrCreateIdentity(p.settings.keyFile);
  const signer = signerFor(key);
  const state = new FleetState({ fleet: FLEET, trustDomain: TRUST_DOMAIN, ca, signer, certPem: readFileSync(p.settings.certFile, 'utf8'), quorum: 1, entryTtlMs: 600_000, maxSkewMs: 30_000 });
  state.announce({ name, addrs: [], version: '1', capabilities: [] });
  return { signer, state };
}

function refused(args: string[], match: RegExp): void {
  try {
    parseCommandArgs('quarantine-vote', args);
  } catch (e) {
    assert.instance(e, CommandRejected);
    assert.is((e as CommandRejected).code, 'bad-args');
    assert.match((e as Error).message, match);
    assert.match((e as Error).message, /usage: quarantine-vote/);
    return;
  }
  assert.unreachable(`${JSON.stringify(args)} accepted`);
}

test('quarantine-vote arguments: peer, true|false, reason', () => {
  const id = '12D3KooWLkJ9rRaDi5kqmE8V5ZgXF8c3xGJ5Az3vFQdNnWw3hDbm';
  assert.equal(parseCommandArgs('quarantine-vote', [id, 'true', 'flapping links']), { peer: id, vote: true, reason: 'flapping links' });
  assert.equal(parseCommandArgs('quarantine-vote', ['router-7.lab', 'false']), { peer: 'router-7.lab', vote: false, reason: '' });
  assert.equal(parseCommandArgs('quarantine-vote', ['b', 'false', 'fixed']), { peer: 'b', vote: false, reason: 'fixed' });
  refused([], /got 0 arguments/);
  refused(['b'], /got 1 arguments/);
  refused(['b', 'true', 'x', 'y'], /got 4 arguments/);
  refused(['b', 'yes', 'x'], /vote 'yes' must be true or false/);
  refused(['b', 'TRUE', 'x'], /must be true or false/);
  refused(['b', 'true'], /needs a reason/);
  refused(['b', 'true', '   '], /needs a reason/);
  refused(['b/c', 'true', 'x'], /'b\/c' is not a peer id or node name/);
  refused(['-b', 'true', 'x'], /not a peer id or node name/);
  refused(['', 'true', 'x'], /not a peer id or node name/);
  refused(['x'.repeat(129), 'true', 'x'], /not a peer id or node name/);
  refused(['b', 'true', 'r'.repeat(201)], /reason of 201 characters; at most 200/);
  refused(['b', 'true', 'evil \u202Etxt.exe'], /control or format characters/);
});

test('a vote without a trace is the old value, byte for byte; with one, the trace rides signed in it', async () => {
  assert.is(Buffer.from(encodeVoteValue(true, 'flapping')).toString(), JSON.stringify({ reason: 'flapping' }));
  assert.is(encodeVoteValue(false, 'flapping').length, 0, 'a withdrawal stays empty');
  const a = await member('a');
  const b = await member('b');
  const plain = a.state.vote(b.signer.peerId, 'flapping');
  assert.is(Buffer.from(plain.value).toString(), '{"reason":"flapping"}');
  assert.is(voteTrace(plain.value), undefined);

  const traced = a.state.vote(b.signer.peerId, 'flapping', true, { traceparent: TRACEPARENT, tracestate: 'ops=1' });
  assert.equal(voteTrace(traced.value), { traceparent: TRACEPARENT, tracestate: 'ops=1' });
  assert.equal(JSON.parse(Buffer.from(traced.value).toString()).reason, 'flapping');
  // B accepts it (signature over the value, trace included) and counts the vote.
  assert.equal(b.state.merge(a.state.entry('node/' + a.signer.peerId)!.bytes), { ok: true, changed: true, key: `node/${a.signer.peerId}` });
  assert.equal(b.state.merge(traced.bytes), { ok: true, changed: true, key: traced.key });
  assert.equal(b.state.quarantined(), [b.signer.peerId]);
  assert.equal(b.state.voters(b.signer.peerId), [a.signer.peerId]);
  // A changed trace breaks the signature: the context cannot be swapped in transit.
  const forged = new Uint8Array(traced.bytes);
  const at = Buffer.from(forged).indexOf('0af76519');
  forged[at] = 0x31;
  const c = await member('c');
  const r = c.state.merge(forged);
  assert.ok(!r.ok && r.reason === 'bad signature', JSON.stringify(r));

  // A traced withdrawal: a tombstone whose value holds only the trace; it withdraws all the same.
  const off = a.state.vote(b.signer.peerId, '', false, { traceparent: TRACEPARENT });
  assert.ok(off.tombstone);
  assert.equal(voteTrace(off.value), { traceparent: TRACEPARENT });
  assert.ok(b.state.merge(off.bytes).ok);
  assert.equal(b.state.quarantined(), []);
});

test('old-format votes (written as before tracing) are still accepted and carry no trace', async () => {
  const a = await member('old-a');
  const b = await member('old-b');
  b.state.merge(a.state.entry('node/' + a.signer.peerId)!.bytes);
  // Exactly what the pre-tracing vote() wrote: value {"reason"} / an empty tombstone.
  const old = (on: boolean, wall: number) =>
    encodeEntry(
      { kind: KIND_NODE, key: `vote/${b.signer.peerId}/${a.signer.peerId}`, stamp: { wall, counter: 0 }, author: a.signer.publicKey, ttlMs: 600_000, tombstone: !on, value: on ? Buffer.from(JSON.stringify({ reason: 'old' })) : new Uint8Array() },
      nodeSigner(FLEET, a.signer),
    ).bytes;
  const t = Date.now();
  const cast = old(true, t);
  assert.is(voteTrace(decodeEntry(cast).value), undefined);
  assert.equal(b.state.merge(cast), { ok: true, changed: true, key: `vote/${b.signer.peerId}/${a.signer.peerId}` });
  assert.equal(b.state.quarantined(), [b.signer.peerId]);
  assert.ok(b.state.merge(old(false, t + 1)).ok);
  assert.equal(b.state.quarantined(), []);
});

test('a malformed trace in a vote value is no trace, never an exception', () => {
  const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
  for (const v of ['', 'not json', 'null', '[]', { reason: 'x' }, { trace: 'x' }, { trace: null }, { trace: { traceparent: 5 } }, { trace: { traceparent: 'a\nb' } }, { trace: { traceparent: 'x'.repeat(256) } }, { trace: { traceparent: 'p', tracestate: 3 } }])
    assert.is(voteTrace(enc(v)), undefined, JSON.stringify(v));
  assert.is(voteTrace(new Uint8Array(4096)), undefined, 'too large to be a vote');
  // An over-long or unprintable tracestate is left out when writing, as in the federation envelope.
  assert.equal(voteTrace(encodeVoteValue(true, 'x', { traceparent: TRACEPARENT, tracestate: 'é' })), { traceparent: TRACEPARENT });
});

test.after(() => rmSync(fleet.root, { recursive: true, force: true }));
test.run();
