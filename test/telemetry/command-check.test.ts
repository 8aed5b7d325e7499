// Signed commands, checked without a broker: signing, trust, freshness, replay, shape, arguments.
// Certificates come from the openssl CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetCa } from '../../src/federation/fleet-ca.ts';
import { checkCommand, nonceOf, type CommandCheckOptions } from '../../src/telemetry/command-check.ts';
import { CommandRejected, signCommand, type CommandEnvelope, type RejectCode } from '../../src/telemetry/command-envelope.ts';
import { NonceCache } from '../../src/telemetry/nonce-cache.ts';
import { TestPki } from './pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-cmd-'));
const pki = new TestPki(dir);
const root = pki.issue('fleet-root', { ca: true });
// Operators of fleet f1 (trust domain f1.x0tta6bl4), as `pki issue-operator` makes them.
const op = (name: string) => `URI:spiffe://f1.x0tta6bl4/operator/${name}`;
const alice = pki.issue('ops-alice', { issuer: root, keyType: 'ed25519', san: op('alice') });
const site = pki.issue('site-ca', { issuer: root, ca: true });
const bob = pki.issue('ops-bob', { issuer: site, keyType: 'rsa', san: op('bob') });
const otherRoot = pki.issue('other-root', { ca: true });
const mallory = pki.issue('ops-mallory', { issuer: otherRoot, keyType: 'ed25519', san: op('mallory') });
// Certified by the fleet CA, but not as operators.
const node = pki.issue('n7', { issuer: root, keyType: 'ed25519', san: 'URI:spiffe://f1.x0tta6bl4/node/12D3KooWabc' });
const plain = pki.issue('ops-plain', { issuer: root, keyType: 'ed25519' });
const otherFleet = pki.issue('ops-eve', { issuer: root, keyType: 'ed25519', san: 'URI:spiffe://f2.x0tta6bl4/operator/eve' });
const trust = FleetCa.fromPem(root.certPem);
const started = Date.now() - 60_000;

function opts(over: Partial<CommandCheckOptions> = {}): CommandCheckOptions {
  return { fleet: 'f1', node: 'n1', trust, trustDomain: 'f1.x0tta6bl4', maxSkewMs: 300_000, notBeforeMs: started, nonces: new NonceCache(), now: Date.now(), ...over };
}
const enc = (e: unknown) => Buffer.from(typeof e === 'string' ? e : JSON.stringify(e));
const signed = (cmd: string, args: string[] = [], over: Partial<Parameters<typeof signCommand>[0]> = {}) =>
  signCommand({ fleet: 'f1', node: 'n1', cmd, args, key: alice.keyPem, cert: alice.certPem, ...over });

function rejected(code: RejectCode, fn: () => unknown, text?: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CommandRejected, String(e));
    assert.is((e as CommandRejected).code, code, (e as Error).message);
    if (text) assert.match((e as Error).message, text);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('a command signed by an operator certified by the fleet CA is accepted, with typed args', () => {
  const a = checkCommand(enc(signed('dry-run', ['on'])), 'dry-run', opts());
  assert.is(a.name, 'dry-run');
  assert.equal(a.args, { on: true });
  assert.match(a.signer, 'CN=ops-alice');
  assert.match(a.signer, /^operator alice /);
  const s = checkCommand(enc(signed('set', ['healing.interval', '15'])), 'set', opts());
  assert.equal(s.args, { path: 'healing.interval', values: ['15'] });
});

test('an RSA operator under an intermediate CA is accepted', () => {
  const viaSite = signed('run-action', ['restart-radio'], { key: bob.keyPem, cert: bob.certPem + site.certPem });
  assert.equal(checkCommand(enc(viaSite), 'run-action', opts()).args, { action: 'restart-radio' });
  // Without the intermediate in the envelope, there is no path to the fleet CA.
  rejected('untrusted', () => checkCommand(enc(signed('status', [], { key: bob.keyPem, cert: bob.certPem })), 'status', opts()));
});

