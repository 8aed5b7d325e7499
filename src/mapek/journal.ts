// The action journal: what was done, why, when, and how it ended. Persisted (flash on a router)
// so that a restart knows which temporary settings to restore and which disruptive actions
// already ran this hour. Flash wears: routine updates are batched and written at most once per
// minWriteIntervalMs; only an action about to change the system forces a write (so that a crash
// in the middle of it is known afterwards), and actions themselves are rate-limited.
// The path is under agent.state_dir: a file there that is not a journal is never moved,
// replaced or deleted (the journal then lives in memory only, and /health says so).
import { renameSync } from 'node:fs';
import { readRegularFile } from '../flash/safe-read.ts';
import { writeFileAtomic } from '../flash/write-atomic.ts';
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
  /** W3C traceparent of the action's execute span (tracing on): verify and rollback join its trace. */
  trace?: string;
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
/** 200 entries with their evidence are far below this. */
export const MAX_JOURNAL_BYTES = 8 * 1024 * 1024;
// What every journal this agent writes starts with (JSON.stringify keeps the key order).
const JOURNAL_START = Buffer.from('{"version":1,"entries":[');

/** True when the bytes are a journal this agent wrote (perhaps damaged), false for anything else. */
export function isJournalFile(bytes: Buffer): boolean {
  return bytes.subarray(0, JOURNAL_START.length).equals(JOURNAL_START);
}

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
  /** The file written, or null: memory only (none configured, or the file there was refused). */
  readonly path: string | null;
  /** Why the configured file is not used at all (memory only), if it is not. */
  readonly refused: string | null = null;

  constructor(opts: JournalOptions) {
    this.limit = opts.limit ?? 200;
    this.minWriteIntervalMs = opts.minWriteIntervalMs ?? 60_000;
    this.path = opts.path;
    if (!opts.path) return;
    let bytes: Buffer | null;
    try {
      // Regular file only, bounded, no symlink: the agent writes this path.
      bytes = readRegularFile(opts.path, { maxBytes: MAX_JOURNAL_BYTES, noFollow: true });
    } catch (e) {
      this.refused = `${(e as Error).message}; the journal is kept in memory only`;
      this.loadWarning = this.refused;
      this.path = null;
      return;
    }
    if (bytes === null) return;
    if (!isJournalFile(bytes)) {
      this.refused = `${opts.path}: exists and is not a journal this agent wrote; left untouched, the journal is kept in memory only`;
      this.loadWarning = this.refused;
      this.path = null;
      return;
    }
    try {
      const doc = JSON.parse(bytes.toString('utf8')) as { version?: unknown; entries?: unknown };
      if (doc.version !== 1 || !Array.isArray(doc.entries)) throw new Error('not a version 1 journal');
      this.entries = (doc.entries as JournalEntry[]).filter(isEntry).slice(-this.limit);
      this.nextId = this.entries.reduce((m, e) => Math.max(m, e.id), 0) + 1;
    } catch (e) {
      // Our own journal, damaged: it must not stop the agent; keep it aside for a human to read.
      this.loadWarning = `${opts.path}: ${(e as Error).message}; kept as ${opts.path}.bad, starting a new journal`;
      try {
        renameSync(opts.path, `${opts.path}.bad`);
      } catch {
        // nothing more to do
      }
    }
  }

  /** For /health: null while the journal is written fine (or memory only by design). */
  problem(): string | null {
    if (this.refused) return this.refused;
    if (this.stats.lastWriteError) return `cannot write ${this.path}: ${this.stats.lastWriteError} (${this.stats.writeErrors} failed writes); retrying`;
    return null;
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
    const path = this.path;
    if (!path) return;
    try {
      // Write then rename: a power cut leaves the old journal or the new one, never half of one.
      writeFileAtomic(path, JSON.stringify({ version: 1, entries: this.entries }), {
        mode: 0o600, dirMode: 0o700, existing: isJournalFile, maxExistingBytes: MAX_JOURNAL_BYTES, what: 'journal',
      });
      this.lastWriteMs = nowMs;
      this.stats.writes++;
      this.stats.lastWriteError = null;
    } catch (e) {
      // Not written: try again at the next change (the entries stay dirty).
      this.dirty = true;
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
