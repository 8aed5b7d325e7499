// Who the agent runs as and with which capabilities, read from /proc/self/status, and what that
// means for the host commands the repairs run. On a router the init script starts it through
// ujail as user x0tta6bl4 with CAP_NET_ADMIN only, in the ambient set so that the netlink
// bridge, ip and nft it spawns inherit it; without procd-ujail it runs as root and the init
// script passes the reason in X0TTA6BL4_ROOT_REASON.
import { readFileSync } from 'node:fs';
import type { CommandRunner } from '../mapek/command-runner.ts';
import type { ComponentState } from '../status/types.ts';

// linux/capability.h numbering; names as OCI, ujail and capsh(1) print them.
const CAP_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;
export const CAP_NET_ADMIN = 12;

export class PrivilegesError extends Error {
  override name = 'PrivilegesError';
}

export interface CapabilitySets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  bounding: bigint;
  ambient: bigint;
}

export interface ProcessPrivileges {
  /** Effective uid and gid (the second field of Uid:/Gid:). */
  uid: number;
  gid: number;
  /** The user's name from /etc/passwd, or null when it has none there. */
  user: string | null;
  caps: CapabilitySets;
  noNewPrivs: boolean;
  /** Why the init script left the agent as root (X0TTA6BL4_ROOT_REASON), if it said. */
  rootReason: string | null;
}

/** Capability names in a mask, lowest number first; unknown high bits as cap_<n>. */
export function capNames(mask: bigint): string[] {
  const out: string[] = [];
  for (let i = 0; i < 64; i++) if ((mask >> BigInt(i)) & 1n) out.push(CAP_NAMES[i] ?? `cap_${i}`);
  return out;
}

export const hasCap = (mask: bigint, cap: number): boolean => ((mask >> BigInt(cap)) & 1n) === 1n;

/** Parses the Uid, Gid, Cap* and NoNewPrivs lines of a /proc/<pid>/status text. */
export function parseProcStatus(text: string): Omit<ProcessPrivileges, 'user' | 'rootReason'> {
  const field = (name: string): string => {
    const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text);
    if (!m) throw new PrivilegesError(`no ${name} line in the process status`);
    return m[1]!.trim();
  };
  const id = (name: string): number => {
    const v = Number(field(name).split(/\s+/)[1]);
    if (!Number.isInteger(v) || v < 0) throw new PrivilegesError(`${name} line is not four ids: '${field(name)}'`);
    return v;
  };
  const mask = (name: string): bigint => {
    const v = field(name);
    if (!/^[0-9a-f]{1,16}$/i.test(v)) throw new PrivilegesError(`${name} is not a hex mask: '${v}'`);
    return BigInt(`0x${v}`);
  };
  // CapAmb exists since Linux 4.3 and NoNewPrivs since 4.10; older kernels simply have neither.
  const optional = (name: string) => (new RegExp(`^${name}:`, 'm').test(text) ? mask(name) : 0n);
  return {
    uid: id('Uid'),
    gid: id('Gid'),
    caps: { effective: mask('CapEff'), permitted: mask('CapPrm'), inheritable: mask('CapInh'), bounding: mask('CapBnd'), ambient: optional('CapAmb') },
    noNewPrivs: /^NoNewPrivs:\s*1\s*$/m.test(text),
  };
}

function userName(uid: number, passwd: string): string | null {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && Number(f[2]) === uid && f[2] !== '') return f[0]!;
  }
  return null;
}

/** This process's privileges. Throws PrivilegesError when /proc is unreadable or malformed. */
export function readPrivileges(opts: { statusPath?: string; passwdPath?: string; env?: NodeJS.ProcessEnv } = {}): ProcessPrivileges {
  const statusPath = opts.statusPath ?? '/proc/self/status';
  let text: string;
  try {
    text = readFileSync(statusPath, 'utf8');
  } catch (e) {
    throw new PrivilegesError(`cannot read ${statusPath}: ${(e as Error).message}`);
  }
  const p = parseProcStatus(text);
  let passwd = '';
  try {
    passwd = readFileSync(opts.passwdPath ?? '/etc/passwd', 'utf8');
  } catch {
    // no passwd file: the uid is reported as a number only
  }
  const reason = (opts.env ?? process.env).X0TTA6BL4_ROOT_REASON;
  return { ...p, user: userName(p.uid, passwd), rootReason: reason ? reason.slice(0, 300) : null };
}

