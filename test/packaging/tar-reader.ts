// Reads a (gzip'd) tar the way the tests need to check it header by header: name, type, mode,
// owner, size, mtime and the raw uname/gname fields, for ustar and GNU headers. Written
// independently of scripts/package.mjs (which uses GNU tar) so the two can disagree.
import { gunzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  uname: string;
  gname: string;
  magic: string;
  linkname: string;
  data: Buffer;
}

function str(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

function octal(b: Buffer, off: number, len: number): number {
  const s = str(b, off, len).trim();
  if (!/^[0-7]*$/.test(s)) throw new Error(`bad octal field '${s}' at ${off}`);
  return s === '' ? 0 : parseInt(s, 8);
}

export function readTar(buf: Buffer): TarEntry[] {
  const tar = buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf;
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | null = null;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== octal(h, 148, 8)) throw new Error(`tar header checksum mismatch at ${off}`);
    const size = octal(h, 124, 12);
    const typeflag = String.fromCharCode(h[156]!);
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (typeflag === 'L') {
      longName = str(data, 0, data.length);
      continue;
    }
    // POSIX ustar ("ustar\0") may split long names into prefix/name; GNU ("ustar  ") does not.
    const posix = str(h, 257, 8) === 'ustar';
    const prefix = posix ? str(h, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    longName = null;
    out.push({
      name,
      typeflag,
      type: typeflag === '5' ? 'dir' : typeflag === '0' || typeflag === '\0' ? 'file' : typeflag === '2' ? 'symlink' : 'other',
      mode: octal(h, 100, 8),
      uid: octal(h, 108, 8),
      gid: octal(h, 116, 8),
      size,
      mtime: octal(h, 136, 12),
      uname: str(h, 265, 32),
      gname: str(h, 297, 32),
      magic: h.subarray(257, 265).toString('latin1'),
      linkname: str(h, 157, 100),
      data: Buffer.from(data),
    });
  }
  return out;
}
