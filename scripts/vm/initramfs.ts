// Builds (and caches) the VM's initramfs: static busybox, the modules needed to reach the
// host's root over 9p with an overlay on top, and init.sh as /init. Everything else —
// batman-adv, node, batctl, ip, the checkout — the guest takes from the shared host root.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cpioNewc, type CpioEntry } from './cpio.ts';
import { VmUnavailableError, type VmHost } from './kernel.ts';

/** Load order matters: insmod does not resolve dependencies. */
export const INITRAMFS_MODULES = [
  'drivers/virtio/virtio_ring',
  'drivers/virtio/virtio',
  'drivers/virtio/virtio_pci_legacy_dev',
  'drivers/virtio/virtio_pci_modern_dev',
  'drivers/virtio/virtio_pci',
  'fs/netfs/netfs',
  'fs/fscache/fscache',
  'net/9p/9pnet',
  'net/9p/9pnet_virtio',
  'fs/9p/9p',
  'fs/overlayfs/overlay',
] as const;

const BUSYBOX_APPLETS = ['sh', 'mount', 'umount', 'mkdir', 'insmod', 'chroot', 'cat', 'cut', 'echo', 'sync', 'poweroff', 'sleep'];

export function buildInitramfs(host: VmHost, cacheDir = join(tmpdir(), 'x0tta6bl4-vm')): string {
  const init = readFileSync(new URL('./init.sh', import.meta.url));
  const modules = INITRAMFS_MODULES.map((m) => {
    const p = join(host.modulesDir, 'kernel', `${m}.ko`);
    if (!existsSync(p)) throw new VmUnavailableError(`kernel module ${p} missing (linux-image-${host.kernelVersion} incomplete?)`);
    return { name: m.split('/').pop()!, data: readFileSync(p) };
  });
  const busybox = readFileSync(host.busybox);
  const key = createHash('sha256').update(init).update(host.kernelVersion).update(busybox).update('autoload-1').digest('hex').slice(0, 16);
  const out = join(cacheDir, `initramfs-${host.kernelVersion}-${key}.cpio.gz`);
  if (existsSync(out)) return out;

  const entries: CpioEntry[] = [
    { path: 'bin', mode: 0o040755 },
    { path: 'bin/busybox', mode: 0o100755, data: busybox },
    ...BUSYBOX_APPLETS.map((a) => ({ path: `bin/${a}`, mode: 0o120777, data: 'busybox' })),
    { path: 'modules', mode: 0o040755 },
    ...modules.map((m) => ({ path: `modules/${m.name}.ko`, mode: 0o100644, data: m.data })),
    { path: 'modules/order', mode: 0o100644, data: modules.map((m) => m.name).join('\n') + '\n' },
    { path: 'init', mode: 0o100755, data: init },
    // The kernel's module autoloader runs /sbin/modprobe in the initramfs root (not the chroot):
    // hand it over to the host's modprobe so that "ip link add type veth", netem, nft... load theirs.
    { path: 'sbin', mode: 0o040755 },
    { path: 'sbin/modprobe', mode: 0o100755, data: '#!/bin/sh\nexec /bin/chroot /mnt/root /sbin/modprobe "$@"\n' },
  ];
  mkdirSync(cacheDir, { recursive: true });
  // Written under a temporary name and renamed: two test processes may build it at once.
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, gzipSync(cpioNewc(entries), { level: 6 }));
  renameSync(tmp, out);
  return out;
}
