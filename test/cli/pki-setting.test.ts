// `x0tta6bl4 pki setting`: the operator signs one fleet-wide option with the fleet CA key. The
// file it writes is a fleet-state entry that only the CA's signature makes acceptable; typos,
// bad values and per-router options are refused on the operator's machine.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pki } from './run-pki.ts';
import { decodeEntry, KIND_SETTING } from '../../src/federation/state-entry.ts';
import { FleetCa } from '../../src/federation/fleet-ca.ts';
import { FleetState } from '../../src/federation/fleet-state.ts';
import { signerFor } from '../../src/federation/ed25519.ts';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

const dir = mkdtempSync(join(tmpdir(), 'x0-pki-setting-'));
const pkiDir = join(dir, 'fleet-pki');


/** A fleet state of fleet `fleet` trusting this CA, as a router holds it. */
async function routerState(fleet: string): Promise<FleetState> {
  const key = (await generateKeyPair('Ed25519')) as unknown as PrivateKey;
  return new FleetState({ fleet, trustDomain: 'lab.x0tta6bl4', ca: FleetCa.fromPem(readFileSync(join(pkiDir, 'fleet-ca.pem'))), signer: signerFor(key), certPem: '', quorum: 1, entryTtlMs: 60_000, maxSkewMs: 30_000 });
}

test('init remembers the fleet; setting writes a CA-signed entry a router of that fleet accepts', async () => {
  assert.is((await pki('init', '--dir', pkiDir, '--fleet', 'Lab')).code, 0);
  assert.is(JSON.parse(readFileSync(join(pkiDir, 'pki.json'), 'utf8')).fleet, 'Lab');
  const r = await pki('setting', 'healing.cooldown', '300', '--dir', pkiDir);
  assert.is(r.code, 0, String(r.error));
  const file = join(pkiDir, 'settings', 'healing.cooldown.setting');
  assert.match(r.out, file);
  const bytes = new Uint8Array(readFileSync(file));
  const e = decodeEntry(bytes);
  assert.is(e.kind, KIND_SETTING);
  assert.is(e.key, 'setting/healing.cooldown');
  const state = await routerState('Lab');
  assert.ok(state.merge(bytes).ok);
  assert.is(state.setting('healing.cooldown'), '300');
  // Signed for fleet Lab: a router of another fleet refuses it.
  assert.not.ok((await routerState('Other')).merge(bytes).ok);
});

test('--unset writes the withdrawal; it replaces the value', async () => {
  const state = await routerState('Lab');
  state.merge(new Uint8Array(readFileSync(join(pkiDir, 'settings', 'healing.cooldown.setting'))));
  await new Promise((r) => setTimeout(r, 5)); // a later signing time
  const out = join(dir, 'withdraw.setting');
  assert.is((await pki('setting', 'healing.cooldown', '--unset', '--dir', pkiDir, '--out', out)).code, 0);
  const m = state.merge(new Uint8Array(readFileSync(out)));
  assert.ok(m.ok && m.changed);
  assert.is(state.setting('healing.cooldown'), undefined);
  assert.equal(state.settings(), {});
});

test('refused on the operator machine: unknown, per-router, list, secret options and bad values', async () => {
  const cases: [string[], RegExp][] = [
    [['setting', 'healing.cooldwn', '3'], /no option 'cooldwn'/],
    [['setting', 'nosuch.option', '3'], /no section 'nosuch'/],
    [['setting', 'agent.node_name', 'r1'], /per router/],
    [['setting', 'federation.enabled', '0'], /per router/],
    [['setting', 'federation.peer', '/ip4/1.2.3.4/tcp/1'], /a list/],
    [['setting', 'telemetry.password', 'x'], /secret/],
    [['setting', 'healing.cooldown', 'soon'], /cooldown/],
    [['setting', 'healing.cooldown'], /VALUE/],
    [['setting', 'healing.cooldown', '1', '2'], /one VALUE/],
    [['setting', 'healing.cooldown', '1', '--unset'], /only SECTION.OPTION/],
  ];
  for (const [argv, why] of cases) {
    const r = await pki(...argv, '--dir', pkiDir);
    assert.is(r.code, 2, `${argv.join(' ')}: ${r.error}`);
    assert.match(r.error!.message, why, argv.join(' '));
  }
});

test('without pki.json the fleet must be named; a missing CA key is a clear error', async () => {
  const key = join(pkiDir, 'fleet-ca.key');
  const r = await pki('setting', 'healing.cooldown', '60', '--ca-key', key, '--dir', join(dir, 'nowhere'));
  assert.is(r.code, 2);
  assert.match(r.error!.message, /--fleet/);
  const out = join(dir, 'explicit.setting');
  assert.is((await pki('setting', 'healing.cooldown', '60', '--ca-key', key, '--fleet', 'Lab', '--out', out)).code, 0);
  assert.ok(existsSync(out));
  writeFileSync(join(dir, 'broken.key'), 'not a key');
  const bad = await pki('setting', 'healing.cooldown', '60', '--ca-key', join(dir, 'broken.key'), '--fleet', 'Lab', '--out', out);
  assert.is(bad.code, 1);
  assert.match(bad.error!.message, /cannot read the fleet CA key/);
});

test.run();
