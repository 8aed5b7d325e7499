// CA-signed fleet settings on this router's flash (<state_dir>/fleet-settings/, files made by
// `x0tta6bl4 pki setting`): offered to the fleet at start and on every refresh, and every
// setting the fleet adopts (or withdraws) is kept there as such a file and passed to the
// agent's listeners.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFile } from '../flash/safe-read.ts';
import type { FederationComponents } from './components.ts';
import { keepFile } from './keep-file.ts';
import { MAX_SETTING_FILE } from './settings.ts';
import { decodeEntry } from './state-entry.ts';
import type { SettingHandler } from './types.ts';

export class SettingSync {
  private readonly handlers = new Set<SettingHandler>();
  /** Setting files already complained about (path → mtime), so a bad file is logged once, not every minute. */
  private readonly warned = new Map<string, number>();

  constructor(
    private readonly components: FederationComponents,
    private readonly init: { gossip(entries: Uint8Array[]): void },
  ) {}

  /**
   * Offers the directory's settings to the fleet state. An older file than what the fleet holds
   * loses (last writer wins) and changes nothing.
   */
  loadFiles(): void {
    const { settingsDir } = this.components.settings;
    let names: string[];
    try {
      names = readdirSync(settingsDir).filter((n) => n.endsWith('.setting')).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.components.log.warn(`fleet settings ${settingsDir}: ${(e as Error).message}`);
      return;
    }
    const fresh: Uint8Array[] = [];
    for (const n of names) {
      const bytes = this.loadFile(join(settingsDir, n));
      if (bytes) fresh.push(bytes);
    }
    if (fresh.length) this.init.gossip(fresh);
  }

  /** One setting file merged into the state; its bytes when they were news. */
  private loadFile(file: string): Uint8Array | null {
    let why: string | null = null;
    let mtime = 0;
    let fresh: Uint8Array | null = null;
    try {
      mtime = lstatSync(file).mtimeMs;
      const read = readRegularFile(file, { maxBytes: MAX_SETTING_FILE, noFollow: true });
      if (read === null) return null;
      const bytes = new Uint8Array(read);
      const r = this.components.state.merge(bytes);
      if (!r.ok) why = r.reason;
      else if (!r.key.startsWith('setting/')) why = 'not a setting entry';
      else if (r.changed) fresh = bytes;
    } catch (e) {
      why = (e as Error).message;
    }
    if (why && this.warned.get(file) !== mtime) {
      this.warned.set(file, mtime);
      this.components.log.warn(`fleet setting ${file} ignored: ${why}`);
    }
    return fresh;
  }

  /** A setting changed in the fleet state: keep it on flash, log it, tell the listeners. */
  changed(name: string): void {
    const value = this.components.state.setting(name) ?? null;
    this.keep(name);
    this.components.log.info(`fleet setting ${name} ${value === null ? 'withdrawn' : `= ${JSON.stringify(value)}`}`);
    for (const h of this.handlers) queueMicrotask(() => this.call(h, name, value));
  }

  onSetting(handler: SettingHandler): () => void {
    this.handlers.add(handler);
    // The settings already in force count as news to a new listener (the agent applies them at start).
    const now = this.components.state.settings();
    queueMicrotask(() => {
      for (const [name, value] of Object.entries(now)) if (this.handlers.has(handler)) this.call(handler, name, value);
    });
    return () => void this.handlers.delete(handler);
  }

  private call(h: SettingHandler, name: string, value: string | null): void {
    try {
      h(name, value);
    } catch (e) {
      this.components.log.error(`fleet setting ${name} handler: ${(e as Error).message}`);
    }
  }

  /** Keeps the setting (or its withdrawal) as the file `pki setting` makes. */
  private keep(name: string): void {
    const e = this.components.state.entry(`setting/${name}`);
    if (!e) return;
    // The key was checked when the entry was merged: letters, digits, '_', '.', '-' only.
    const file = join(this.components.settings.settingsDir, `${name}.setting`);
    try {
      const owns = (b: Buffer): boolean => {
        try {
          return decodeEntry(new Uint8Array(b)).key === `setting/${name}`;
        } catch {
          return false;
        }
      };
      keepFile(file, e.bytes, { owns, maxBytes: MAX_SETTING_FILE, what: 'fleet setting' });
    } catch (err) {
      this.components.log.warn(`cannot keep fleet setting ${name} in ${file}: ${(err as Error).message}`);
    }
  }
}
