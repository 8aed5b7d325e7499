// Fleet-wide settings on real sockets: the operator signs one with `pki setting`, drops the file
// into one router's state_dir/fleet-settings/, and every router of a chain A — B — C (no peer
// exchange, so it must be relayed) observes it through onSetting and can apply it through the
// config schema. Only the fleet CA's signature counts: node-signed settings are refused whether
// offered by API, dropped as a file or gossiped by an admitted insider.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestFleet, until } from './fleet-harness.ts';
import { presentChain, rawPeer, type RawPeer } from './raw-peer.ts';
import { FederationError, startFederationWith } from '../../src/federation/federation.ts';
import { verifyCrl } from '../../src/federation/crl.ts';
import { FleetCa } from '../../src/federation/fleet-ca.ts';
import { fleetSettingChange } from '../../src/federation/fleet-settings.ts';
import { encodeEntry, KIND_NODE, KIND_SETTING, nodeSigner } from '../../src/federation/state-entry.ts';
import { encodeBatch } from '../../src/federation/stream-frames.ts';
import { signerFor, type Signer } from '../../src/federation/ed25519.ts';
import { loadOrCreateIdentity } from '../../src/federation/identity.ts';
import type { FederationSettings } from '../../src/federation/settings.ts';
import type { Federation } from '../../src/federation/types.ts';
import { pkiCommand } from '../../src/cli/commands/pki.ts';
import { parseArgs } from '../../src/cli/parse-args.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import type { AgentConfig } from '../../src/config/schema.ts';

const fleet = new TestFleet('settings');
const NAME = 'healing.cooldown';
let a: Federation, b: Federation, c: Federation;
let sa: FederationSettings, sb: FederationSettings, sc: FederationSettings;
let bSigner: Signer;
let insider: RawPeer;
const seenAtC: [string, string | null][] = [];
const base = defaultConfig();
let configAtC: AgentConfig = structuredClone(base);
const caKeyFile = join(fleet.root, 'fleet-ca.key');
const ca = FleetCa.fromPem(fleet.ca.pem);

async function pkiSetting(...argv: string[]): Promise<string> {
  const out = join(fleet.root, `s${Math.random().toString(36).slice(2)}.setting`);
  const { flags, positionals } = parseArgs(['setting', ...argv, '--ca-key', caKeyFile, '--fleet', 'test', '--out', out], pkiCommand.flags, 'pki');
  const code = await pkiCommand.run({ flags, positionals, io: { out: () => {}, err: () => {} }, stopSignal: new Promise(() => {}) });
  assert.is(code, 0);
  return out;
}

function drop(s: FederationSettings, file: string, name: string): void {
  mkdirSync(s.settingsDir, { recursive: true });
  copyFileSync(file, join(s.settingsDir, name));
}

test.before(async () => {
  writeFileSync(caKeyFile, fleet.ca.key.export({ type: 'pkcs8', format: 'pem' }) as string);
  // Refresh every second: a dropped file is picked up at the next refresh.
  const opts = { peerExchange: false, refreshMs: 1000 };
  sa = { ...(await fleet.prepare('a')).settings, ...opts };
  a = await startFederationWith(sa);
  const pb = await fleet.prepare('b');
  sb = { ...pb.settings, ...opts, peers: a.addresses() };
  b = await startFederationWith(sb);
  bSigner = signerFor((await loadOrCreateIdentity(pb.settings.keyFile)).key);
  sc = { ...(await fleet.prepare('c')).settings, ...opts, peers: b.addresses() };
  c = await startFederationWith(sc);
  // What the agent does: apply each setting through the schema, in memory.
  c.onSetting((name, value) => {
    seenAtC.push([name, value]);
    const r = fleetSettingChange(configAtC, base, name, value);
    if (r.ok) configAtC = r.config;
  });
  insider = await rawPeer();
  const cert = await fleet.prepare('insider', { spiffePeer: insider.peerId });
  assert.is(await presentChain(insider, a.addresses()[0]!, readFileSync(cert.settings.certFile, 'utf8')), 'ok');
  await until('chain admitted', () => b.peers().length === 2 && c.peers().length === 1 && a.peers().length === 2);
});

test.after(async () => {
  await Promise.all([a.stop(), b.stop(), c.stop(), insider.node.stop()]);
});


test('a CA-signed setting dropped on A reaches C through B and is applied through the schema', async () => {
  drop(sa, await pkiSetting(NAME, '300'), `${NAME}.setting`);
  await until('C applied the setting', () => configAtC.healing.cooldownS === 300);
  assert.equal(seenAtC, [[NAME, '300']]);
  for (const f of [a, b, c]) assert.equal(f.fleet.settings(), { [NAME]: '300' });
  // A listener that comes later is told what is in force.
  const late: [string, string | null][] = [];
  b.onSetting((n, v) => late.push([n, v]));
  await until('late listener told', () => late.length === 1);
  assert.equal(late, [[NAME, '300']]);
});

function forged(kind: typeof KIND_SETTING | typeof KIND_NODE, value: string): Uint8Array {
  // Signed with a node's own (admitted, certified) key over the same bytes the CA would sign.
  return encodeEntry({ kind, key: `setting/${NAME}`, stamp: { wall: Date.now() + 1000, counter: 0 }, author: kind === KIND_NODE ? bSigner.publicKey : undefined, ttlMs: 0, tombstone: false, value: Buffer.from(value) }, nodeSigner('test', bSigner)).bytes;
}

