// A local opkg feed: the Packages index OpenWrt's scripts/ipkg-make-index.sh writes (each
// package's control fields, then Filename, Size and SHA256sum), so that `opkg update` and
// `opkg upgrade` work against /feed in the test router as against a real feed.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTar } from '../packaging/tar-reader.ts';

function controlOf(ipk: Buffer, name: string): string {
  const member = readTar(ipk).find((e) => e.name === './control.tar.gz');
  const control = member && readTar(member.data).find((e) => e.name === './control');
  if (!control) throw new Error(`feed-index: ${name} has no control file`);
  return control.data.toString('utf8').trimEnd();
}

/** Writes <dir>/Packages for every .ipk in `dir`. */
export function writeFeedIndex(dir: string): void {
  const stanzas = readdirSync(dir)
    .filter((f) => f.endsWith('.ipk'))
    .sort()
    .map((f) => {
      const ipk = readFileSync(join(dir, f));
      const sha = createHash('sha256').update(ipk).digest('hex');
      // ipkg-make-index.sh puts Filename/Size/SHA256sum before the Description.
      const control = controlOf(ipk, f).replace(/^Description:/m, `Filename: ${f}\nSize: ${ipk.length}\nSHA256sum: ${sha}\nDescription:`);
      return control + '\n';
    });
  writeFileSync(join(dir, 'Packages'), stanzas.join('\n'));
}
