// How the agent writes what it keeps on the router's flash (identity key, event buffer, fleet
// copies): to a temporary file, fsync'd, then renamed over the old one, so that a crash or a
// power cut leaves the old content or the new, never half of either.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** dirMode: create the directory (with that mode) if missing; without it a missing directory is an error. */
export function writeFileAtomic(file: string, data: Uint8Array | string, opts: { mode: number; dirMode?: number }): void {
  if (opts.dirMode !== undefined) mkdirSync(dirname(file), { recursive: true, mode: opts.dirMode });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', opts.mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
