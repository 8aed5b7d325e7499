// The test router: OpenWrt's real userspace (procd, ujail, ubus, rpcd, uhttpd, LuCI, opkg),
// built from the vendored sources, assembled into a scratch root and run in a mount+PID
// namespace. `startRouter` is the one entry point for tests, e.g. LuCI error cases:
//
//   const r = await startRouter({ ipks: [agentIpk, luciIpk] });
//   r.exec('/etc/init.d/x0tta6bl4 stop'); ... page at r.url ... await r.stop();
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { buildOpenwrtUserspace, missingForBuild, ROUTER_COMPONENTS } from './openwrt-userspace.ts';
import { writeFeedIndex } from './feed-index.ts';
import { assembleRouterRoot } from './router-root.ts';
import { startNamespace } from './router-ns.ts';

/** The decoy root password of the test router (LuCI login). */
export const ROUTER_PASSWORD = 'x0-router-test-pw';

export interface Router {
  /** The root directory on the host (its /tmp is a tmpfs only the namespace sees: use path()). */
  root: string;
  /** LuCI's base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  /** The router's PID namespace (see processesIn). */
  pidNs: string;
  /** Runs a shell command inside the router as root. */
  exec(cmd: string, opts?: { input?: string; timeoutMs?: number }): SpawnSyncReturns<string>;
  /** Like exec, but throws with the output when the command fails; returns stdout. */
  run(cmd: string, opts?: { input?: string; timeoutMs?: number }): string;
  /** Host path of a path inside the router (works for its tmpfs too). */
  path(p: string): string;
  /** Copies a host file into the router's /feed and returns its path inside. */
  copyIn(hostPath: string, name?: string): string;
  /** Copies ipks into the router's local feed (/feed, `src x0_local` in opkg.conf) and rewrites its index. */
  publish(hostPaths: string[]): void;
  /** Stops every process of the router and deletes its root. */
  stop(): Promise<void>;
}

/** Why the router test bed cannot run here, or undefined when it can. */
export function routerUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (unshare, pivot_root, mount)';
  const missing = missingForBuild(ROUTER_COMPONENTS);
  // util-linux (unshare, nsenter, flock), openssl (the decoy root password's hash), busybox-static.
  for (const tool of ['unshare', 'nsenter', 'flock', 'openssl', 'busybox']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) missing.push(tool);
  if (missing.length) return `missing ${missing.join(', ')}`;
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Builds (or takes from the cache) the userspace, assembles a root and starts it. */
export async function startRouter(opts: { ipks?: string[] } = {}): Promise<Router> {
  const { root: userspace, built } = buildOpenwrtUserspace(ROUTER_COMPONENTS);
  if (built) process.stderr.write(`router: built OpenWrt userspace into ${userspace}\n`);
  const port = await freePort();
  const root = assembleRouterRoot(userspace, { rootPassword: ROUTER_PASSWORD, httpPort: port });
  let ns;
  try {
    ns = await startNamespace(root);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  const router: Router = {
    root,
    url: `http://127.0.0.1:${port}`,
    pidNs: ns.pidNs,
    exec: ns.exec,
    run(cmd, o) {
      const r = ns.exec(cmd, o);
      if (r.status !== 0) throw new Error(`router: '${cmd}' failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    path: ns.path,
    copyIn(hostPath, name = basename(hostPath)) {
      copyFileSync(hostPath, join(root, 'feed', name));
      return `/feed/${name}`;
    },
    publish(hostPaths) {
      for (const p of hostPaths) router.copyIn(p);
      writeFeedIndex(join(root, 'feed'));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await ns.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (opts.ipks?.length) {
    const inside = opts.ipks.map((p) => router.copyIn(p));
    router.run(`opkg install ${inside.join(' ')}`, { timeoutMs: 120_000 });
  }
  return router;
}
