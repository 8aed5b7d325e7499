// Network interface names as the kernel checks them (net/core/dev.c dev_valid_name), plus
// what the kernel lets through but an operator could not see or type: control and format
// characters (`bat0\u200b` is a different interface that prints as bat0).
import { hasNonPrintable } from './printable.ts';

/** IFNAMSIZ is 16 with the terminating NUL. */
export const IFNAME_MAX_BYTES = 15;

export const IFNAME_EXPECTED = `a network interface name: 1 to ${IFNAME_MAX_BYTES} bytes, not '.' or '..', without '/', ':', spaces, control or format characters`;

// The kernel's isspace() (lib/ctype.c) on each byte: \t \n \v \f \r, space, and 0xA0, which
// its Latin-1 table also counts as a space, so a UTF-8 name with an 0xA0 byte is refused too.
const KERNEL_SPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]);

/** Why `name` is not a usable interface name, or null when it is one. */
export function ifnameProblem(name: string): string | null {
  if (name === '') return 'empty';
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length > IFNAME_MAX_BYTES) return `${bytes.length} bytes, at most ${IFNAME_MAX_BYTES}`;
  if (name === '.' || name === '..') return `'${name}' is not allowed`;
  if (bytes.includes(0)) return 'contains a NUL byte';
  if (name.includes('/') || name.includes(':')) return "contains '/' or ':'";
  if (bytes.some((b) => KERNEL_SPACE.has(b)) || /\s/u.test(name)) return 'contains a space character';
  if (hasNonPrintable(name)) return 'contains a control or format character';
  return null;
}

export function isIfname(name: string): boolean {
  return ifnameProblem(name) === null;
}