const who = (p: ProcessPrivileges) => (p.user ? `${p.user} (uid ${p.uid})` : `uid ${p.uid}`);

/**
 * The 'privileges' component of /health. needsNetAdmin: the batman-adv driver and the repairs
 * need CAP_NET_ADMIN in the ambient set (their programs run as child processes); the simulator
 * needs nothing.
 */
export function privilegesHealth(p: ProcessPrivileges, opts: { needsNetAdmin: boolean }): { state: ComponentState; reason: string } {
  if (p.uid === 0) {
    const why = p.rootReason ?? 'not started by the x0tta6bl4 init script';
    return opts.needsNetAdmin
      ? { state: 'degraded', reason: `running as root with every capability: ${why}` }
      : { state: 'ok', reason: `running as root (${why}); the simulator needs no privileges` };
  }
  const eff = capNames(p.caps.effective);
  const caps = eff.length ? eff.join(',') : 'no capabilities';
  if (!opts.needsNetAdmin) return { state: 'ok', reason: `running as ${who(p)} with ${caps}` };
  if (!hasCap(p.caps.effective, CAP_NET_ADMIN))
    return { state: 'down', reason: `running as ${who(p)} without CAP_NET_ADMIN: batman-adv netlink and the repairs fail (is procd-ujail installed?)` };
  if (!hasCap(p.caps.ambient, CAP_NET_ADMIN))
    return { state: 'down', reason: `running as ${who(p)}; CAP_NET_ADMIN is not ambient, so the netlink bridge, ip and nft run without it` };
  return {
    state: 'ok',
    reason: `running as ${who(p)} with ${caps} (ambient: inherited by the netlink bridge, ip, nft)${p.noNewPrivs ? ', no_new_privs' : ''}; reboot and wifi reload via ubus`,
  };
}

/**
 * A host command as this process can run it: unchanged as root; as an unprivileged user, reboot
 * and wifi reload become ubus calls (allowed by /usr/share/acl.d/x0tta6bl4.json), and what only
 * root can do is refused with the reason instead of failing obscurely.
 */
export function hostCommandFor(argv: readonly string[], p: ProcessPrivileges): { argv: string[] } | { refused: string } {
  if (p.uid === 0 || argv.length === 0) return { argv: [...argv] };
  const prog = argv[0]!.replace(/^.*\//, '');
  const netAdmin = hasCap(p.caps.ambient, CAP_NET_ADMIN) && hasCap(p.caps.effective, CAP_NET_ADMIN);
  if (prog === 'reboot' && argv.length === 1) return { argv: ['ubus', 'call', 'system', 'reboot'] };
  if (prog === 'wifi' && argv[1] === 'reload' && argv.length === 2) return { argv: ['ubus', 'call', 'network', 'reload'] };
  if (argv[0] === '/etc/init.d/network' || argv[0]!.startsWith('/etc/init.d/'))
    return { refused: `${argv.join(' ')} needs root; the agent runs as ${who(p)} (procd starts it through ujail with CAP_NET_ADMIN only)` };
  if ((prog === 'ip' || prog === 'nft') && !netAdmin)
    return { refused: `${prog} needs CAP_NET_ADMIN, which the agent (${who(p)}) does not have in its ambient set` };
  return { argv: [...argv] };
}

/** Wraps a CommandRunner with hostCommandFor: a refusal is exit code 126 with the reason on stderr. */
export function privilegedRunner(run: CommandRunner, p: ProcessPrivileges): CommandRunner {
  return async (argv, opts) => {
    const r = hostCommandFor(argv, p);
    if ('refused' in r) return { code: 126, stdout: '', stderr: r.refused };
    return run(r.argv, opts);
  };
}
