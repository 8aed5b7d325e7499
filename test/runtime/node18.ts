// A real Node 18 (Debian bookworm's nodejs 18.20, amd64) to run the shipped bundle under: the
// shared Debian-node fetcher of test:arch (test/arch/debian-node.ts: a private apt state, the
// package list resolved by apt, a cached sysroot), run natively in a private mount namespace
// with the sysroot's /usr/share overlaid (root only). The machine's apt sources and installed
// packages stay as they are.
import { spawnSync } from 'node:child_process';
import { debianNode } from '../arch/debian-node.ts';

/** The path of an executable that runs Node 18.20.x, or the reason there is none. */
export function node18(): { node: string } | { missing: string } {
  if (process.arch !== 'x64') return { missing: `Debian's amd64 node on ${process.arch}` };
  if (process.getuid?.() !== 0) return { missing: 'root (for unshare -m and the overlay mount)' };
  for (const tool of ['unshare', 'mount']) if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) return { missing: tool };
  const found = debianNode('bookworm', 'amd64');
  if ('missing' in found) return found;
  if (!found.version.startsWith('18.20.')) return { missing: `Debian's nodejs 18.20.x (bookworm has ${found.version})` };
  const v = spawnSync(found.node, ['--version'], { encoding: 'utf8', timeout: 120_000 });
  if (v.status !== 0 || !v.stdout.startsWith('v18.20.')) return { missing: `${found.node} --version: ${v.stdout}${v.stderr}` };
  return { node: found.node };
}
