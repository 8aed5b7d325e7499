// Where the bridge binary for this machine is: an explicit path, $X0TTA6BL4_NLBRIDGE, next to
// the bundle (dist/native/), in a development checkout, or where the OpenWrt package puts it.
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MeshError } from '../mesh/driver.ts';

export function bridgeCandidates(arch: string = process.arch): string[] {
  const name = `x0tta6bl4-nlbridge-${arch}`;
  const env = process.env.X0TTA6BL4_NLBRIDGE;
  return [
    ...(env ? [env] : []),
    fileURLToPath(new URL(`./native/${name}`, import.meta.url)),
    fileURLToPath(new URL(`../../dist/native/${name}`, import.meta.url)),
    `/usr/lib/x0tta6bl4/${name}`,
    '/usr/lib/x0tta6bl4/x0tta6bl4-nlbridge',
  ];
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The binary to run; a missing or non-executable one is a MeshError 'TRANSPORT' naming it. */
export function findBridge(explicit?: string, arch: string = process.arch): string {
  if (explicit !== undefined) {
    if (!executable(explicit)) throw new MeshError('TRANSPORT', `netlink bridge not found or not executable: ${explicit}`);
    return explicit;
  }
  const tried = bridgeCandidates(arch);
  const found = tried.find(executable);
  if (!found) {
    throw new MeshError('TRANSPORT', `no netlink bridge for ${arch}; looked in: ${tried.join(', ')} (run npm run build:native)`);
  }
  return found;
}
