// The action journal: what was done, why, when, and how it ended. Persisted (flash on a router)
// so that a restart knows which temporary settings to restore and which disruptive actions
// already ran this hour. Flash wears: routine updates are batched and written at most once per
// minWriteIntervalMs; only an action about to change the system forces a write (so that a crash
// in the middle of it is known afterwards), and actions themselves are rate-limited.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ActionKind, ActionTarget, RevertState } from './actions/index.ts';
import type { Connectivity, Evidence, FindingKind } from './findings.ts';

export type EntryState =
  | 'dry-run' // planned, not done (dry-run mode)
  | 'applying' // being applied: seen after a restart, the action was interrupted
  | 'verifying' // applied, inside its commit-confirm window
  | 'holding' // helped; temporary, undone when the hold ends
  | 'kept' // helped; permanent
  | 'restored' // temporary change undone after its hold (or at shutdown/restart)
  | 'rolled-back' // made things worse: undone
  | 'no-effect' // did not help: undone where it could be, the ladder moves up
  | 'failed' // could not be applied
  | 'interrupted' // the agent stopped while applying it
  | 'superseded'; // someone else changed the setting since: left as they set it, not restored

export interface JournalEntry {
  id: number;
  atMs: number;
  updatedMs: number;
  action: ActionKind;
  target: ActionTarget;
  finding: FindingKind;
  findingKey: string;
  reason: string;
  evidence: Evidence;
  rung: number;
  disruptive: boolean;
  state: EntryState;
  revert: RevertState | null;
  /** When a temporary change is due to be undone. */
  holdUntilMs: number | null;
  before: Connectivity | null;
  after: Connectivity | null;
  outcome: string | null;
}

export interface JournalOptions {
  /** null: memory only (tests, and a router without a writable state dir). */
  path: string | null;
  limit?: number;
  minWriteIntervalMs?: number;
}

export interface JournalStats {
  writes: number;
  writeErrors: number;
  lastWriteError: string | null;
}

const OPEN_STATES: ReadonlySet<EntryState> = new Set(['applying', 'verifying', 'holding']);

export class Journal {
  readonly stats: JournalStats = { writes: 0, writeErrors: 0, lastWriteError: null };
  private entries: JournalEntry[] = [];
  private nextId = 1;
  private dirty = false;
  private lastWriteMs = -Infinity;
  private readonly limit: number;
  private readonly minWriteIntervalMs: number;
  /** Why the persisted journal could not be read, if it could not. */
  readonly loadWarning: string | null = null;

  constructor(private readonly opts: JournalOptions) {
    this.limit = opts.limit ?? 200;
    this.minWriteIntervalMs = opts.minWriteIntervalMs ?? 60_000;
    if (opts.path && existsSync(opts.path)) {
      try {
        const doc = JSON.parse(readFileSync(opts.path, 'utf8')) as { version?: unknown; entries?: unknown };
        if (doc.version !== 1 || !Array.isArray(doc.entries)) throw new Error('not a version 1 journal');
        this.entries = (doc.entries as JournalEntry[]).filter(isEntry).slice(-this.limit);
        this.nextId = this.entries.reduce((m, e) => Math.max(m, e.id), 0) + 1;
      } catch (e) {
        // A corrupt journal must not stop the agent; keep it aside for a human to read.
        this.loadWarning = `${opts.path}: ${(e as Error).message}; starting a new journal`;
        try {
          renameSync(opts.path, `${opts.path}.bad`);
        } catch {
          // nothing more to do
        }
      }
    }
  }

  all(): readonly JournalEntry[] {
    return this.entries;
  }

  /** Entries a previous run left open (applying, verifying, holding). */
  open(): JournalEntry[] {
    return this.entries.filter((e) => OPEN_STATES.has(e.state));
  }

  add(e: Omit<JournalEntry, 'id' | 'updatedMs'>, nowMs: number, critical: boolean): JournalEntry {
    const entry: JournalEntry = { ...e, id: this.nextId++, updatedMs: nowMs };
    this.entries.push(entry);
    // Bounded: drop the oldest closed entries first; open ones carry revert state.
    while (this.entries.length > this.limit) {
      const i = this.entries.findIndex((x) => !OPEN_STATES.has(x.state));
      this.entries.splice(i < 0 ? 0 : i, 1);
    }
    this.touch(nowMs, critical);
    return entry;
  }

  update(entry: JournalEntry, patch: Partial<JournalEntry>, nowMs: number, critical = false): void {
    Object.assign(entry, patch, { updatedMs: nowMs });
    this.touch(nowMs, critical);
  }

  private touch(nowMs: number, critical: boolean): void {
    this.dirty = true;
    if (critical) this.flush(nowMs);
    else this.maybeFlush(nowMs);
  }

  /** Writes if there is something new and the last write is old enough. */
  maybeFlush(nowMs: number): void {
    if (this.dirty && nowMs - this.lastWriteMs >= this.minWriteIntervalMs) this.flush(nowMs);
  }

  flush(nowMs: number): void {
    if (!this.dirty) return;
    this.dirty = false;
    const path = this.opts.path;
    if (!path) return;
    try {
      mkdirSync(dirname(path), { recursive: true });
      // Write then rename: a power cut leaves the old journal or the new one, never half of one.
      writeFileSync(`${path}.tmp`, JSON.stringify({ version: 1, entries: this.entries }));
      renameSync(`${path}.tmp`, path);
      this.lastWriteMs = nowMs;
      this.stats.writes++;
    } catch (e) {
      this.stats.writeErrors++;
      this.stats.lastWriteError = (e as Error).message;
    }
  }
}

function isEntry(x: unknown): x is JournalEntry {
  const e = x as JournalEntry;
  return typeof e === 'object' && e !== null && typeof e.id === 'number' && typeof e.action === 'string' &&
    typeof e.state === 'string' && typeof e.atMs === 'number' && typeof e.target === 'object' && e.target !== null;
}
