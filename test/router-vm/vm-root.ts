// The router VM's root file system, made on the host before the VM boots: the test router's
// root (test/router: OpenWrt's userspace built from source, busybox, the host's node), the two
// ipks installed into it by real opkg (in the router namespace, so their postinst runs as on a
// router: user created, service enabled), the files procd needs as PID 1 (vm-files.ts) and the
// tools a router with ip-full, tc, nftables and batctl has (the host's, with their libraries).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { buildOpenwrtUserspace, ROUTER_COMPONENTS } from '../router/openwrt-userspace.ts';
import { assembleRouterRoot } from '../router/router-root.ts';
import { startNamespace } from '../router/router-ns.ts';
import { vmFiles, VM_RC_LINKS } from './vm-files.ts';

/** The host tools copied into the root (Debian: iproute2 ip, nftables, batctl), at OpenWrt's paths. */
const HOST_TOOLS: Record<string, string> = { 'usr/sbin/ip': '/usr/sbin/ip', 'usr/sbin/nft': '/usr/sbin/nft', 'usr/sbin/batctl': '/usr/sbin/batctl' };

/** The agent's uci settings for the VM: no boot grace (the VM's uptime is seconds) and no start-up jitter. */
const UCI_SETTINGS = ['x0tta6bl4.healing.boot_grace=0', 'x0tta6bl4.healing.startup_jitter=0', 'x0tta6bl4.healing.verify_window=8', 'x0tta6bl4.agent.node_name=vm-node1'];

export function missingHostTools(): string[] {
  return Object.values(HOST_TOOLS).filter((p) => !existsSync(p));
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

function put(root: string, path: string, mode: number, content: string): void {
  const dest = join(root, path);
  mkdirSync(dirname(dest), { recursive: true });
  if (lstatSync(dest, { throwIfNoEntry: false })) unlinkSync(dest); // never write through a busybox link
  writeFileSync(dest, content);
  chmodSync(dest, mode);
}

/** Copies a host binary and the shared libraries ldd names for it into the root. */
function copyHostBinary(root: string, at: string, src: string): void {
  const dest = join(root, at);
  if (lstatSync(dest, { throwIfNoEntry: false })) unlinkSync(dest); // busybox's applet of the same name
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(realpathSync(src), dest);
  chmodSync(dest, 0o755);
  const ldd = spawnSync('ldd', [src], { encoding: 'utf8' }).stdout ?? '';
  for (const m of ldd.matchAll(/(?:=>\s*)?(\/[^\s)]+)\s*\(0x/g)) {
    const lib = join(root, m[1]!);
    if (existsSync(lib)) continue;
    mkdirSync(dirname(lib), { recursive: true });
    copyFileSync(realpathSync(m[1]!), lib);
  }
}

function inRouter(ns: Awaited<ReturnType<typeof startNamespace>>, cmd: string, timeoutMs = 180_000): string {
  const r = ns.exec(cmd, { timeoutMs });
  if (r.status !== 0) throw new Error(`router-vm root: '${cmd}' failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

export interface VmRoot {
  root: string;
  /** What `opkg install` printed. */
  opkgLog: string;
  remove(): void;
}

/** Assembles the root, installs the ipks with real opkg, adds the VM's boot files. */
export async function prepareVmRoot(ipks: string[]): Promise<VmRoot> {
  const { root: userspace } = buildOpenwrtUserspace(ROUTER_COMPONENTS);
  const root = assembleRouterRoot(userspace, { rootPassword: 'x0-router-vm-test-pw', httpPort: await freePort() });
  try {
    const ns = await startNamespace(root);
    let opkgLog: string;
    try {
      for (const p of ipks) copyFileSync(p, join(root, 'feed', p.replace(/^.*\//, '')));
      opkgLog = inRouter(ns, `opkg install ${ipks.map((p) => `/feed/${p.replace(/^.*\//, '')}`).join(' ')}`);
      // The postinst started the agent on the host, where there is no bat0: stop it, leave it enabled.
      inRouter(ns, `/etc/init.d/x0tta6bl4 stop; ${UCI_SETTINGS.map((s) => `uci set ${s}`).join(' && ')} && uci commit x0tta6bl4`);
    } finally {
      await ns.stop();
    }
    // What the agent's short run in the namespace left (identity, journal) is not the VM's.
    rmSync(join(root, 'etc/x0tta6bl4'), { recursive: true, force: true });
    for (const [at, src] of Object.entries(HOST_TOOLS)) {
      copyHostBinary(root, at, src);
      // busybox's applet of the same name in /sbin or /bin would shadow it for some PATHs.
      const name = at.replace(/^.*\//, '');
      for (const dir of ['sbin', 'bin']) {
        const p = join(root, dir, name);
        if (lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink()) {
          unlinkSync(p);
          symlinkSync(`/${at}`, p);
        }
      }
    }
    for (const [path, [mode, text]] of Object.entries(vmFiles())) put(root, path, mode, text);
    for (const [link, target] of Object.entries(VM_RC_LINKS)) symlinkSync(target, join(root, link));
    // procd's init (early mounts, preinit, then exec /sbin/procd) at OpenWrt's path.
    // (busybox-static brings an init applet there: procd's replaces it.)
    if (lstatSync(join(root, 'sbin/init'), { throwIfNoEntry: false })) unlinkSync(join(root, 'sbin/init'));
    symlinkSync('/usr/sbin/init', join(root, 'sbin/init'));
    for (const d of ['x0vm', 'run']) mkdirSync(join(root, d), { recursive: true });
    return { root, opkgLog, remove: () => rmSync(root, { recursive: true, force: true }) };
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}
