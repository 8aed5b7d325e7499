#!/bin/sh
# PID 1 of the test VM (runs from the initramfs, busybox only). Mounts the host's root
# read-only over 9p with a tmpfs overlay on top (so the guest can write anywhere without
# touching the host), mounts the writable results share at /x0vm inside it, chroots and runs
# /x0vm/run.sh, records its exit code, powers off. Every line it prints starts with "x0vm:".
export PATH=/bin
say() { echo "x0vm: $*"; }
fail() { say "BOOT-FAILED $*"; sync; poweroff -f; sleep 5; }

mkdir -p /proc /sys /dev /mnt/ro /mnt/rw /mnt/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules/order); do
  insmod "/modules/$m.ko" || fail "insmod $m"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /mnt/ro || fail "mount hostroot"
mount -t tmpfs -o size=70% tmpfs /mnt/rw || fail "mount tmpfs"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/ro,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /mnt/root || fail "mount overlay"
mkdir -p /mnt/root/x0vm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /mnt/root/x0vm || fail "mount results"
mount -t proc proc /mnt/root/proc
mount -t sysfs sysfs /mnt/root/sys
mount -o bind /dev /mnt/root/dev
mkdir -p /mnt/root/dev/pts /mnt/root/dev/shm
mount -t devpts devpts /mnt/root/dev/pts
mount -t tmpfs tmpfs /mnt/root/dev/shm
mount -t tmpfs tmpfs /mnt/root/tmp
mount -t tmpfs tmpfs /mnt/root/run
echo up > /mnt/root/x0vm/booted
say "booted $(cut -d' ' -f1 /proc/uptime)s"
chroot /mnt/root /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
  /bin/sh /x0vm/run.sh
rc=$?
echo "$rc" > /mnt/root/x0vm/exit-code
say "guest exit $rc at $(cut -d' ' -f1 /proc/uptime)s"
sync
umount /mnt/root/x0vm 2>/dev/null
poweroff -f
