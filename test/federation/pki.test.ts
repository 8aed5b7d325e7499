// `x0tta6bl4 pki` and the CRL reader, checked against openssl both ways: openssl verifies what
// pki issues (certificates, CRLs), and crl.ts reads CRLs that `openssl ca` made.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pkiCommand } from '../../src/cli/commands/pki.ts';
import { UsageError, UserError } from '../../src/cli/command.ts';
import { CrlError, isRevoked, verifyCrl } from '../../src/federation/crl.ts';
import { FleetCa, verifyNodeCertificate } from '../../src/federation/fleet-ca.ts';
import { TestPki } from '../telemetry/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-pki-'));
const pkiDir = join(dir, 'fleet-pki');
const PEER = '12D3KooWGVFNRwHs4JyuZKAxoGL4ybaBWKvaCLGESYs5qLsaU7rr';
const PEER2 = '12D3KooWRLBBtuBC3NJ8PUxTpVGgGWxA6YS9Hqv3X4tj8WcLVpWX';

async function pki(...args: string[]): Promise<{ code: number; out: string }> {
  const positionals: string[] = [];
  const flags: Record<string, string | number> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const v = args[++i]!;
      flags[a.slice(2)] = a === '--days' ? Number(v) : v;
    } else positionals.push(a);
  }
  let out = '';
  const code = await pkiCommand.run({ flags, positionals, io: { out: (s) => (out += s + '\n'), err: () => {} }, stopSignal: new Promise(() => {}) });
  return { code, out };
}

function openssl(...args: string[]) {
  return spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
}

test('init, issue: openssl verifies the node certificate, and so does the router-side check', async () => {
  assert.is((await pki('init', '--dir', pkiDir, '--fleet', 'Lab', '--days', '100')).code, 0);
  const r = await pki('issue', '--dir', pkiDir, '--peer-id', PEER, '--name', 'router-1', '--out', join(dir, 'node1.pem'));
  assert.is(r.code, 0);
  assert.match(r.out, /serial [0-9A-F]+/);
  const v = openssl('verify', '-CAfile', join(pkiDir, 'fleet-ca.pem'), join(dir, 'node1.pem'));
  assert.is(v.status, 0, v.stderr + v.stdout);
  const text = openssl('x509', '-in', join(dir, 'node1.pem'), '-noout', '-text').stdout;
  assert.match(text, `URI:spiffe://lab.x0tta6bl4/node/${PEER}`);
  assert.match(text, 'CA:FALSE');
  const ca = FleetCa.fromPem(readFileSync(join(pkiDir, 'fleet-ca.pem')));
  const id = verifyNodeCertificate(ca, [new X509Certificate(readFileSync(join(dir, 'node1.pem')))], { trustDomain: 'lab.x0tta6bl4' });
  assert.is(id.peerId, PEER);
  // The certificate's key is the peer's libp2p key (the raw key a 12D3KooW id embeds).
  const spki = id.leaf.publicKey.export({ type: 'spki', format: 'der' });
  assert.is(spki.length, 44);
});

test('revoke: openssl -crl_check refuses the revoked certificate and accepts the other; crl.ts agrees', async () => {
  assert.is((await pki('issue', '--dir', pkiDir, '--peer-id', PEER2, '--out', join(dir, 'node2.pem'))).code, 0);
  const crlFile = join(pkiDir, 'fleet.crl');
  const ca = FleetCa.fromPem(readFileSync(join(pkiDir, 'fleet-ca.pem')));
  const before = verifyCrl(ca, readFileSync(crlFile));
  assert.is(before.number, 1n);
  assert.is(before.revoked.size, 0);
  const r = await pki('revoke', '--dir', pkiDir, '--cert', join(dir, 'node1.pem'));
  assert.is(r.code, 0);
  assert.match(r.out, 'CRL number 2');
  const bad = openssl('verify', '-crl_check', '-CAfile', join(pkiDir, 'fleet-ca.pem'), '-CRLfile', crlFile, join(dir, 'node1.pem'));
  assert.is.not(bad.status, 0);
  assert.match(bad.stdout + bad.stderr, 'certificate revoked');
  const good = openssl('verify', '-crl_check', '-CAfile', join(pkiDir, 'fleet-ca.pem'), '-CRLfile', crlFile, join(dir, 'node2.pem'));
  assert.is(good.status, 0, good.stderr + good.stdout);
  const crl = verifyCrl(ca, readFileSync(crlFile));
  assert.is(crl.number, 2n);
  assert.ok(isRevoked(crl, new X509Certificate(readFileSync(join(dir, 'node1.pem')))));
  assert.not.ok(isRevoked(crl, new X509Certificate(readFileSync(join(dir, 'node2.pem')))));
  // openssl's own reading of our CRL
  const t = openssl('crl', '-in', crlFile, '-noout', '-text').stdout;
  assert.match(t, /CRL Number: \s*2/);
  // Revoking by serial, twice, keeps one entry per serial.
  const serial = new X509Certificate(readFileSync(join(dir, 'node2.pem'))).serialNumber;
  await pki('revoke', '--dir', pkiDir, '--serial', serial);
  await pki('revoke', '--dir', pkiDir, '--serial', serial);
  const c3 = verifyCrl(ca, readFileSync(crlFile));
  assert.is(c3.number, 4n);
  assert.is(c3.revoked.size, 2);
});