test('a node-signed setting is refused: by API, as a dropped file, and as gossip from an admitted insider', async () => {
  assert.throws(() => b.offerEntry(forged(KIND_SETTING, '5')), (e: Error) => e instanceof FederationError && /not signed by the fleet CA/.test(e.message));
  assert.throws(() => b.offerEntry(forged(KIND_NODE, '5')), (e: Error) => e instanceof FederationError && /unknown key/.test(e.message));
  // As a file on C: ignored (logged) at the next refresh; a real file dropped after it proves the refresh ran.
  mkdirSync(sc.settingsDir, { recursive: true });
  writeFileSync(join(sc.settingsDir, 'forged.setting'), forged(KIND_SETTING, '6'));
  // As gossip: an admitted peer publishes it on the fleet-state topic.
  const rejected = a.metrics().stateRejected;
  await until('A sees the insider on the state topic', () => insider.node.services.pubsub.getSubscribers('x0tta6bl4/test/state').length > 0);
  await insider.node.services.pubsub.publish('x0tta6bl4/test/state', encodeBatch([forged(KIND_SETTING, '7')]));
  await until('A refused the forged gossip', () => a.metrics().stateRejected > rejected);
  drop(sc, await pkiSetting('healing.hold', '600'), 'healing.hold.setting');
  await until('C applied the later real setting', () => configAtC.healing.holdS === 600);
  for (const f of [a, b, c]) assert.is(f.fleet.setting(NAME), '300');
  assert.equal(seenAtC, [[NAME, '300'], ['healing.hold', '600']]);
  assert.is(configAtC.healing.cooldownS, 300);
});

test('the operator withdraws a setting: every router goes back to its own value', async () => {
  drop(sc, await pkiSetting(NAME, '--unset'), `${NAME}.setting`);
  await until('withdrawn everywhere', () => [a, b, c].every((f) => f.fleet.setting(NAME) === undefined));
  await until('C went back to its UCI value', () => configAtC.healing.cooldownS === base.healing.cooldownS);
  assert.equal(seenAtC.at(-1), [NAME, null]);
  // An old copy of the value still lying on A loses to the newer withdrawal (last writer wins).
  assert.equal(a.fleet.settings(), { 'healing.hold': '600' });
});

test('a per-router option signed by the CA spreads but is refused when applied', async () => {
  drop(sa, await pkiSettingUnchecked('agent.node_name', 'evil'), 'node.setting');
  await until('C heard it', () => seenAtC.some(([n]) => n === 'agent.node_name'));
  assert.is(configAtC.agent.nodeName, base.agent.nodeName);
  const r = fleetSettingChange(configAtC, base, 'agent.node_name', 'evil');
  assert.ok(!r.ok && /per router/.test(r.reason));
});

/** `pki setting` refuses per-router options, so sign one by hand as a careless tool might. */
async function pkiSettingUnchecked(name: string, value: string): Promise<string> {
  const { signSetting } = await import('../../src/federation/pki-issue.ts');
  const out = join(fleet.root, 'unchecked.setting');
  writeFileSync(out, signSetting({ caKey: fleet.ca.key, fleet: 'test', name, value }));
  return out;
}

test('a fleet-wide quarantine_quorum takes effect in the running federation (reconfigure)', async () => {
  const cfg = structuredClone(base);
  cfg.federation.peerExchange = false; // as these nodes run
  cfg.federation.quarantineQuorum = 2;
  assert.equal(a.reconfigure(cfg).applied, ['quarantineQuorum']);
  a.fleet.voteQuarantine(c.peerId, 'test');
  b.fleet.voteQuarantine(c.peerId, 'test');
  await until('A quarantines C with two votes', () => a.fleet.quarantined().includes(c.peerId));
  // Both votes are in; back at the default quorum of 3 they are not enough.
  assert.equal(a.reconfigure(base).applied, ['quarantineQuorum', 'peerExchange']);
  assert.equal(a.fleet.quarantined(), []);
  assert.equal(a.reconfigure(cfg).applied, ['quarantineQuorum', 'peerExchange']);
  assert.equal(a.fleet.quarantined(), [c.peerId]);
  a.fleet.voteQuarantine(c.peerId, 'test', false);
  b.fleet.voteQuarantine(c.peerId, 'test', false);
});

test('what the fleet adopted is kept on every router: a restarted router alone still has it', async () => {
  // B never had a file dropped on it; it keeps what it learned, as `pki setting` files and crl_file.
  assert.ok(existsSync(join(sb.settingsDir, 'healing.hold.setting')));
  assert.ok(a.offerCrl(Buffer.from(fleet.revoke(12345n))));
  await until('B kept the CRL', () => existsSync(sb.crlFile) && verifyCrl(ca, readFileSync(sb.crlFile)).revoked.size === 1);
  await b.stop();
  const alone = await startFederationWith({ ...sb, peers: [] });
  try {
    assert.equal(alone.fleet.settings(), { 'healing.hold': '600', 'agent.node_name': 'evil' });
    assert.is(alone.fleet.setting(NAME), undefined, 'the withdrawal was kept too');
    assert.ok(alone.peers().length === 0);
  } finally {
    await alone.stop();
  }
});

test.run();
