// Keeps a copy of something the fleet agreed on (a CA-signed setting, the newest CRL) on this
// router's flash, so that it survives a restart of the whole fleet: written only when it
// changed (flash wear), atomically (a crash leaves the old copy or the new, never half).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes `bytes` to `file` unless it already holds them; true when written. Throws on I/O errors. */
export function keepFile(file: string, bytes: Uint8Array): boolean {
  try {
    if (Buffer.from(bytes).equals(readFileSync(file))) return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return true;
}
