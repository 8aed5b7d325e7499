// A cpio "newc" archive writer: just enough for an initramfs (directories, files, symlinks).
// Written here rather than shelling out to cpio so that building the initramfs needs nothing
// beyond Node on the host.

export interface CpioEntry {
  path: string;
  /** File type and permission bits, e.g. 0o100755 (file), 0o040755 (dir), 0o120777 (symlink). */
  mode: number;
  /** File contents, or the link target for a symlink. */
  data?: Uint8Array | string;
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;
const hex8 = (n: number) => n.toString(16).padStart(8, '0');

function header(ino: number, mode: number, size: number, nameLen: number): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return '070701' + [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, nameLen, 0].map(hex8).join('');
}

export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const push = (ino: number, path: string, mode: number, data: Buffer) => {
    const name = Buffer.from(`${path}\0`);
    const head = Buffer.from(header(ino, mode, data.length, name.length), 'latin1');
    parts.push(head, name, Buffer.alloc(pad4(head.length + name.length)), data, Buffer.alloc(pad4(data.length)));
  };
  entries.forEach((e, i) => {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    push(i + 1, e.path.replace(/^\/+/, ''), e.mode, data);
  });
  push(0, 'TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}
