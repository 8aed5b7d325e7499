// Linux errno numbers the netlink paths report, by name. The kernel sends -errno; callers
// get the positive number and its symbolic name so that messages say "ENOENT", not "-2".
//
// The numbers are the kernel's own, and they are not the same everywhere: MIPS keeps its
// own numbering above 34 (arch/mips/include/uapi/asm/errno.h in the Linux tree), so the
// kernel on an MT7621 router answers EOPNOTSUPP as 122, which asm-generic calls EDQUOT. The
// bridge relays the numbers unchanged and always runs on the agent's own CPU (findBridge
// checks the ELF machine), so the agent names them by its own process.arch. Of the other
// arches with their own numbers (alpha, sparc, parisc) the agent runs on none.

/** asm-generic/errno-base.h and asm-generic/errno.h: every arch the agent runs on but MIPS. */
const GENERIC = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  ENONET: 64,
  EPROTO: 71,
  EOVERFLOW: 75,
  ENOTSOCK: 88,
  EMSGSIZE: 90,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  ENETDOWN: 100,
  ECONNRESET: 104,
  ENOBUFS: 105,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EALREADY: 114,
  EINPROGRESS: 115,
  EDQUOT: 122,
  // Kernel-internal, but netlink handlers do leak it; the same on every arch.
  ENOTSUPP: 524,
} as const;

export type ErrnoName = keyof typeof GENERIC;

/** Where MIPS differs (arch/mips/include/uapi/asm/errno.h); 1-34, ENODATA, ENONET, EPROTO agree. */
const MIPS: Partial<Record<ErrnoName, number>> = {
  ENAMETOOLONG: 78,
  ENOSYS: 89,
  ENOTEMPTY: 93,
  ELOOP: 90,
  EOVERFLOW: 79,
  ENOTSOCK: 95,
  EMSGSIZE: 97,
  ENOPROTOOPT: 99,
  EPROTONOSUPPORT: 120,
  ESOCKTNOSUPPORT: 121,
  EOPNOTSUPP: 122,
  EAFNOSUPPORT: 124,
  EADDRINUSE: 125,
  ENETDOWN: 127,
  ECONNRESET: 131,
  ENOBUFS: 132,
  ENOTCONN: 134,
  ETIMEDOUT: 145,
  ECONNREFUSED: 146,
  EALREADY: 149,
  EINPROGRESS: 150,
  EDQUOT: 1133,
};

export interface ErrnoTable {
  /** The number this arch's kernel uses for each name. */
  readonly numbers: Readonly<Record<ErrnoName, number>>;
  /** The name of each number this table knows. */
  readonly names: ReadonlyMap<number, ErrnoName>;
}

function isMips(arch: string): boolean {
  return arch === 'mips' || arch === 'mipsel' || arch === 'mips64' || arch === 'mips64el';
}

const tables = new Map<boolean, ErrnoTable>();

/** The errno numbering of the kernel under a Node `process.arch`. */
export function errnoTable(arch: string = process.arch): ErrnoTable {
  const mips = isMips(arch);
  let t = tables.get(mips);
  if (!t) {
    const numbers = { ...GENERIC, ...(mips ? MIPS : {}) } as Record<ErrnoName, number>;
    const names = new Map<number, ErrnoName>();
    for (const [name, n] of Object.entries(numbers) as [ErrnoName, number][]) names.set(n, name);
    t = { numbers, names };
    tables.set(mips, t);
  }
  return t;
}

/** This machine's numbers, for comparing a kernel's errno with: `e.errno === Errno.ENODEV`. */
export const Errno: Readonly<Record<ErrnoName, number>> = errnoTable().numbers;

/** "ENOENT" for 2; "errno 4242" for numbers the table does not know. `arch` is the kernel's. */
export function errnoName(errno: number, arch: string = process.arch): string {
  return errnoTable(arch).names.get(errno) ?? `errno ${errno}`;
}

/** "EPROTONOSUPPORT, errno 93" (the name and the number as sent), or "errno 4242". */
export function errnoLabel(errno: number, arch: string = process.arch): string {
  const name = errnoTable(arch).names.get(errno);
  return name ? `${name}, errno ${errno}` : `errno ${errno}`;
}
