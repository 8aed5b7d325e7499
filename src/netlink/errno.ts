// Linux errno numbers the netlink paths report, by name. The kernel sends -errno; callers
// get the positive number and its symbolic name so that messages say "ENOENT", not "-2".
// Numbers are the asm-generic ones, which every architecture the agent runs on uses.

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  5: 'EIO',
  7: 'E2BIG',
  9: 'EBADF',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  23: 'ENFILE',
  24: 'EMFILE',
  28: 'ENOSPC',
  34: 'ERANGE',
  61: 'ENODATA',
  64: 'ENONET',
  71: 'EPROTO',
  75: 'EOVERFLOW',
  90: 'EMSGSIZE',
  93: 'EPROTONOSUPPORT',
  95: 'EOPNOTSUPP',
  97: 'EAFNOSUPPORT',
  105: 'ENOBUFS',
  110: 'ETIMEDOUT',
  524: 'ENOTSUPP',
};

export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ERANGE: 34,
  ENONET: 64,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  ENOBUFS: 105,
} as const;

/** "ENOENT" for 2; "errno 4242" for numbers this table does not know. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}
