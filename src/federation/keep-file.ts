// Keeps a copy of something the fleet agreed on (a CA-signed setting, the newest CRL) on this
// router's flash, so that it survives a restart of the whole fleet: written only when it
// changed (flash wear), atomically (a crash leaves the old copy or the new, never half).
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../flash/write-atomic.ts';

/** Writes `bytes` to `file` unless it already holds them; true when written. Throws on I/O errors. */
export function keepFile(file: string, bytes: Uint8Array): boolean {
  try {
    if (Buffer.from(bytes).equals(readFileSync(file))) return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  writeFileAtomic(file, bytes, { mode: 0o644, dirMode: 0o755 });
  return true;
}
