// The fleet state CRDT without sockets: merge order does not matter, last writer wins by HLC,
// authorship and CA signatures are enforced, trust and quorum are computed from the state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { FleetState } from '../../src/federation/fleet-state.ts';
import { FleetCa } from '../../src/federation/fleet-ca.ts';
import { signerFor, type Signer } from '../../src/federation/ed25519.ts';
import { decodeEntry, encodeEntry, KIND_NODE, nodeSigner } from '../../src/federation/state-entry.ts';
import { signSetting } from '../../src/federation/pki-issue.ts';
import { loadOrCreateIdentity } from '../../src/federation/identity.ts';
import { TestFleet, FLEET, TRUST_DOMAIN } from './fleet-harness.ts';

const fleet = new TestFleet('state');
const ca = FleetCa.fromPem(fleet.ca.pem);
let clock = Date.now();
const now = () => clock;

interface Member {
  signer: Signer;
  state: FleetState;
  serial: bigint;
}

async function member(name: string, quorum = 3): Promise<Member> {
  const p = await fleet.prepare(name);
  const { key } = await loadOrCreateIdentity(p.settings.keyFile);
  const signer = signerFor(key);
  const state = new FleetState({ fleet: FLEET, trustDomain: TRUST_DOMAIN, ca, signer, certPem: readFileSync(p.settings.certFile, 'utf8'), quorum, entryTtlMs: 600_000, maxSkewMs: 30_000, now });
  return { signer, state, serial: p.serial };
}

const ms: Member[] = [];
test.before(async () => {
  for (let i = 0; i < 5; i++) ms.push(await member(`m${i}`));
});

