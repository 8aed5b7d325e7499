// A real Node 18 (Debian bookworm's nodejs 18.20.4, amd64) to run the shipped bundle under,
// fetched with `apt-get download` into a private cache and unpacked with `dpkg-deb -x`: the
// machine's apt sources and installed packages stay as they are.
//
// Debian's node loads some of its own built-ins (acorn, cjs-module-lexer, undici) from absolute
// paths under /usr/share/nodejs. The wrapper this helper writes runs node in a private mount
// namespace (unshare -m, root only) with the sysroot's /usr/share laid over the machine's with
// overlayfs, so nothing on the machine is changed. `unshare` without --fork execs node in the
// same process: a signal to the wrapper's pid reaches node itself.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const LIB = 'usr/lib/x86_64-linux-gnu';

// The newest 18.20.x Debian offers (security updates bump the revision), not a pinned one that
// would vanish; the machine's own nodejs (20 here) is never the candidate we want.
function debianNode18(): string | null {
  const r = spawnSync('apt-cache', ['madison', 'nodejs'], { encoding: 'utf8' });
  const versions = (r.stdout ?? '').split('\n').map((l) => l.split('|')[1]?.trim() ?? '').filter((v) => v.startsWith('18.20.'));
  return versions[0] ?? null;
}

function run(argv: string[], cwd?: string): { ok: boolean; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8', timeout: 300_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || String(r.error ?? '') };
}

/** The path of an executable that runs Node 18.20.x, or the reason there is none. */
export function node18(): { node: string } | { missing: string } {
  if (process.arch !== 'x64') return { missing: `Debian's amd64 node on ${process.arch}` };
  if (process.getuid?.() !== 0) return { missing: 'root (for unshare -m and the overlay mount)' };
  const version = debianNode18();
  if (!version) return { missing: "Debian's nodejs 18.20.x (apt-cache madison nodejs lists none: apt-get update?)" };
  const PACKAGES = [`nodejs=${version}`, `libnode108=${version}`, 'libc-ares2', 'node-acorn', 'node-cjs-module-lexer', 'node-undici'];
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'x0tta6bl4', 'node18', version);
  const wrapper = join(dir, 'node');
  if (!existsSync(wrapper)) {
    mkdirSync(dir, { recursive: true });
    const debs = mkdtempSync(join(tmpdir(), 'x0-node18-debs-'));
    const staging = mkdtempSync(join(dir, 'root.'));
    try {
      const got = run(['apt-get', 'download', ...PACKAGES], debs);
      if (!got.ok) return { missing: `apt-get download ${PACKAGES.join(' ')}: ${got.out.split('\n').pop()}` };
      for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
        const x = run(['dpkg-deb', '-x', join(debs, deb), staging]);
        if (!x.ok) return { missing: `dpkg-deb -x ${deb}: ${x.out}` };
      }
      const root = join(dir, 'root');
      rmSync(root, { recursive: true, force: true });
      renameSync(staging, root);
      writeFileSync(
        wrapper,
        [
          '#!/bin/sh',
          `R='${root}'`,
          `exec unshare -m sh -c 'mount --make-rprivate / && mount -t overlay overlay -o "lowerdir=$0/usr/share:/usr/share" /usr/share && LD_LIBRARY_PATH="$0/${LIB}" exec "$0/usr/bin/node" "$@"' "$R" "$@"`,
          '',
        ].join('\n'),
      );
      chmodSync(wrapper, 0o755);
    } finally {
      rmSync(debs, { recursive: true, force: true });
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const v = run([wrapper, '--version']);
  if (!v.ok || !v.out.startsWith('v18.20.')) return { missing: `${wrapper} --version: ${v.out}` };
  return { node: wrapper };
}
