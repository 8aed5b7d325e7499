// Signed application messages on real sockets, attacked by an insider: a peer with a valid
// fleet certificate that replays, tampers, back- and forward-dates, impersonates and floods.
// Every bad message is dropped and counted under its reason; good ones still arrive.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { TestFleet, until, sleep } from './fleet-harness.ts';
import { presentChain, rawPeer, type RawPeer } from './raw-peer.ts';
import { encodeEnvelope } from '../../src/federation/envelope.ts';
import { startFederationWith } from '../../src/federation/federation.ts';
import type { Signer } from '../../src/federation/ed25519.ts';
import type { Federation, FederationMessage } from '../../src/federation/types.ts';

const fleet = new TestFleet('msg');
const TOPIC = 'learning/update';
const appTopic = `x0tta6bl4/test/app/${TOPIC}`;
let a: Federation, b: Federation, insider: RawPeer;
const atA: FederationMessage[] = [];
const captured: Uint8Array[] = [];
const text = (m: FederationMessage) => Buffer.from(m.payload).toString();

test.before(async () => {
  const pa = await fleet.prepare('a');
  // a's limits are tight so that the flood case needs no timing: 20 at once, then 1 per second.
  a = await startFederationWith({ ...pa.settings, ratePerSecond: 1, rateBurst: 20 });
  b = await startFederationWith({ ...(await fleet.prepare('b')).settings, peers: a.addresses() });
  a.subscribe(TOPIC, (m) => atA.push(m));
  insider = await rawPeer();
  const cert = await fleet.prepare('insider', { spiffePeer: insider.peerId });
  assert.is(await presentChain(insider, a.addresses()[0]!, readFileSync(cert.settings.certFile, 'utf8')), 'ok');
  insider.node.services.pubsub.subscribe(appTopic);
  insider.node.services.pubsub.addEventListener('message', (e) => {
    if (e.detail.topic === appTopic) captured.push(e.detail.data);
  });
  await until('insider admitted by a', () => a.peers().some((p) => p.peerId === insider.peerId));
  await until('b admitted by a', () => a.peers().some((p) => p.peerId === b.peerId));
  await until('a subscribed, seen by insider', () => insider.node.services.pubsub.getSubscribers(appTopic).length > 0);
  await sleep(1200);
});

test.after(async () => {
  await Promise.all([a.stop(), b.stop(), insider.node.stop()]);
});

let seq = BigInt(Date.now()) * 1000n;
function env(o: { signer?: Signer; seq?: bigint; timestamp?: number; topic?: string; payload: string }): Uint8Array {
  return encodeEnvelope('test', o.signer ?? insider.signer, { seq: o.seq ?? ++seq, round: 1, timestamp: o.timestamp ?? Date.now(), topic: o.topic ?? TOPIC, payload: Buffer.from(o.payload) });
}
const send = (bytes: Uint8Array) => insider.node.services.pubsub.publish(appTopic, bytes);
const dropped = (reason: string) => a.metrics().messagesDropped[reason] ?? 0;

async function expectDrop(reason: string, bytes: Uint8Array, payload: string): Promise<void> {
  const before = dropped(reason);
  await send(bytes);
  await until(`${reason} counted`, () => dropped(reason) > before);
  // A good message sent after it arrives: the bad one had its chance and was not delivered.
  const marker = `after ${reason} ${seq}`;
  await send(env({ payload: marker }));
  await until(`marker after ${reason}`, () => atA.some((m) => text(m) === marker));
  assert.not.ok(atA.some((m) => text(m) === payload), `${reason} message was delivered`);
}

test('an admitted peer’s well-formed message is delivered with its metadata (positive control)', async () => {
  await send(env({ payload: 'hello' }));
  await until('hello', () => atA.some((m) => text(m) === 'hello'));
  const m = atA.find((x) => text(x) === 'hello')!;
  assert.is(m.from, insider.peerId);
  assert.is(m.round, 1);
});

test('tampered payload: bad_signature', async () => {
  const e = env({ payload: 'tamper-me' });
  e[e.length - 64 - 2] ^= 0x01; // last payload byte
  await expectDrop('bad_signature', e, 'tamper-md'); // 'e' ^ 1
});

test('impersonation (another node’s key in the sender field): bad_signature', async () => {
  const e = env({ payload: 'i am b' });
  // Put b's public key where the insider's is; the signature is still the insider's.
  const bKey = (await import('../../src/federation/ed25519.ts')).publicKeyOfPeerId(b.peerId)!;
  e.set(bKey, 3);
  await expectDrop('bad_signature', e, 'i am b');
});

test('stale (10 min old) and future-dated (5 min ahead) messages are dropped', async () => {
  await expectDrop('stale', env({ payload: 'old news', timestamp: Date.now() - 600_000 }), 'old news');
  await expectDrop('future', env({ payload: 'from the future', timestamp: Date.now() + 300_000 }), 'from the future');
});

test('a second message with a used sequence number is a duplicate, even with a new payload and valid signature', async () => {
  const s = ++seq;
  await send(env({ seq: s, payload: 'first' }));
  await until('first', () => atA.some((m) => text(m) === 'first'));
  await expectDrop('duplicate', env({ seq: s, payload: 'second' }), 'second');
});

test('an honest node’s message replayed by the insider is delivered once only', async () => {
  await b.publish(TOPIC, Buffer.from('from b'));
  await until('a got it', () => atA.some((m) => text(m) === 'from b'));
  await until('insider captured it', () => captured.some((c) => Buffer.from(c).includes(Buffer.from('from b'))));
  const copy = captured.find((c) => Buffer.from(c).includes(Buffer.from('from b')))!;
  await send(copy).catch(() => {}); // gossipsub may refuse a duplicate publish locally
  const marker = 'after replay';
  await send(env({ payload: marker }));
  await until('marker', () => atA.some((m) => text(m) === marker));
  assert.is(atA.filter((m) => text(m) === 'from b').length, 1);
});

test('garbage and a topic mismatch are malformed', async () => {
  await expectDrop('malformed', Buffer.from('not an envelope at all'), 'not an envelope at all');
  await expectDrop('malformed', env({ topic: 'other/topic', payload: 'wrong topic' }), 'wrong topic');
});

test('a flood beyond the per-peer budget is cut (rate_limited), the node stays up', async () => {
  for (let i = 0; i < 60; i++) await send(env({ payload: `flood ${i}` }));
  await until('rate limit hit', () => dropped('rate_limited') > 0);
  assert.ok(atA.filter((m) => text(m).startsWith('flood')).length < 60);
  assert.is(a.health().state, 'ok');
});

test('the drops show in /metrics text under their reasons', async () => {
  const { MetricsText } = await import('../../src/status/metrics.ts');
  const { addFederationMetrics, federationStatus } = await import('../../src/federation/report.ts');
  const m = new MetricsText();
  addFederationMetrics(m, a);
  const text = m.toString();
  for (const reason of ['bad_signature', 'stale', 'future', 'duplicate', 'malformed', 'rate_limited'])
    assert.match(text, new RegExp(`^x0tta6bl4_federation_messages_dropped_total\\{reason="${reason}"\\} [1-9]`, 'm'));
  assert.match(text, /^x0tta6bl4_federation_peers_admitted 2$/m);
  const st = federationStatus(a);
  assert.is(st.peers.length, 2);
  assert.ok(JSON.stringify(st).length > 0, 'serialisable (no bigint)');
});

test.run();