test('only operator certificates sign: the fleet CA key, a node certificate, a plain or foreign-domain leaf are refused', () => {
  const byCa = signed('status', [], { key: root.keyPem, cert: root.certPem });
  rejected('untrusted', () => checkCommand(enc(byCa), 'status', opts()), /CN=fleet-root .*is a CA certificate.*pki issue-operator/);
  const byIntermediate = signed('status', [], { key: site.keyPem, cert: site.certPem });
  rejected('untrusted', () => checkCommand(enc(byIntermediate), 'status', opts()), 'is a CA certificate');
  const byNode = signed('dry-run', ['on'], { key: node.keyPem, cert: node.certPem });
  rejected('untrusted', () => checkCommand(enc(byNode), 'dry-run', opts()), /is a node certificate \(spiffe:\/\/f1\.x0tta6bl4\/node\//);
  rejected('untrusted', () => checkCommand(enc(signed('status', [], { key: plain.keyPem, cert: plain.certPem })), 'status', opts()), 'not an operator certificate');
  rejected('untrusted', () => checkCommand(enc(signed('status', [], { key: otherFleet.keyPem, cert: otherFleet.certPem })), 'status', opts()), 'spiffe://f1.x0tta6bl4/operator/');
});

test('a revoked operator is refused (the CRL file itself: test/cli/pki-operator.test.ts)', () => {
  const serial = new X509Certificate(alice.certPem).serialNumber;
  const o = opts({ revoked: (c) => c.serialNumber === serial });
  rejected('untrusted', () => checkCommand(enc(signed('status')), 'status', o), /operator alice .*is revoked/);
  assert.is(checkCommand(enc(signed('status', [], { key: bob.keyPem, cert: bob.certPem + site.certPem })), 'status', o).name, 'status');
});

test('signing refuses a key that does not match the certificate', () => {
  assert.throws(() => signed('status', [], { key: mallory.keyPem }), /does not match/);
});

test('forged: a stranger CA, a borrowed certificate, tampered fields', () => {
  rejected('untrusted', () => checkCommand(enc(signed('status', [], { key: mallory.keyPem, cert: mallory.certPem })), 'status', opts()), 'not issued by the fleet CA');
  // Alice's certificate with Mallory's signature: the chain is fine, the signature is not.
  const m = signed('dry-run', ['off'], { key: mallory.keyPem, cert: mallory.certPem });
  rejected('bad-signature', () => checkCommand(enc({ ...m, cert: alice.certPem }), 'dry-run', opts()));
  const good = signed('dry-run', ['on']);
  rejected('bad-signature', () => checkCommand(enc({ ...good, args: ['off'] }), 'dry-run', opts()));
  rejected('bad-signature', () => checkCommand(enc({ ...good, nonce: 'A'.repeat(22) }), 'dry-run', opts()));
  rejected('bad-signature', () => checkCommand(enc({ ...good, ts: new Date(Date.parse(good.ts) + 1000).toISOString() }), 'dry-run', opts()));
  rejected('bad-signature', () => checkCommand(enc({ ...good, sig: Buffer.alloc(64, 7).toString('base64') }), 'dry-run', opts()));
  // Retargeted at another node of the same fleet: the node name is refused before anything else.
  rejected('wrong-node', () => checkCommand(enc(good), 'dry-run', opts({ node: 'n2' })), 'addressed to f1/n1');
  rejected('bad-signature', () => checkCommand(enc({ ...signed('dry-run', ['on'], { node: 'n2' }), node: 'n1' }), 'dry-run', opts()));
});

test('unsigned and malformed payloads', () => {
  const good = signed('status');
  const { sig: _sig, ...unsigned } = good;
  rejected('malformed', () => checkCommand(enc(unsigned), 'status', opts()), "'sig'");
  rejected('malformed', () => checkCommand(enc({ ...good, sig: '' }), 'status', opts()));
  rejected('malformed', () => checkCommand(enc({ ...good, cert: undefined }), 'status', opts()), "'cert'");
  rejected('untrusted', () => checkCommand(enc({ ...good, cert: 'not a certificate' }), 'status', opts()), 'no PEM');
  rejected('malformed', () => checkCommand(enc('{"v":1,'), 'status', opts()), 'not JSON');
  rejected('malformed', () => checkCommand(enc('[1,2]'), 'status', opts()), 'not a JSON object');
  rejected('malformed', () => checkCommand(enc('null'), 'status', opts()));
  rejected('malformed', () => checkCommand(Buffer.from([0xff, 0xfe, 0x00]), 'status', opts()));
  rejected('version', () => checkCommand(enc({ ...good, v: 2 }), 'status', opts()), 'v1');
  rejected('malformed', () => checkCommand(enc({ ...good, args: 'on' }), 'status', opts()));
  rejected('malformed', () => checkCommand(enc({ ...good, args: [1] }), 'status', opts()));
  rejected('malformed', () => checkCommand(enc({ ...good, args: ['a\nb'] }), 'status', opts()));
  rejected('malformed', () => checkCommand(enc({ ...good, ts: 'yesterday' }), 'status', opts()));
  rejected('malformed', () => checkCommand(enc({ ...good, nonce: 'short' }), 'status', opts()));
  rejected('too-large', () => checkCommand(Buffer.alloc(40_000, 0x20), 'status', opts()));
  assert.is(nonceOf(enc(good)), good.nonce);
  assert.is(nonceOf(enc('garbage')), null);
});

test('replayed: the same envelope twice is refused the second time; cache bounded', () => {
  const o = opts();
  const e = enc(signed('learning-round'));
  assert.is(checkCommand(e, 'learning-round', o).name, 'learning-round');
  rejected('replay', () => checkCommand(e, 'learning-round', o), 'already used');
  // A full cache refuses new commands instead of forgetting live nonces.
  const small = opts({ nonces: new NonceCache(2) });
  checkCommand(enc(signed('status')), 'status', small);
  checkCommand(enc(signed('status')), 'status', small);
  rejected('busy', () => checkCommand(enc(signed('status')), 'status', small));
  // Once those commands are no longer fresh, their slots free up.
  const later = Date.now() + 301_000;
  assert.is(checkCommand(enc(signed('status', [], { now: later })), 'status', { ...small, now: later }).name, 'status');
});

test('unforged but unacceptable: stale, future, before start, wrong topic, unknown, disabled', () => {
  rejected('stale', () => checkCommand(enc(signed('status', [], { now: Date.now() - 400_000 })), 'status', opts({ notBeforeMs: 0 })), 'at most 300 s');
  rejected('stale', () => checkCommand(enc(signed('status', [], { now: Date.now() + 400_000 })), 'status', opts()));
  rejected('stale', () => checkCommand(enc(signed('status', [], { now: started - 1000 })), 'status', opts()), 'before this agent started');
  rejected('wrong-topic', () => checkCommand(enc(signed('dry-run', ['on'])), 'status', opts()));
  rejected('unknown-command', () => checkCommand(enc(signed('reboot')), 'reboot', opts()), 'known: status');
  rejected('disabled', () => checkCommand(enc(signed('status')), 'status', opts({ trust: null })), 'no fleet CA');
});

test('arguments are checked per command', () => {
  const check = (cmd: string, args: string[]) => () => checkCommand(enc(signed(cmd, args)), cmd, opts());
  rejected('bad-args', check('dry-run', ['maybe']), 'usage: dry-run on|off');
  rejected('bad-args', check('dry-run', []));
  rejected('bad-args', check('status', ['x']));
  rejected('bad-args', check('learning-round', ['now']));
  rejected('bad-args', check('run-action', ['Restart Radio']));
  // KIND/IFNAME[/NEIGHBOUR]: interface names as Linux takes them, neighbours as unicast MACs.
  const action = (spec: string) => checkCommand(enc(signed('run-action', [spec])), 'run-action', opts()).args;
  assert.equal(action('restart-interface/mesh0'), { action: 'restart-interface', ifname: 'mesh0' });
  assert.equal(action('restart-interface/wlan0-1.5'), { action: 'restart-interface', ifname: 'wlan0-1.5' });
  assert.equal(action('restart-interface/' + 'x'.repeat(15)), { action: 'restart-interface', ifname: 'x'.repeat(15) });
  assert.equal(action('quarantine/mesh0/02:AA:bb:00:00:01'), { action: 'quarantine', ifname: 'mesh0', neighbour: '02:aa:bb:00:00:01' });
  for (const spec of ['restart-interface/', 'restart-interface/.', 'restart-interface/..', 'restart-interface/' + 'x'.repeat(16), 'restart-interface/' + 'é'.repeat(8),
    'restart-interface/a:b', 'restart-interface/bat0\u200b', 'restart-interface/bat0\u00a0', 'restart-interface/\u202eeth0', 'restart-interface/eth\u0085',
    'quarantine/mesh0/', 'quarantine/mesh0/01:00:5e:00:00:01', 'quarantine/mesh0/00:00:00:00:00:00', 'quarantine/mesh0/02:00:00:00:00:1', 'quarantine/mesh0/0200.0000.0001',
    'quarantine/mesh0/02:00:00:00:00:01/x', '/mesh0'])
    rejected('bad-args', () => action(spec), 'usage: run-action KIND[/IFNAME[/NEIGHBOUR]]');
  rejected('bad-args', () => action('restart-interface/\u202eeth0'), "interface '\\u{202E}eth0'");
  rejected('bad-args', check('set', ['healing.interval']));
  rejected('bad-args', check('set', ['interval', '5']));
  assert.equal(checkCommand(enc(signed('set', ['federation.peer', '/ip4/10.0.0.1/tcp/4001', '/ip4/10.0.0.2/tcp/4001'])), 'set', opts()).args, {
    path: 'federation.peer',
    values: ['/ip4/10.0.0.1/tcp/4001', '/ip4/10.0.0.2/tcp/4001'],
  });
});

test('the envelope is plain JSON with the documented fields', () => {
  const e: CommandEnvelope = signed('status');
  assert.equal(Object.keys(e).sort(), ['args', 'cert', 'cmd', 'fleet', 'node', 'nonce', 'sig', 'ts', 'v']);
  assert.is(e.v, 1);
  assert.match(e.nonce, /^[A-Za-z0-9_-]{22}$/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
