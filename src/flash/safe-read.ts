// Reading a file whose path comes from outside (the config, the state directory): only a regular
// file, at most `maxBytes`, never blocking. A FIFO would block the event loop on open, a device
// such as /dev/zero would never end, and merely opening some devices has side effects, so the
// path is stat'ed before it is opened; the open is non-blocking and the open file is checked
// again (the path may have changed between the two).
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

export class SafeReadError extends Error {
  override readonly name = 'SafeReadError';
  constructor(
    path: string,
    /** What is wrong, without the path (a caller may word it its own way). */
    readonly reason: string,
    /** The errno code behind it, when there is one (ENOENT, EACCES, ELOOP), or EFTYPE / EFBIG. */
    readonly code: string | null = null,
  ) {
    super(`${path}: ${reason}`);
  }
}

export interface SafeReadOptions {
  /** Larger files are refused (one line naming the limit). */
  maxBytes: number;
  /** Refuse a symlink at the path itself: for files the agent also writes there. */
  noFollow?: boolean;
}

/** What the path is, in words, when it is not a regular file. */
export function describeKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFile()) return 'a regular file';
  return 'not a regular file';
}

function errnoMessage(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a parent of the path is not a directory';
    case 'ELOOP':
      return 'is a symbolic link (refused: the agent writes this file itself)';
    default:
      return e.code ?? e.message;
  }
}

function fail(path: string, why: string, code: string | null = null): never {
  throw new SafeReadError(path, why, code);
}

function limitText(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} bytes`;
}

/**
 * The file's bytes, or null when nothing is at the path (ENOENT). Anything else that is wrong
 * (a directory, a FIFO, a device, a symlink with noFollow, too big, unreadable) throws a
 * SafeReadError with one line naming the path.
 */
export function readRegularFile(path: string, o: SafeReadOptions): Buffer | null {
  let st: Stats;
  try {
    st = o.noFollow ? lstatSync(path) : statSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return null;
    fail(path, errnoMessage(err), err.code ?? null);
  }
  if (st.isSymbolicLink()) fail(path, 'is a symbolic link (refused: the agent writes this file itself)', 'ELOOP');
  if (!st.isFile()) fail(path, `is ${describeKind(st)}, not a regular file`, 'EFTYPE');
  if (st.size > o.maxBytes) fail(path, `is ${st.size} bytes, more than the ${limitText(o.maxBytes)} such a file can be`, 'EFBIG');
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (o.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return null;
    fail(path, errnoMessage(err), err.code ?? null);
  }
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile()) fail(path, `is ${describeKind(fst)}, not a regular file`, 'EFTYPE');
    // One byte past the limit: a file that grows while it is read (or a /proc file, whose size
    // says 0) is still caught, and the read stays bounded.
    let buf = Buffer.alloc(Math.min(Math.max(fst.size, 4096), o.maxBytes) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > o.maxBytes) break;
        const bigger = Buffer.alloc(Math.min(buf.length * 2, o.maxBytes + 1));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > o.maxBytes) fail(path, `is more than the ${limitText(o.maxBytes)} such a file can be`, 'EFBIG');
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof SafeReadError) throw e;
    const err = e as NodeJS.ErrnoException;
    fail(path, `cannot read: ${errnoMessage(err)}`, err.code ?? null);
  } finally {
    closeSync(fd);
  }
}
