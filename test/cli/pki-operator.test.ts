// `x0tta6bl4 pki issue-operator`: the certificate that signs fleet commands. Made by the CLI into
// a scratch directory, then checked the way an agent checks a command: accepted while valid,
// refused once `pki revoke` has put it on the fleet CRL (read from a real file by CommandCrl).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pki } from './run-pki.ts';
import { FleetCa, parseCertificates, verifyOperatorCertificate } from '../../src/federation/fleet-ca.ts';
import { checkCommand, type CommandCheckOptions } from '../../src/telemetry/command-check.ts';
import { CommandRejected, signCommand } from '../../src/telemetry/command-envelope.ts';
import { CommandCrl } from '../../src/telemetry/command-crl.ts';
import { NonceCache } from '../../src/telemetry/nonce-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-pki-operator-'));
const pkiDir = join(dir, 'fleet-pki');


function check(cert: string, key: string, o: Partial<CommandCheckOptions> = {}) {
  const trust = FleetCa.fromPem(readFileSync(join(pkiDir, 'fleet-ca.pem')));
  const env = signCommand({ fleet: 'lab', node: 'n1', cmd: 'status', key, cert });
  return checkCommand(Buffer.from(JSON.stringify(env)), 'status', {
    fleet: 'lab', node: 'n1', trust, trustDomain: 'lab.x0tta6bl4', maxSkewMs: 300_000, notBeforeMs: 0, nonces: new NonceCache(), now: Date.now(), ...o,
  });
}

test('issue-operator writes a certificate with the operator SPIFFE ID and a 0600 key', async () => {
  assert.is((await pki('init', '--dir', pkiDir, '--fleet', 'lab')).code, 0);
  const r = await pki('issue-operator', '--dir', pkiDir, '--name', 'alice');
  assert.is(r.code, 0, String(r.error));
  const certFile = join(pkiDir, 'operators', 'alice.pem');
  const keyFile = join(pkiDir, 'operators', 'alice.key');
  assert.match(r.out, 'spiffe://lab.x0tta6bl4/operator/alice');
  assert.is(statSync(keyFile).mode & 0o777, 0o600);
  const id = verifyOperatorCertificate(FleetCa.fromPem(readFileSync(join(pkiDir, 'fleet-ca.pem'))), parseCertificates(readFileSync(certFile), 'alice'), { trustDomain: 'lab.x0tta6bl4' });
  assert.is(id.operator, 'alice');
  assert.match(check(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8')).signer, /^operator alice CN=alice/);

  // --out: the key goes beside the certificate.
  const out = join(dir, 'bob.pem');
  assert.is((await pki('issue-operator', '--dir', pkiDir, '--name', 'bob', '--out', out)).code, 0);
  assert.ok(existsSync(join(dir, 'bob.key')));
  assert.is(statSync(join(dir, 'bob.key')).mode & 0o777, 0o600);
});

test('issue-operator refuses bad names, and never overwrites or follows a planted key file', async () => {
  for (const name of ['', '..', '.hidden', 'a/b', 'a b', 'x'.repeat(65), 'bat0\u200b']) {
    const r = await pki('issue-operator', '--dir', pkiDir, '--name', name);
    assert.is(r.code, 2, `${JSON.stringify(name)}: ${String(r.error)}`);
  }
  assert.is((await pki('issue-operator', '--dir', pkiDir)).code, 2);
  const again = await pki('issue-operator', '--dir', pkiDir, '--name', 'alice');
  assert.is(again.code, 1);
  assert.match(String(again.error), 'cannot write the operator key');
  // A symlink planted where the key would go: refused, and its target untouched.
  const decoy = join(dir, 'decoy');
  writeFileSync(decoy, 'precious');
  symlinkSync(decoy, join(dir, 'carol.key'));
  const planted = await pki('issue-operator', '--dir', pkiDir, '--name', 'carol', '--out', join(dir, 'carol.pem'));
  assert.is(planted.code, 1);
  assert.is(readFileSync(decoy, 'utf8'), 'precious');
  assert.not.ok(existsSync(join(dir, 'carol.pem')));
});

test('pki revoke of an operator certificate: the CRL file makes the agent refuse its commands', async () => {
  const certFile = join(pkiDir, 'operators', 'alice.pem');
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(join(pkiDir, 'operators', 'alice.key'), 'utf8');
  const trust = FleetCa.fromPem(readFileSync(join(pkiDir, 'fleet-ca.pem')));
  const crlFile = join(dir, 'fleet.crl');
  const warnings: string[] = [];
  const crl = new CommandCrl(crlFile, (m) => warnings.push(m));
  const revoked = (c: Parameters<CommandCrl['revoked']>[1]) => crl.revoked(trust, c);
  assert.ok(check(cert, key, { revoked }), 'no CRL file: nothing revoked');
  writeFileSync(crlFile, readFileSync(join(pkiDir, 'fleet.crl')));
  assert.ok(check(cert, key, { revoked }), 'the empty CRL of pki init');
  assert.is((await pki('revoke', '--dir', pkiDir, '--cert', certFile)).code, 0);
  writeFileSync(crlFile, readFileSync(join(pkiDir, 'fleet.crl')));
  try {
    check(cert, key, { revoked });
    assert.unreachable('revoked operator accepted');
  } catch (e) {
    assert.instance(e, CommandRejected);
    assert.is((e as CommandRejected).code, 'untrusted');
    assert.match((e as Error).message, 'is revoked');
  }
  // A damaged CRL does not reinstate the operator.
  writeFileSync(crlFile, 'garbage');
  assert.throws(() => check(cert, key, { revoked }), /is revoked/);
  assert.is(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, 'keeping the previous one');
  assert.equal(warnings.length, 1);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
