// Finds what the VM needs on the host: qemu, a Debian kernel whose modules include
// batman-adv, and busybox-static. A missing piece is a VmUnavailableError naming the package,
// so the caller decides between skipping (a developer laptop) and failing (CI=true).
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class VmUnavailableError extends Error {
  override readonly name = 'VmUnavailableError';
}

export interface VmHost {
  qemu: string;
  kernelVersion: string;
  vmlinuz: string;
  modulesDir: string;
  busybox: string;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) if (executable(join(dir, name))) return join(dir, name);
  return undefined;
}

/** Debian's busybox-static is statically linked; the dynamic `busybox` package would not run in the initramfs. */
function staticBusybox(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!executable(p)) continue;
    // A static ELF has no PT_INTERP; checking for the interpreter path string is enough here.
    const head = elfHead(p);
    if (!head.includes('/lib64/ld-linux') && !head.includes('/lib/ld-linux')) return p;
  }
  return undefined;
}

function elfHead(p: string): string {
  // Only the first 64 KiB: the interpreter path sits near the start of an ELF.
  const fd = openSync(p, 'r');
  try {
    const b = Buffer.alloc(65536);
    const n = readSync(fd, b, 0, b.length, 0);
    return b.toString('latin1', 0, n);
  } finally {
    closeSync(fd);
  }
}
export function findVmHost(): VmHost {
  // $X0VM_QEMU picks another qemu (or, set to a missing path, shows what happens without one).
  const explicit = process.env.X0VM_QEMU;
  const qemu = explicit ? (executable(explicit) ? explicit : undefined) : onPath('qemu-system-x86_64');
  if (!qemu) throw new VmUnavailableError(`${explicit ?? 'qemu-system-x86_64'} not found (apt-get install qemu-system-x86)`);
  const busybox = staticBusybox();
  if (!busybox) throw new VmUnavailableError('no static busybox at /bin/busybox (apt-get install busybox-static)');
  const versions = existsSync('/boot') ? readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-')).map((f) => f.slice('vmlinuz-'.length)) : [];
  // Newest first; the kernel must come with batman-adv among its modules.
  versions.sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
  for (const v of versions) {
    const modulesDir = `/lib/modules/${v}`;
    if (existsSync(join(modulesDir, 'kernel/net/batman-adv/batman-adv.ko')) || existsSync(join(modulesDir, 'kernel/net/batman-adv/batman-adv.ko.xz'))) {
      return { qemu, kernelVersion: v, vmlinuz: `/boot/vmlinuz-${v}`, modulesDir, busybox };
    }
  }
  throw new VmUnavailableError(
    versions.length
      ? `no kernel in /boot has batman-adv in /lib/modules (${versions.join(', ')}) (apt-get install linux-image-amd64)`
      : 'no kernel in /boot (apt-get install linux-image-amd64)',
  );
}
