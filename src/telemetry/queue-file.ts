// Optional copy of the event queue on flash, so that events of an outage survive a restart of
// the agent. Flash wears and is slow: the file is rewritten whole (write to .tmp, fsync, rename,
// so a power cut leaves the old or the new file, never half of one), at most once per
// `minIntervalMs`, only when the queue changed, and removed once the queue is empty; while the
// broker is reachable the queue drains between writes and the flash is not touched at all.
import { readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../flash/write-atomic.ts';

const HEADER = JSON.stringify({ x0tta6bl4: 'event-buffer', v: 1 });

export interface LoadedQueue {
  payloads: string[];
  /** Lines that were not events (corruption); not loaded. */
  skipped: number;
  /** Oldest events beyond the buffer limit; not loaded. */
  dropped: number;
}

export class QueueFileError extends Error {
  override readonly name = 'QueueFileError';
}

/** Reads a queue file; a missing file is an empty queue, a foreign one a QueueFileError. */
export function loadQueueFile(path: string, limit: number): LoadedQueue {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { payloads: [], skipped: 0, dropped: 0 };
    throw new QueueFileError(`cannot read event buffer ${path}: ${(e as Error).message}`);
  }
  const lines = text.split('\n');
  if (lines[0] !== HEADER) throw new QueueFileError(`${path} is not an event buffer file (unexpected first line)`);
  const payloads: string[] = [];
  let skipped = 0;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    try {
      const o = JSON.parse(line) as { seq?: unknown };
      if (typeof o !== 'object' || o === null || typeof o.seq !== 'number') throw new Error('not an event');
      payloads.push(line);
    } catch {
      skipped++;
    }
  }
  const dropped = Math.max(0, payloads.length - limit);
  return { payloads: payloads.slice(dropped), skipped, dropped };
}

export interface QueueFileOptions {
  path: string;
  minIntervalMs: number;
  /** The queue's current content, read when a write happens. */
  payloads: () => string[];
  onError: (message: string) => void;
}

export class QueueFile {
  writes = 0;
  errors = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastWriteAt = 0;
  private onDisk: string | null = null;

  constructor(private readonly o: QueueFileOptions) {}

  /** The file as loaded at start counts as written (it is what is on flash). */
  adopt(payloads: string[]): void {
    this.onDisk = payloads.length ? render(payloads) : null;
  }

  /** The queue changed: write it later, batched with whatever else changes meanwhile. */
  markDirty(): void {
    if (this.timer) return;
    const wait = Math.max(this.lastWriteAt + this.o.minIntervalMs - Date.now(), Math.min(1000, this.o.minIntervalMs));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushNow();
    }, wait);
    this.timer.unref();
  }

  /** Writes now if the content differs from the file (on stop, or from the timer). */
  flushNow(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const payloads = this.o.payloads();
    const content = payloads.length ? render(payloads) : null;
    if (content === this.onDisk) return;
    this.lastWriteAt = Date.now();
    try {
      if (content === null) {
        rmSync(this.o.path, { force: true });
      } else {
        writeFileAtomic(this.o.path, content, { mode: 0o600 });
      }
      this.onDisk = content;
      this.writes++;
    } catch (e) {
      this.errors++;
      this.o.onError(`cannot write event buffer ${this.o.path}: ${(e as Error).message}`);
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function render(payloads: string[]): string {
  return `${HEADER}\n${payloads.join('\n')}\n`;
}
