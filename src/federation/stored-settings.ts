// Fleet settings kept in <state_dir>/fleet-settings/ (by `pki setting` files the operator
// dropped, and by every router for the settings it adopted), read at agent start so that an
// option the agent reads only when its parts start (most of them) takes the fleet's value
// from the first moment. Same checks as the running federation: only entries signed by the
// fleet CA count, newest wins, a withdrawal (tombstone) removes the setting.
import { readdirSync } from 'node:fs';
import { readRegularFile } from '../flash/safe-read.ts';
import { join } from 'node:path';
import type { AgentConfig } from '../config/schema.ts';
import { FleetCa } from './fleet-ca.ts';
import { FleetState } from './fleet-state.ts';
import { federationSettings, MAX_SETTING_FILE } from './settings.ts';

export interface StoredSettings {
  /** Setting name (`section.option`) → value, as signed by the fleet CA. */
  settings: Record<string, string>;
  /** Files that were not taken, with the reason (for the log). */
  problems: string[];
}

export function storedFleetSettings(config: AgentConfig, now: () => number = Date.now): StoredSettings {
  const s = federationSettings(config, '', '');
  const problems: string[] = [];
  let names: string[];
  try {
    names = readdirSync(s.settingsDir).filter((n) => n.endsWith('.setting')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${s.settingsDir}: ${(e as Error).message}`);
    return { settings: {}, problems };
  }
  if (names.length === 0) return { settings: {}, problems };
  let ca: FleetCa;
  try {
    const pem = readRegularFile(s.caFile, { maxBytes: 1024 * 1024 });
    if (pem === null) throw new Error('does not exist');
    ca = FleetCa.fromPem(pem);
  } catch (e) {
    const why = (e as Error).message;
    return { settings: {}, problems: [`fleet settings not read: fleet CA ${why.startsWith(s.caFile) ? why : `${s.caFile}: ${why}`}`] };
  }
  // Read-only: this state never writes, so its signer is never asked to sign.
  const signer = { publicKey: new Uint8Array(32), peerId: 'reader', sign: (): never => { throw new Error('read-only fleet state'); } };
  const state = new FleetState({
    fleet: s.fleet, trustDomain: s.trustDomain, ca, signer, certPem: '',
    quorum: s.quarantineQuorum, entryTtlMs: s.entryTtlMs, maxSkewMs: s.maxClockSkewMs, now,
  });
  for (const n of names) {
    const file = join(s.settingsDir, n);
    try {
      // Regular files only, bounded, no symlink (the agent writes here too): never blocks.
      const bytes = readRegularFile(file, { maxBytes: MAX_SETTING_FILE, noFollow: true });
      if (bytes === null) continue;
      const r = state.merge(new Uint8Array(bytes));
      if (!r.ok) problems.push(`${file}: ${r.reason}`);
      else if (!r.key.startsWith('setting/')) problems.push(`${file}: not a setting entry`);
    } catch (e) {
      problems.push(`${file}: ${(e as Error).message}`);
    }
  }
  return { settings: state.settings(), problems };
}
