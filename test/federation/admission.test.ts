// Admission on real sockets: 8 agents on 127.0.0.1 admit each other; an uncertified peer, a
// peer certified by another CA, an expired one, one presenting a stolen certificate and a
// revoked one are all cut off, and none of their messages reaches a handler.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { multiaddr } from '@multiformats/multiaddr';
import { TestFleet, until, sleep } from './fleet-harness.ts';
import { connectedTo, presentChain, rawPeer, type RawPeer } from './raw-peer.ts';
import { encodeEnvelope } from '../../src/federation/envelope.ts';
import { startFederationWith } from '../../src/federation/federation.ts';
import type { Federation, FederationMessage } from '../../src/federation/types.ts';

const N = 8;
const fleet = new TestFleet('adm');
const other = new TestFleet('other');
const nodes: Federation[] = [];
const serials: bigint[] = [];
const got: FederationMessage[][] = [];
const raws: RawPeer[] = [];
const TOPIC = 'learning/update';
const appTopic = `x0tta6bl4/test/app/${TOPIC}`;
const delivered = () => got.flat();

test.before(async () => {
  for (let i = 0; i < N; i++) {
    const p = await fleet.prepare(`n${i}`);
    serials.push(p.serial);
    const f = await startFederationWith({ ...p.settings, admissionTimeoutMs: 8000, syncMs: 600_000, peers: i === 0 ? [] : nodes[0]!.addresses() });
    nodes.push(f);
    const inbox: FederationMessage[] = [];
    got.push(inbox);
    f.subscribe(TOPIC, (m) => inbox.push(m));
  }
});

test.after(async () => {
  await Promise.all([...nodes.map((n) => n.stop()), ...raws.map((r) => r.node.stop())]);
});

test('8 agents admit each other and every one gets every message', async () => {
  await until('all admitted to n0', () => nodes[0]!.peers().length === N - 1);
  for (const n of nodes) assert.ok(n.peers().every((p) => p.spiffeId === `spiffe://test.x0tta6bl4/node/${p.peerId}`));
  await until('registry complete everywhere', () => nodes.every((n) => n.fleet.nodes().length === N));
  await sleep(1200); // gossipsub heartbeat: subscriptions and mesh settle
  await nodes[3]!.publish(TOPIC, Buffer.from('from n3'), { round: 7 });
  await until('delivered to the 7 others', () => got.filter((g, i) => i !== 3 && g.some((m) => Buffer.from(m.payload).toString() === 'from n3')).length === N - 1);
  const m = got[0]!.find((x) => Buffer.from(x.payload).toString() === 'from n3')!;
  assert.is(m.from, nodes[3]!.peerId);
  assert.is(m.round, 7);
  assert.is(m.topic, TOPIC);
  assert.is(got[3]!.length, 0, 'no echo to the sender');
  assert.is(nodes[0]!.health().state, 'ok');
  // (more than N-1 if a loaded machine made a peer time out and come back)
  assert.ok(nodes[0]!.metrics().admissionsAccepted >= N - 1);
});

async function attacker(chain: string | null): Promise<{ r: RawPeer; reply: string }> {
  const r = await rawPeer();
  raws.push(r);
  const reply = await presentChain(r, nodes[1]!.addresses()[0]!, chain);
  return { r, reply };
}

/** Publishes a correctly signed envelope from the attacker's own key, as an admitted peer would. */
async function spam(r: RawPeer, text: string): Promise<void> {
  const env = encodeEnvelope('test', r.signer, { seq: BigInt(Date.now()) * 1000n, round: 0, timestamp: Date.now(), topic: TOPIC, payload: Buffer.from(text) });
  await r.node.services.pubsub.publish(appTopic, env).catch(() => {});
}

test('a peer without a certificate is cut off after the admission timeout; its gossip is rejected meanwhile', async () => {
  const before = nodes[1]!.metrics().messagesDropped.unadmitted ?? 0;
  const { r } = await attacker(null);
  r.node.services.pubsub.subscribe(appTopic);
  await until('attacker sees the topic peer', () => r.node.services.pubsub.getSubscribers(appTopic).length > 0);
  await spam(r, 'uncertified');
  await until('cut off', () => !connectedTo(r, nodes[1]!.peerId));
  assert.ok((nodes[1]!.metrics().messagesDropped.unadmitted ?? 0) > before, 'its message was seen and dropped');
  assert.ok((nodes[1]!.metrics().admissionsRejected.TIMEOUT ?? 0) >= 1);
  assert.not.ok(nodes[1]!.peers().some((p) => p.peerId === r.peerId));
});