function shuffle<T>(xs: T[], seed: number): T[] {
  const a = [...xs];
  let s = seed;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

test('any merge order (with duplicates) gives the same state', async () => {
  const entries: Uint8Array[] = [];
  for (const [i, m] of ms.entries()) {
    entries.push(m.state.announce({ name: `m${i}`, addrs: [], version: '1', capabilities: [] }).bytes);
    clock += 5;
    entries.push(m.state.vote(ms[4]!.signer.peerId, 'x').bytes);
    entries.push(m.state.announce({ name: `m${i}-renamed`, addrs: ['/ip4/10.0.0.1/tcp/4001'], version: '2', capabilities: ['learning'] }).bytes);
  }
  entries.push(signSetting({ caKey: fleet.ca.key, fleet: FLEET, name: 'x', value: '1' }));
  const digests = new Set<string>();
  for (let seed = 1; seed <= 6; seed++) {
    const r = await member(`r${seed}`);
    for (const e of shuffle([...entries, ...entries.slice(0, 4)], seed)) assert.ok(r.state.merge(e).ok);
    digests.add(r.state.digest());
    assert.is(r.state.node(ms[2]!.signer.peerId)!.name, 'm2-renamed', 'the later write wins');
    assert.is(r.state.setting('x'), '1');
  }
  assert.is(digests.size, 1);
});

test('only the author writes its keys; forged authors and signatures are refused', () => {
  const [a, b] = [ms[0]!, ms[1]!];
  const sign = nodeSigner(FLEET, a.signer);
  // a writes b's registry entry
  const forged = encodeEntry({ kind: KIND_NODE, key: `node/${b.signer.peerId}`, stamp: { wall: clock, counter: 99 }, author: a.signer.publicKey, ttlMs: 600_000, tombstone: false, value: Buffer.from('{}') }, sign);
  assert.equal(b.state.merge(forged), { ok: false, reason: 'registry entry not written by its node' });
  // a votes in b's name
  const vote = encodeEntry({ kind: KIND_NODE, key: `vote/${ms[3]!.signer.peerId}/${b.signer.peerId}`, stamp: { wall: clock, counter: 1 }, author: a.signer.publicKey, ttlMs: 600_000, tombstone: false, value: new Uint8Array() }, sign);
  assert.equal(b.state.merge(vote), { ok: false, reason: 'vote not written by its voter' });
  // a's own vote with one flipped byte
  const good = a.state.vote(ms[3]!.signer.peerId, 'y').bytes.slice();
  good[good.length - 70] ^= 1;
  const r = b.state.merge(good);
  assert.ok(!r.ok);
  // a setting signed by a node key instead of the CA
  const fake = signSetting({ caKey: generateKeyPairSync('ed25519').privateKey, fleet: FLEET, name: 'x', value: 'evil' });
  assert.equal(b.state.merge(fake), { ok: false, reason: 'setting not signed by the fleet CA' });
  // a setting for another fleet (domain separation)
  assert.equal(b.state.merge(signSetting({ caKey: fleet.ca.key, fleet: 'other', name: 'x', value: '2' })), { ok: false, reason: 'setting not signed by the fleet CA' });
  // unknown key space
  const odd = encodeEntry({ kind: KIND_NODE, key: 'admin/root', stamp: { wall: clock, counter: 1 }, author: a.signer.publicKey, ttlMs: 1000, tombstone: false, value: new Uint8Array() }, sign);
  assert.ok(!b.state.merge(odd).ok);
});

test('registry entries need a certificate for that peer; votes count only from trusted voters', async () => {
  const target = ms[4]!.signer.peerId;
  const outsiderKey = (await generateKeyPair('Ed25519')) as unknown as PrivateKey;
  const outsider = signerFor(outsiderKey);
  const r = await member('judge');
  // The outsider has no certificate: its registry entry (claiming m0's cert) is refused.
  const m0cert = readFileSync(`${fleet.root}/m0/node-cert.pem`, 'utf8');
  const claim = encodeEntry(
    { kind: KIND_NODE, key: `node/${outsider.peerId}`, stamp: { wall: clock, counter: 0 }, author: outsider.publicKey, ttlMs: 600_000, tombstone: false, value: Buffer.from(JSON.stringify({ name: 'o', addrs: [], version: '1', capabilities: [], cert: m0cert })) },
    nodeSigner(FLEET, outsider),
  );
  const res = r.state.merge(claim);
  assert.ok(!res.ok && /registry certificate names/.test(res.reason), JSON.stringify(res));
  // Votes from two trusted members and from the untrusted outsider: 2 < 3 → no quarantine.
  for (const m of ms.slice(0, 2)) {
    r.state.merge(m.state.announce({ name: 'x', addrs: [], version: '1', capabilities: [] }).bytes);
    r.state.merge(m.state.vote(target, 'r').bytes);
  }
  const outsiderVote = encodeEntry({ kind: KIND_NODE, key: `vote/${target}/${outsider.peerId}`, stamp: { wall: clock, counter: 0 }, author: outsider.publicKey, ttlMs: 600_000, tombstone: false, value: Buffer.from('{}') }, nodeSigner(FLEET, outsider));
  assert.ok(r.state.merge(outsiderVote).ok, 'stored (a later certificate may make it count)...');
  assert.equal(r.state.quarantined(), [], '...but not counted');
  // A self-vote does not count either.
  r.state.merge(ms[4]!.state.announce({ name: 'x', addrs: [], version: '1', capabilities: [] }).bytes);
  r.state.merge(ms[4]!.state.vote(target, 'me').bytes);
  assert.equal(r.state.quarantined(), []);
  // The third trusted voter makes the quorum.
  r.state.merge(ms[2]!.state.announce({ name: 'x', addrs: [], version: '1', capabilities: [] }).bytes);
  r.state.merge(ms[2]!.state.vote(target, 'r').bytes);
  assert.equal(r.state.quarantined(), [target]);
  // Revoking one voter's certificate drops it below the quorum.
  assert.ok(r.state.offerCrl(Buffer.from(fleet.revoke(ms[2]!.serial))));
  assert.not.ok(r.state.trusted(ms[2]!.signer.peerId));
  assert.equal(r.state.quarantined(), []);
  // An older CRL does not replace a newer one.
  const older = fleet.revoke(1n);
  const newer = fleet.revoke(2n);
  assert.ok(r.state.offerCrl(Buffer.from(newer)));
  assert.is(r.state.offerCrl(Buffer.from(older)), null);
  assert.ok(r.state.crl()!.revoked.has(2n));
});

test('TTL: entries their author stops refreshing expire; far-future stamps are refused', async () => {
  const r = await member('ttl');
  const m = ms[0]!;
  r.state.merge(m.state.announce({ name: 'x', addrs: [], version: '1', capabilities: [] }).bytes);
  assert.ok(r.state.node(m.signer.peerId));
  clock += 600_001;
  r.state.sweep();
  assert.is(r.state.node(m.signer.peerId), undefined);
  // merging the stale copy again changes nothing
  assert.equal(r.state.merge(decodeEntry(m.state.all().find((e) => e.key === `node/${m.signer.peerId}`)!.bytes)), { ok: true, changed: false, key: `node/${m.signer.peerId}` });
  const future = encodeEntry({ kind: KIND_NODE, key: `node/${m.signer.peerId}`, stamp: { wall: clock + 3_600_000, counter: 0 }, author: m.signer.publicKey, ttlMs: 600_000, tombstone: false, value: Buffer.from('{}') }, nodeSigner(FLEET, m.signer));
  assert.equal(r.state.merge(future), { ok: false, reason: 'future-dated' });
});

test.run();
