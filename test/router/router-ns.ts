// Runs a router root in a new mount+PID+UTS namespace: `unshare -m -p -u -f` starts the root's own
// busybox, which mounts proc/sys/tmp/dev, pivot_roots into the root (ujail needs a real root,
// not a chroot) and execs /sbin/x0-nsinit as the namespace's PID 1. Commands run inside with
// `nsenter -t <pid 1> -m -p -u -r -w`. Killing that PID 1 kills every process in the namespace,
// and with the last one the mount namespace and its tmpfs mounts go too.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const BOOT = `set -e
R="$1"
hostname x0-router
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys" 2>/dev/null || true
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount -t tmpfs -o mode=755 tmpfs "$R/dev"
mknod -m 666 "$R/dev/null" c 1 3
mknod -m 666 "$R/dev/zero" c 1 5
mknod -m 666 "$R/dev/random" c 1 8
mknod -m 666 "$R/dev/urandom" c 1 9
mknod -m 666 "$R/dev/tty" c 5 0
mkdir -p "$R/dev/shm" "$R/dev/pts" "$R/.oldroot"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts" 2>/dev/null && ln -s pts/ptmx "$R/dev/ptmx" || true
cd "$R"
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot
exec /sbin/x0-nsinit
`;

export const NS_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export interface RouterNamespace {
  /** Host PID of the namespace's PID 1. */
  pid: number;
  /** Runs a shell command inside (as root, in the namespace's root and PID namespace). */
  exec(cmd: string, opts?: { input?: string; timeoutMs?: number }): SpawnSyncReturns<string>;
  /** A file inside the namespace's view (its tmpfs /tmp included), read from the host. */
  path(p: string): string;
  /** The PID namespace's identity (readlink /proc/PID/ns/pid), to find its processes from the host. */
  pidNs: string;
  /** Kills every process in the namespace; idempotent. */
  stop(): Promise<void>;
}

function childPid(parent: number): number | undefined {
  try {
    const kids = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, tries: number, proc: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (ok()) return;
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`router namespace exited before ${what}:\n${log()}`);
    await sleep(100);
  }
  throw new Error(`router namespace: no ${what} after ${tries / 10} s:\n${log()}`);
}

/** Starts the namespace on `root` (made by assembleRouterRoot) and waits until rpcd and uhttpd run. */
export async function startNamespace(root: string): Promise<RouterNamespace> {
  let out = '';
  const proc = spawn('unshare', ['--mount', '--pid', '--uts', '--fork', '--propagation', 'private', join(root, 'bin/busybox'), 'sh', '-c', BOOT, 'boot', root], {
    // stdin stays open for the namespace's life: see the end of NS_INIT.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  let pid = 0;
  const inner = (p: string) => `/proc/${pid}/root${p}`;
  const logs = () => {
    let s = out;
    for (const f of ['/tmp/log/procd.log', '/tmp/log/ubusd.log']) if (pid && existsSync(inner(f))) s += `\n--- ${f}\n${readFileSync(inner(f), 'utf8').slice(-4000)}`;
    return s;
  };
  const kill = () => {
    if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  };
  process.once('exit', kill);
  await waitFor('PID 1', () => (pid = childPid(proc.pid!) ?? 0) > 0, 100, proc, logs);
  try {
    await waitFor('/tmp/x0-ready', () => existsSync(inner('/tmp/x0-ready')), 600, proc, logs);
  } catch (e) {
    kill();
    throw e;
  }
  return {
    pid,
    pidNs: readlinkSync(`/proc/${pid}/ns/pid`),
    exec(cmd, opts = {}) {
      return spawnSync('nsenter', ['-t', String(pid), '-m', '-p', '-u', '-r', '-w', '/bin/sh', '-c', cmd], {
        encoding: 'utf8',
        input: opts.input ?? '',
        timeout: opts.timeoutMs ?? 60_000,
        env: { PATH: NS_PATH, HOME: '/root' },
      });
    },
    path: inner,
    async stop() {
      kill();
      process.removeListener('exit', kill);
      if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
    },
  };
}

/** Host PIDs of the processes still in a PID namespace (empty after stop()). */
export function processesIn(pidNs: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/pid`) === pidNs) out.push(Number(d));
    } catch {
      /* exited meanwhile, or not ours to read */
    }
  }
  return out;
}
