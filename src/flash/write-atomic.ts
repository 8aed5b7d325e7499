// How the agent writes what it keeps on the router's flash (identity key, event buffer, journal,
// fleet copies): to a temporary file, fsync'd, then renamed over the old one, so that a crash or a
// power cut leaves the old content or the new, never half of either.
// The paths come from the config and live in directories others may share, so: the temporary
// file is created exclusively under a random name without following symlinks (a link planted
// there cannot redirect the write), gets its mode with fchmod (the umask cannot widen it), is
// removed again on any failure (a full disk leaves no *.tmp-* behind), and the file at the
// target is replaced only when it is what the agent writes there.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { readRegularFile } from './safe-read.ts';

/** The file at the path is not one the agent wrote: it is left as it is. */
export class ForeignFileError extends Error {
  override readonly name = 'ForeignFileError';
}

/**
 * What may be at the target before the write: 'absent' (create only, never replace: the
 * identity key), or a test the current bytes must pass to be replaced (our own format).
 */
export type Existing = 'absent' | ((bytes: Buffer) => boolean);

export interface WriteAtomicOptions {
  mode: number;
  /** Create the directory (with that mode) if missing; without it a missing directory is an error. */
  dirMode?: number;
  existing: Existing;
  /** Largest existing file read for the `existing` test. */
  maxExistingBytes?: number;
  /** For messages: what the file is ("event buffer", "journal"). */
  what?: string;
}

/** Throws ForeignFileError unless the path holds nothing or a regular file `owns` accepts. */
export function checkReplaceable(file: string, owns: (bytes: Buffer) => boolean, maxBytes: number, what = 'file'): void {
  // Throws SafeReadError for a symlink, FIFO, device, directory or an oversized file.
  const bytes = readRegularFile(file, { maxBytes, noFollow: true });
  if (bytes !== null && !owns(bytes)) throw new ForeignFileError(`${file}: exists and is not a ${what} this agent wrote; left untouched`);
}

/** Deletes the file only if it is one the agent wrote (see checkReplaceable); nothing there is fine. */
export function removeOwnFile(file: string, owns: (bytes: Buffer) => boolean, maxBytes: number, what = 'file'): void {
  checkReplaceable(file, owns, maxBytes, what);
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export function writeFileAtomic(file: string, data: Uint8Array | string, opts: WriteAtomicOptions): void {
  if (opts.dirMode !== undefined) {
    const dir = dirname(file);
    const made = mkdirSync(dir, { recursive: true, mode: opts.dirMode });
    // mkdir's mode passes through the umask; a directory we made gets exactly dirMode.
    if (made !== undefined) chmodSync(dir, opts.dirMode);
  }
  const maxExisting = opts.maxExistingBytes ?? 16 * 1024 * 1024;
  if (typeof opts.existing === 'function') checkReplaceable(file, opts.existing, maxExisting, opts.what);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, opts.mode);
  try {
    try {
      fchmodSync(fd, opts.mode);
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.existing === 'absent') {
      // link() never replaces: EEXIST if something appeared at the path meanwhile.
      linkSync(tmp, file);
      unlinkSync(tmp);
    } else {
      renameSync(tmp, file);
    }
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone (renamed) or never made
    }
    throw e;
  }
}
