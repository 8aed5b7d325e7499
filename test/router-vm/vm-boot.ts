// Boots the router root (vm-root.ts) in QEMU with procd as PID 1. The initramfs loads the
// kernel modules from the host's /lib/modules (Debian's linux-image-amd64): the 9p/virtio/overlay
// ones from its own copy, then batman-adv, veth and nf_tables with the host's modprobe
// over the read-only host share. It mounts the router root (9p, read-only) under a tmpfs
// overlay, mounts the writable results share at /x0vm, and switch_roots to procd's /sbin/init,
// which execs /sbin/procd as PID 1 after /etc/preinit. Software emulation (TCG): the nested
// /dev/kvm here hangs.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { qemuMachineArgs, runQemu, type QemuRun } from '../../scripts/vm/boot.ts';
import { cpioNewc, type CpioEntry } from '../../scripts/vm/cpio.ts';
import { INITRAMFS_MODULES } from '../../scripts/vm/initramfs.ts';
import type { VmHost } from '../../scripts/vm/kernel.ts';

/** Loaded before the switch, with their dependencies (procd's root has no modules of its own). */
export const GUEST_MODULES = ['batman-adv', 'veth', 'nf_tables'];

const INIT = `#!/bin/sh
export PATH=/bin
say() { echo "x0rvm: $*"; }
fail() { say "BOOT-FAILED $*"; sync; poweroff -f; sleep 5; }
mkdir -p /proc /sys /dev /mnt/host /mnt/ro /mnt/rw /mnt/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules/order); do insmod "/modules/$m.ko" || fail "insmod $m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /mnt/host || fail "mount hostroot"
# The guest's own proc and sys over the host's, for modprobe (it reads which modules are loaded).
mount -t proc proc /mnt/host/proc && mount -t sysfs sysfs /mnt/host/sys || fail "mount proc/sys for modprobe"
chroot /mnt/host /sbin/modprobe -a ${GUEST_MODULES.join(' ')} || fail "modprobe"
umount /mnt/host/proc /mnt/host/sys /mnt/host
mount -t tmpfs -o size=60% tmpfs /mnt/rw || fail "mount tmpfs"
# The router root, read-only, under a tmpfs overlay. In 2 of about 15 runs the overlay did not
# show an entry the share has (x0vm, sbin/init): checked, and mounted afresh when so.
mount_root() {
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose routerroot /mnt/ro || fail "mount routerroot"
  mkdir -p /mnt/rw/upper /mnt/rw/work
  mount -t overlay overlay -o lowerdir=/mnt/ro,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /mnt/root || fail "mount overlay"
  [ -L /mnt/root/sbin/init ] && [ -x /mnt/root/usr/sbin/init ] && [ -x /mnt/root/usr/sbin/procd ] && [ -e /mnt/root/lib64/ld-linux-x86-64.so.2 ] && [ -d /mnt/root/x0vm ]
}
tries=1
until mount_root; do
  say "router root incomplete (try $tries): share: $(ls -ld /mnt/ro/x0vm /mnt/ro/sbin/init 2>&1) overlay: $(ls -ld /mnt/root/x0vm /mnt/root/sbin/init 2>&1) $(dmesg | tail -n 3)"
  [ $tries -ge 3 ] && fail "router root incomplete after $tries mounts"
  umount /mnt/root; umount /mnt/ro; rm -rf /mnt/rw/upper /mnt/rw/work
  tries=$((tries + 1))
done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /mnt/root/x0vm || fail "mount results"
echo "initramfs $(cut -d' ' -f1 /proc/uptime) mounts $tries" > /mnt/root/x0vm/boot.log
say "switching to procd at $(cut -d' ' -f1 /proc/uptime)s"
umount /proc /sys /dev
# The kernel's module autoloader would run the new root's /sbin/modprobe (busybox, no modules there).
exec switch_root /mnt/root /sbin/init
`;

const APPLETS = ['sh', 'ls', 'dmesg', 'tail', 'rm', 'mount', 'umount', 'mkdir', 'insmod', 'chroot', 'cat', 'cut', 'echo', 'sync', 'poweroff', 'sleep', 'switch_root'];

export function buildRouterInitramfs(host: VmHost, cacheDir = join(tmpdir(), 'x0tta6bl4-vm')): string {
  const modules = INITRAMFS_MODULES.map((m) => ({ name: m.split('/').pop()!, data: readFileSync(join(host.modulesDir, 'kernel', `${m}.ko`)) }));
  const busybox = readFileSync(host.busybox);
  const key = createHash('sha256').update(INIT).update(host.kernelVersion).update(busybox).digest('hex').slice(0, 16);
  const out = join(cacheDir, `router-initramfs-${host.kernelVersion}-${key}.cpio.gz`);
  if (existsSync(out)) return out;
  const entries: CpioEntry[] = [
    { path: 'bin', mode: 0o040755 },
    { path: 'bin/busybox', mode: 0o100755, data: busybox },
    ...APPLETS.map((a) => ({ path: `bin/${a}`, mode: 0o120777, data: 'busybox' })),
    { path: 'modules', mode: 0o040755 },
    ...modules.map((m) => ({ path: `modules/${m.name}.ko`, mode: 0o100644, data: m.data })),
    { path: 'modules/order', mode: 0o100644, data: modules.map((m) => m.name).join('\n') + '\n' },
    { path: 'init', mode: 0o100755, data: INIT },
  ];
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, gzipSync(cpioNewc(entries), { level: 6 }));
  renameSync(tmp, out);
  return out;
}

export type RouterBoot = QemuRun;

/** Boots until the guest powers off (or the deadline); the guest reports through `resultsDir` (/x0vm). */
export async function bootRouterVm(o: { host: VmHost; root: string; resultsDir: string; timeoutMs: number; onConsole?: (l: string) => void }): Promise<RouterBoot> {
  const initrd = buildRouterInitramfs(o.host);
  chmodSync(o.resultsDir, 0o777); // the guest's check may write as any user
  const args = [
    ...qemuMachineArgs(o.host, initrd),
    '-virtfs', `local,path=${o.root},mount_tag=routerroot,security_model=none,readonly=on,multidevs=remap`,
    '-virtfs', `local,path=${o.resultsDir},mount_tag=results,security_model=none,multidevs=remap`,
  ];
  return runQemu(o.host.qemu, args, { timeoutMs: o.timeoutMs, ...(o.onConsole ? { onConsole: o.onConsole } : {}) });
}