test('a certificate from another CA is refused (UNTRUSTED) and the peer disconnected', async () => {
  const p = await other.prepare('intruder');
  const r = await rawPeer();
  raws.push(r);
  // A certificate for the attacker's own key, by a CA the fleet does not trust.
  const o = await other.prepare('intruder2', { spiffePeer: r.peerId });
  void p;
  const reply = await presentChain(r, nodes[1]!.addresses()[0]!, readFileSync(o.settings.certFile, 'utf8'));
  assert.match(reply, /^UNTRUSTED: /, `reply: ${reply}`);
  await until('cut off', () => !connectedTo(r, nodes[1]!.peerId));
});

test('an expired certificate is refused (EXPIRED)', async () => {
  const r = await rawPeer();
  raws.push(r);
  const o = await fleet.prepare('expired', { spiffePeer: r.peerId, days: 1, now: Date.now() - 3 * 86_400_000 });
  const reply = await presentChain(r, nodes[1]!.addresses()[0]!, readFileSync(o.settings.certFile, 'utf8'));
  assert.match(reply, /^EXPIRED: /);
  await until('cut off', () => !connectedTo(r, nodes[1]!.peerId));
});

test("a stolen certificate (another node's) is refused: the peer id is not the noise key (PEER_MISMATCH)", async () => {
  const r = await rawPeer();
  raws.push(r);
  const stolen = readFileSync(`${fleet.root}/n5/node-cert.pem`, 'utf8');
  const reply = await presentChain(r, nodes[1]!.addresses()[0]!, stolen);
  assert.match(reply, /^PEER_MISMATCH: /);
  await until('cut off', () => !connectedTo(r, nodes[1]!.peerId));
  // Refused for a while afterwards, by the connection gater, before any admission exchange.
  const rejected = nodes[1]!.metrics().admissionsRejected.PEER_MISMATCH;
  await r.node.dial(multiaddr(nodes[1]!.addresses()[0]!)).catch(() => {});
  await until('cut off again', () => !connectedTo(r, nodes[1]!.peerId));
  assert.is(nodes[1]!.metrics().admissionsRejected.PEER_MISMATCH, rejected);
});

test('garbage instead of a certificate is refused (MALFORMED)', async () => {
  const { reply } = await attacker('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  assert.match(reply, /^MALFORMED: /);
});

test('no message of any refused peer reached a handler', () => {
  for (const m of delivered()) assert.ok(nodes.some((n) => n.peerId === m.from), `message from ${m.from}`);
  assert.not.ok(delivered().some((m) => /uncertified/.test(Buffer.from(m.payload).toString())));
});

test('revocation: a CRL offered at one node cuts the revoked node off everywhere, and it stays out', async () => {
  const victim = nodes[7]!;
  await until('victim admitted somewhere', () => nodes.slice(0, 7).some((n) => n.peers().some((p) => p.peerId === victim.peerId)));
  const crl = fleet.revoke(serials[7]!);
  assert.ok(nodes[2]!.offerCrl(Buffer.from(crl)));
  // No anti-entropy round runs in this test (sync every 600 s): only the gossip flood carries it.
  await until('no honest node has the revoked peer admitted', () => nodes.slice(0, 7).every((n) => !n.peers().some((p) => p.peerId === victim.peerId)));
  await until('the revoked node has no admitted peers', () => victim.peers().length === 0);
  assert.ok(nodes.slice(0, 7).reduce((s, n) => s + n.metrics().revokedDisconnects, 0) >= 1);
  const mark = delivered().length;
  await victim.publish(TOPIC, Buffer.from('from the revoked node')).catch(() => {});
  await nodes[4]!.publish(TOPIC, Buffer.from('after revocation'));
  await until('honest message still flows', () => got[0]!.some((m) => Buffer.from(m.payload).toString() === 'after revocation'));
  assert.not.ok(delivered().slice(mark).some((m) => m.from === victim.peerId));
  // The CRL is in fleet state with the same digest everywhere.
  await until('state converged', () => new Set(nodes.slice(0, 7).map((n) => n.fleet.digest())).size === 1);
});

test.run();
