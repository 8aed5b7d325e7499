// Keeps a copy of something the fleet agreed on (a CA-signed setting, the newest CRL) on this
// router's flash, so that it survives a restart of the whole fleet: written only when it
// changed (flash wear), atomically (a crash leaves the old copy or the new, never half), and
// only over a file of the same kind: the path may come from the config (crl_file), and a file
// there that is not ours (say /etc/passwd) is left byte for byte as it is.
import { readRegularFile } from '../flash/safe-read.ts';
import { ForeignFileError, writeFileAtomic } from '../flash/write-atomic.ts';

export interface KeepFileOptions {
  /** True when the bytes now in the file are of the kind kept there (they may be replaced). */
  owns(existing: Buffer): boolean;
  maxBytes: number;
  /** For messages: "CRL", "fleet setting". */
  what: string;
}

/** Writes `bytes` to `file` unless it already holds them; true when written. Throws on I/O errors and foreign files. */
export function keepFile(file: string, bytes: Uint8Array, o: KeepFileOptions): boolean {
  const onDisk = readRegularFile(file, { maxBytes: o.maxBytes, noFollow: true });
  if (onDisk !== null) {
    if (Buffer.from(bytes).equals(onDisk)) return false;
    if (!o.owns(onDisk)) throw new ForeignFileError(`${file}: exists and is not a ${o.what} file; left untouched`);
  }
  writeFileAtomic(file, bytes, { mode: 0o644, dirMode: 0o755, existing: o.owns, maxExistingBytes: o.maxBytes, what: o.what });
  return true;
}
