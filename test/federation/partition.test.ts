// Replicated fleet state on real sockets: two halves of an 8-node fleet write concurrently
// while partitioned (quarantine votes, CRLs, a CA-signed setting), then heal; every node ends
// with the same state, and a quarantine takes effect only once a quorum of voters is counted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TestFleet, FLEET, until, sleep } from './fleet-harness.ts';
import { startFederationWith } from '../../src/federation/federation.ts';
import { signSetting } from '../../src/federation/pki-issue.ts';
import type { Federation, FederationMessage } from '../../src/federation/types.ts';

const fleet = new TestFleet('part');
const A: Federation[] = [];
const B: Federation[] = [];
const all = () => [...A, ...B];
const QUORUM = 5;
const TOPIC = 'ctl';
const inbox = new Map<Federation, FederationMessage[]>();
const text = (m: FederationMessage) => Buffer.from(m.payload).toString();
const digests = () => new Set(all().map((n) => n.fleet.digest()));

test.before(async () => {
  for (const [half, tag] of [
    [A, 'a'],
    [B, 'b'],
  ] as const) {
    for (let i = 0; i < 4; i++) {
      const p = await fleet.prepare(`${tag}${i}`);
      const f = await startFederationWith({ ...p.settings, quarantineQuorum: QUORUM, peers: i === 0 ? [] : half[0]!.addresses() });
      half.push(f);
      const box: FederationMessage[] = [];
      inbox.set(f, box);
      f.subscribe(TOPIC, (m) => box.push(m));
    }
  }
  for (const half of [A, B]) await until('half admitted', () => half.every((n) => n.peers().length === 3 && n.fleet.nodes().length === 4));
});

test.after(async () => {
  await Promise.all(all().map((n) => n.stop()));
});

test('while partitioned: halves write concurrently; 4 votes are below the quorum of 5', async () => {
  const target = B[3]!.peerId;
  for (const n of A) n.fleet.voteQuarantine(target, 'flapping links');
  B[0]!.fleet.voteQuarantine(target, 'bad updates');
  assert.ok(A[1]!.offerCrl(Buffer.from(fleet.revoke(0xdead01n)))); // CRL 2 in half A
  assert.ok(B[1]!.offerCrl(Buffer.from(fleet.revoke(0xdead02n)))); // CRL 3 in half B
  assert.ok(A[2]!.offerEntry(signSetting({ caKey: fleet.ca.key, fleet: FLEET, name: 'round_interval', value: '120' })));
  for (const half of [A, B]) await until('half converged', () => new Set(half.map((n) => n.fleet.digest())).size === 1);
  assert.is(digests().size, 2, 'the halves differ');
  for (const n of all()) assert.equal(n.fleet.quarantined(), []);
  assert.is(B[0]!.fleet.setting('round_interval'), undefined);
});

test('healing: one link between the halves and every node converges to the same state', async () => {
  await A[0]!.connect(B[0]!.addresses()[0]!);
  await until('one digest everywhere', () => digests().size === 1, 30_000);
  for (const n of all()) {
    assert.is(n.fleet.nodes().length, 8);
    assert.is(n.fleet.setting('round_interval'), '120');
  }
});

test('after healing the 5 distinct voters make a quorum: the target is quarantined on every node', async () => {
  const target = B[3]!.peerId;
  await until('quarantined everywhere', () => all().every((n) => n.fleet.quarantined().join() === target));
  await sleep(1200); // subscriptions across the new link
  // Counted where it arrives: the quarantined node's direct peers (they do not forward it).
  const quarantinedDrops = () => all().reduce((s, n) => s + (n.metrics().messagesDropped.quarantined ?? 0), 0);
  const before = quarantinedDrops();
  await B[3]!.publish(TOPIC, Buffer.from('from the quarantined node'));
  await B[2]!.publish(TOPIC, Buffer.from('from b2'));
  await until('b2 heard in half A', () => A.every((n) => inbox.get(n)!.some((m) => text(m) === 'from b2')));
  assert.not.ok(all().some((n) => inbox.get(n)!.some((m) => text(m) === 'from the quarantined node')));
  await until('counted', () => quarantinedDrops() > before);
});

test('a withdrawn vote drops below the quorum again, everywhere', async () => {
  B[0]!.fleet.voteQuarantine(B[3]!.peerId, '', false);
  await until('lifted everywhere', () => all().every((n) => n.fleet.quarantined().length === 0));
  await B[3]!.publish(TOPIC, Buffer.from('back again'));
  await until('heard again', () => inbox.get(A[2]!)!.some((m) => text(m) === 'back again'));
  await until('one digest everywhere', () => digests().size === 1);
});

test.run();
