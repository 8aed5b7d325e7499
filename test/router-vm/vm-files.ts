// The files that turn the test router's root (test/router) into a root that boots with procd as
// PID 1: OpenWrt's inittab, a preinit, procd's hotplug rules (without them procd waits at
// "- early -" for device events it cannot handle), and boot scripts of the test itself: S11 a
// syslogd, S19 builds the mesh (what netifd would do on a router: bat0 over its interfaces), S99 runs the
// guest check and powers the VM off.

/** The MACs of the two-node mesh: node 1 is the root network namespace (where procd runs the agent). */
export const MESH = {
  /** node 1's hard interface, towards n2 */
  link: 'v1-2',
  linkMac: '02:00:00:00:01:02',
  /** node 2 (network namespace n2): its interface towards node 1; also n2's originator address */
  peerNetns: 'n2',
  peerLink: 'v2-1',
  peerMac: '02:00:00:00:02:01',
} as const;

// OpenWrt's inittab (package/base-files/files/etc/inittab) without the console login.
const INITTAB = `::sysinit:/etc/init.d/rcS S boot
::shutdown:/etc/init.d/rcS K shutdown
`;

// A router's /etc/preinit mounts its overlay and reads the board; here the overlay exists
// already (the VM's initramfs made it), so it only leaves what later boot steps read.
const PREINIT = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /tmp/run/ubus /tmp/lock /tmp/sysinfo /tmp/.uci /tmp/log
echo x0-vm-router > /tmp/sysinfo/board_name
echo 'x0tta6bl4 OpenWrt userspace VM' > /tmp/sysinfo/model
echo "preinit $(cut -d' ' -f1 /proc/uptime)" >> /x0vm/boot.log
exit 0
`;

// procd's hotplug rules (package/system/procd/files/hotplug.json), device nodes only.
const HOTPLUG_JSON = JSON.stringify(
  [
    ['case', 'ACTION', {
      add: [
        ['if', ['and', ['has', 'MAJOR'], ['has', 'MINOR']], [
          ['if', ['eq', 'DEVNAME', ['null', 'full', 'ptmx', 'zero', 'tty', 'net', 'random', 'urandom']], [
            ['makedev', '/dev/%DEVNAME%', '0666'],
            ['return'],
          ]],
          ['makedev', '/dev/%DEVNAME%', '0600'],
        ]],
      ],
      remove: [
        ['if', ['and', ['has', 'DEVNAME'], ['has', 'MAJOR'], ['has', 'MINOR']], [
          ['rm', '/dev/%DEVNAME%'],
        ]],
      ],
    }],
  ],
  null,
  '\t',
) + '\n';

/** Two batman-adv nodes: bat0 in the root namespace over v1-2, bat0 in n2 over v2-1, one veth pair between. */
const MESH_SH = `#!/bin/sh
set -e
# iproute2's ip by its path: Debian's busybox sh runs its own applets before any PATH lookup,
# and busybox's ip knows no veth, batadv or netns.
exec >> /x0vm/mesh.log 2>&1
echo "mesh $(cut -d' ' -f1 /proc/uptime)"
# iproute2 keeps named network namespaces in /run/netns.
mkdir -p /run && mount -t tmpfs -o mode=755 tmpfs /run
/usr/sbin/ip netns add ${MESH.peerNetns}
/usr/sbin/ip link add ${MESH.link} address ${MESH.linkMac} type veth peer name ${MESH.peerLink} address ${MESH.peerMac} netns ${MESH.peerNetns}
/usr/sbin/ip link add bat0 type batadv
/usr/sbin/ip link set ${MESH.link} master bat0
/usr/sbin/ip link set ${MESH.link} up
/usr/sbin/ip link set bat0 up
/usr/sbin/ip -n ${MESH.peerNetns} link set lo up
/usr/sbin/ip -n ${MESH.peerNetns} link add bat0 type batadv
/usr/sbin/ip -n ${MESH.peerNetns} link set ${MESH.peerLink} master bat0
/usr/sbin/ip -n ${MESH.peerNetns} link set ${MESH.peerLink} up
/usr/sbin/ip -n ${MESH.peerNetns} link set bat0 up
echo "mesh up $(cut -d' ' -f1 /proc/uptime)"
`;

// OpenWrt's logd is a procd service (S12log); busybox's syslogd stands in, writing to the results
// share: procd sends its services' stdout/stderr (the agent's log) to syslog.
const LOG_INIT = `#!/bin/sh /etc/rc.common
START=11
USE_PROCD=1

start_service() {
	procd_open_instance
	procd_set_param command /bin/busybox syslogd -n -O /x0vm/messages
	procd_close_instance
}
`;

const MESH_INIT = `#!/bin/sh /etc/rc.common
# Test VM: the mesh a router's netifd would bring up, before the agent starts (S95).
START=19

start() {
	/usr/libexec/x0vm-mesh.sh
}
`;

// rcS gives every boot script 15 s: the check runs in its own session, in the background.
const CHECK_INIT = `#!/bin/sh /etc/rc.common
# Test VM: runs the guest check once the boot is done, then powers off.
START=99

start() {
	setsid sh -c 'echo "check $(cut -d" " -f1 /proc/uptime)" >> /x0vm/boot.log
		/usr/bin/node /x0vm/check.mjs > /x0vm/check.log 2>&1
		echo $? > /x0vm/exit-code
		dmesg > /x0vm/dmesg.log 2>&1
		sync
		poweroff -f' < /dev/null > /dev/null 2>&1 &
}
`;

/** path (relative to the root) -> [mode, content] */
export function vmFiles(): Record<string, [number, string]> {
  return {
    'etc/inittab': [0o644, INITTAB],
    'etc/preinit': [0o755, PREINIT],
    'etc/hotplug.json': [0o644, HOTPLUG_JSON],
    'usr/libexec/x0vm-mesh.sh': [0o755, MESH_SH],
    'etc/init.d/x0vm-log': [0o755, LOG_INIT],
    'etc/init.d/x0vm-mesh': [0o755, MESH_INIT],
    'etc/init.d/x0vm-check': [0o755, CHECK_INIT],
  };
}

/** rc.d links procd's rcS runs at boot, as `/etc/init.d/NAME enable` would make them. */
export const VM_RC_LINKS: Record<string, string> = {
  'etc/rc.d/S11x0vm-log': '../init.d/x0vm-log',
  'etc/rc.d/S19x0vm-mesh': '../init.d/x0vm-mesh',
  'etc/rc.d/S99x0vm-check': '../init.d/x0vm-check',
};
