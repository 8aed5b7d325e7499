// Optional copy of the event queue on flash, so that events of an outage survive a restart of
// the agent. Flash wears and is slow: the file is rewritten whole (write to .tmp, fsync, rename,
// so a power cut leaves the old or the new file, never half of one), at most once per
// `minIntervalMs`, only when the queue changed, and removed once the queue is empty; while the
// broker is reachable the queue drains between writes and the flash is not touched at all.
// The path comes from the config: a file there that is not an event buffer (say /etc/passwd)
// is never read past its first line's check, replaced or deleted.
import { readRegularFile, SafeReadError } from '../flash/safe-read.ts';
import { ForeignFileError, removeOwnFile, writeFileAtomic } from '../flash/write-atomic.ts';

const HEADER = JSON.stringify({ x0tta6bl4: 'event-buffer', v: 1 });
const HEADER_LINE = Buffer.from(`${HEADER}\n`);

/** An event is at most a few KiB; a buffer file is bounded by the queue limit times that. */
export function maxQueueFileBytes(limit: number): number {
  return Math.max(1024 * 1024, limit * 16 * 1024);
}

/** True when the bytes are an event buffer this agent wrote (they start with its header line). */
export function isQueueFile(bytes: Buffer): boolean {
  return bytes.subarray(0, HEADER_LINE.length).equals(HEADER_LINE);
}

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
  let bytes: Buffer | null;
  try {
    bytes = readRegularFile(path, { maxBytes: maxQueueFileBytes(limit), noFollow: true });
  } catch (e) {
    throw new QueueFileError(`${(e as Error).message}`);
  }
  if (bytes === null) return { payloads: [], skipped: 0, dropped: 0 };
  if (!isQueueFile(bytes)) throw new QueueFileError(`${path}: exists and is not an event buffer this agent wrote`);
  const lines = bytes.toString('utf8').split('\n');
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
  /** The queue's bound (sizes the largest buffer file read back; default 1000). */
  limit?: number;
  minIntervalMs: number;
  /** The queue's current content, read when a write happens. */
  payloads: () => string[];
  /** foreign: the path holds something the agent did not write (it was left alone). */
  onError: (message: string, foreign: boolean) => void;
}

export class QueueFile {
  writes = 0;
  errors = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastWriteAt = 0;
  private onDisk: string | null = null;

  constructor(private readonly opts: QueueFileOptions) {}

  /** The file as loaded at start counts as written (it is what is on flash). */
  adopt(payloads: string[]): void {
    this.onDisk = payloads.length ? render(payloads) : null;
  }

  /** The queue changed: write it later, batched with whatever else changes meanwhile. */
  markDirty(): void {
    if (this.timer) return;
    const wait = Math.max(this.lastWriteAt + this.opts.minIntervalMs - Date.now(), Math.min(1000, this.opts.minIntervalMs));
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
    const payloads = this.opts.payloads();
    const content = payloads.length ? render(payloads) : null;
    if (content === this.onDisk) return;
    this.lastWriteAt = Date.now();
    try {
      const maxBytes = maxQueueFileBytes(this.opts.limit ?? 1000);
      if (content === null) {
        removeOwnFile(this.opts.path, isQueueFile, maxBytes, 'event buffer');
      } else {
        writeFileAtomic(this.opts.path, content, { mode: 0o600, existing: isQueueFile, maxExistingBytes: maxBytes, what: 'event buffer' });
      }
      this.onDisk = content;
      this.writes++;
    } catch (e) {
      this.errors++;
      const foreign = e instanceof ForeignFileError || e instanceof SafeReadError;
      this.opts.onError(foreign ? (e as Error).message : `cannot write event buffer ${this.opts.path}: ${(e as Error).message}`, foreign);
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