test('operator mistakes are clear errors, never a stack trace', async () => {
  const fails = async (cls: typeof UsageError | typeof UserError, re: RegExp, ...args: string[]) => {
    try {
      await pki(...args);
    } catch (e) {
      assert.instance(e, cls, String(e));
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable(args.join(' '));
  };
  await fails(UserError, /already holds a fleet CA/, 'init', '--dir', pkiDir);
  await fails(UsageError, /--peer-id/, 'issue', '--dir', pkiDir);
  await fails(UsageError, /not an Ed25519 libp2p peer id/, 'issue', '--dir', pkiDir, '--peer-id', 'QmNotAKey');
  await fails(UserError, /no usable fleet CA/, 'issue', '--dir', join(dir, 'empty'), '--peer-id', PEER);
  await fails(UsageError, /--serial HEX or --cert/, 'revoke', '--dir', pkiDir, '--serial', 'xyz');
  await fails(UsageError, /subcommand/, '--dir', pkiDir);
  await fails(UsageError, /unknown pki subcommand/, 'frob');
  await fails(UsageError, /--days/, 'issue', '--dir', pkiDir, '--peer-id', PEER, '--days', '0');
  await fails(UsageError, /trust domain/, 'init', '--dir', join(dir, 'x'), '--trust-domain', 'Bad Domain');
});

test('a CRL made by `openssl ca` (EC P-256 CA, sha256) reads with the right serials', () => {
  const p = new TestPki(mkdtempSync(join(dir, 'ossl-')));
  const root = p.issue('root', { ca: true });
  const n1 = p.issue('n1', { issuer: root });
  const n2 = p.issue('n2', { issuer: root });
  const cfg = join(p.dir, 'ca.cnf');
  writeFileSync(join(p.dir, 'index.txt'), '');
  writeFileSync(join(p.dir, 'crlnumber'), '0100\n');
  writeFileSync(cfg, `[ca]\ndefault_ca = d\n[d]\ndatabase = ${join(p.dir, 'index.txt')}\ncrlnumber = ${join(p.dir, 'crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 7\n`);
  execFileSync('openssl', ['ca', '-config', cfg, '-keyfile', root.keyFile, '-cert', root.certFile, '-revoke', n1.certFile], { stdio: 'ignore' });
  execFileSync('openssl', ['ca', '-config', cfg, '-keyfile', root.keyFile, '-cert', root.certFile, '-gencrl', '-out', join(p.dir, 'crl.pem')], { stdio: 'ignore' });
  const ca = FleetCa.fromPem(root.certPem);
  const crl = verifyCrl(ca, readFileSync(join(p.dir, 'crl.pem'), 'utf8'));
  assert.is(crl.number, 0x100n);
  assert.ok(isRevoked(crl, new X509Certificate(n1.certPem)));
  assert.not.ok(isRevoked(crl, new X509Certificate(n2.certPem)));
  // DER works as well as PEM
  const der = execFileSync('openssl', ['crl', '-in', join(p.dir, 'crl.pem'), '-outform', 'DER']);
  assert.is(verifyCrl(ca, der).revoked.size, 1);
  // ...and another CA's CRL, or a tampered one, is refused
  const other = FleetCa.fromPem(readFileSync(join(pkiDir, 'fleet-ca.pem')));
  assert.throws(() => verifyCrl(other, der), (e: Error) => e instanceof CrlError && /not signed by the fleet CA/.test(e.message));
  const t = Buffer.from(der);
  t[t.length - 70] ^= 1; // inside the signed part (the revocation list)
  assert.throws(() => verifyCrl(ca, t), (e: Error) => e instanceof CrlError);
});

test('garbage is a CrlError, not a crash', () => {
  const ca = FleetCa.fromPem(readFileSync(join(pkiDir, 'fleet-ca.pem')));
  for (const input of [new Uint8Array(), Uint8Array.of(0x30), Uint8Array.of(0x30, 0x84, 1, 2, 3, 4), Buffer.from('-----BEGIN X509 CRL-----\nAAAA'), Uint8Array.of(0x30, 0x03, 0x30, 0x01, 0x00)]) {
    assert.throws(() => verifyCrl(ca, input), (e: Error) => e instanceof CrlError, String(input));
  }
});

test.run();
