// The configuration files of the test router's root (a decoy system: nothing here is the
// host's), and the script that runs as PID 1 of its namespace.

export interface EtcOptions {
  /** crypt(3) hash of the decoy root password. */
  rootHash: string;
  httpPort: number;
}

// What the root holds without opkg having installed it (built from source into the root, or
// the host's node and busybox): opkg must see these as installed to resolve Depends.
// kmod-batman-adv is a stub: a namespace has no kernel module of its own to install.
const PREINSTALLED = [
  'libc', 'base-files', 'busybox', 'libubox20240329', 'libubus20250102', 'ubus', 'ubusd', 'libuci20250120', 'uci', 'procd',
  'procd-ujail', 'procd-seccomp', 'rpcd', 'rpcd-mod-file', 'rpcd-mod-ucode', 'uhttpd', 'uhttpd-mod-ubus', 'ucode', 'libucode20230711',
  'ucode-mod-fs', 'ucode-mod-uci', 'ucode-mod-ubus', 'ucode-mod-math', 'ucode-mod-html', 'liblucihttp-ucode', 'luci-base',
  'luci-theme-bootstrap', 'kmod-batman-adv',
];

function opkgStatus(): string {
  const node = process.versions.node;
  const stanza = (pkg: string, version: string) =>
    `Package: ${pkg}\nVersion: ${version}\nStatus: install user installed\nArchitecture: x86_64\nInstalled-Time: 1700000000\n\n`;
  return PREINSTALLED.map((p) => stanza(p, '1-test')).join('') + stanza('node', `v${node}-1`.replace(/^v/, ''));
}

// OpenWrt's rpcd init script (package/system/rpcd/files/rpcd.init), as procd runs it.
const RPCD_INIT = `#!/bin/sh /etc/rc.common

START=12
USE_PROCD=1
NAME=rpcd
PROG=/sbin/rpcd

start_service() {
	local socket timeout
	config_load rpcd
	config_get socket rpcd socket /var/run/ubus/ubus.sock
	config_get timeout rpcd timeout 30
	procd_open_instance
	procd_set_param command "$PROG" \${socket:+-s "$socket"} \${timeout:+-t "$timeout"}
	procd_set_param respawn \${respawn_threshold:-3600} \${respawn_timeout:-5} \${respawn_retry:-5}
	procd_set_param stdout 1
	procd_set_param stderr 1
	procd_close_instance
}

reload_service() {
	procd_send_signal rpcd
}
`;

// A reduced uhttpd init script: OpenWrt's reads /etc/config/uhttpd; this one passes the options
// LuCI needs (ubus JSON-RPC at /ubus, LuCI's ucode handler at /cgi-bin/luci) directly.
const uhttpdInit = (port: number) => `#!/bin/sh /etc/rc.common

START=50
USE_PROCD=1

start_service() {
	procd_open_instance
	procd_set_param command /usr/sbin/uhttpd -f -h /www -p 127.0.0.1:${port} -x /cgi-bin -u /ubus \\
		-U /var/run/ubus/ubus.sock -o /cgi-bin/luci -O /usr/share/ucode/luci/uhttpd.uc -t 60 -T 30 -n 3 -N 100
	procd_set_param respawn
	procd_set_param stdout 1
	procd_set_param stderr 1
	procd_close_instance
}
`;

// base-files' /sbin/reload_config (not in the vendored excerpt; same logic): a config whose
// \`uci show\` changed since the last run raises procd's config.change event for its package.
const RELOAD_CONFIG = `#!/bin/sh
rm -rf /var/run/config.check
mkdir -p /var/run/config.check
for config in /etc/config/*; do
	file=\${config##*/}
	uci show "\${file##*/}" > /var/run/config.check/$file
done
MD5FILE=/var/run/config.md5
[ -f $MD5FILE ] && {
	for c in $(md5sum -c $MD5FILE 2>/dev/null | grep FAILED | cut -d: -f1); do
		ubus call service event "{ \\"type\\": \\"config.change\\", \\"data\\": { \\"package\\": \\"$(basename $c)\\" }}"
	done
}
md5sum /var/run/config.check/* > $MD5FILE
rm -rf /var/run/config.check
`;

/** path (relative to the root) -> [mode, content] */
export function etcFiles(o: EtcOptions): Record<string, [number, string]> {
  return {
    'etc/passwd': [0o644, 'root:x:0:0:root:/root:/bin/ash\ndaemon:*:1:1:daemon:/var:/bin/false\nnetwork:*:101:101:network:/var:/bin/false\nnobody:*:65534:65534:nobody:/var:/bin/false\n'],
    'etc/group': [0o644, 'root:x:0:\ndaemon:x:1:\nnetwork:x:101:\nnogroup:x:65534:\n'],
    'etc/shadow': [0o600, `root:${o.rootHash}:19700:0:99999:7:::\ndaemon:*:0:0:99999:7:::\nnetwork:*:0:0:99999:7:::\nnobody:*:0:0:99999:7:::\n`],
    // glibc (ujail, rpcd's crypt login) reads these; OpenWrt's musl does not need them.
    'etc/nsswitch.conf': [0o644, 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n'],
    'etc/ld.so.conf': [0o644, '/usr/lib\n'],
    'etc/hosts': [0o644, '127.0.0.1 localhost\n'],
    'etc/openwrt_release': [0o644, "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='24.10.0'\nDISTRIB_TARGET='x86/64'\nDISTRIB_ARCH='x86_64'\nDISTRIB_DESCRIPTION='OpenWrt userspace test root'\n"],
    'etc/openwrt_version': [0o644, 'r0-test\n'],
    // ujail -N aborts without it (see the vendor README); also what a router has.
    'etc/config/network': [0o644, "config interface 'loopback'\n\toption device 'lo'\n\toption proto 'static'\n\toption ipaddr '127.0.0.1'\n\toption netmask '255.0.0.0'\n"],
    'etc/config/system': [0o644, "config system\n\toption hostname 'x0-router'\n\toption timezone 'UTC'\n"],
    'etc/config/rpcd': [0o644, "config rpcd\n\toption socket /var/run/ubus/ubus.sock\n\toption timeout 30\n\nconfig login\n\toption username 'root'\n\toption password '$p$root'\n\tlist read '*'\n\tlist write '*'\n"],
    'etc/opkg.conf': [0o644, 'dest root /\ndest ram /tmp\nlists_dir ext /var/opkg-lists\noption overlay_root /overlay\narch all 1\narch noarch 1\narch x86_64 10\nsrc x0_local file:///feed\n'],
    'usr/lib/opkg/status': [0o644, opkgStatus()],
    // opkg reads every installed package's file list when it checks for file clashes.
    ...Object.fromEntries([...PREINSTALLED, 'node'].map((p) => [`usr/lib/opkg/info/${p}.list`, [0o644, ''] as [number, string]])),
    // rpcd's own file (package/system/rpcd/files), which its cmake install leaves out.
    'usr/share/rpcd/acl.d/unauthenticated.json': [0o644, JSON.stringify({ unauthenticated: { description: 'Access controls for unauthenticated requests', read: { ubus: { session: ['access', 'login'] } } } }, null, '\t') + '\n'],
    'etc/init.d/rpcd': [0o755, RPCD_INIT],
    'etc/init.d/uhttpd': [0o755, uhttpdInit(o.httpPort)],
    'sbin/reload_config': [0o755, RELOAD_CONFIG],
    // OpenWrt's busybox has a `lock` applet (functions.sh's user_add takes /var/lock/passwd with
    // it); Debian's has none. Nothing else writes passwd here, so taking no lock is safe.
    'bin/lock': [0o755, '#!/bin/sh\n# stand-in for OpenWrt busybox lock: single writer in this test root\nexit 0\n'],
  };
}

/** PID 1 of the router namespace, after pivot_root: brings up what procd's boot would. */
export const NS_INIT = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /tmp/run/ubus /tmp/lock /tmp/sysinfo /tmp/.uci /tmp/log /tmp/opkg-lists
echo x0-test-router > /tmp/sysinfo/board_name
echo 'x0tta6bl4 OpenWrt userspace test root' > /tmp/sysinfo/model
# OpenWrt's logd stands in busybox's syslogd: procd sends its services' stdout/stderr to syslog.
syslogd -n -O /tmp/log/messages &
while [ ! -S /dev/log ]; do sleep 0.1; done
ubusd -s /var/run/ubus/ubus.sock >/tmp/log/ubusd.log 2>&1 &
while [ ! -S /var/run/ubus/ubus.sock ]; do sleep 0.1; done
procd -S -s /var/run/ubus/ubus.sock >/tmp/log/procd.log 2>&1 &
until ubus -t 1 list service >/dev/null 2>&1; do sleep 0.1; done
for f in /etc/uci-defaults/*; do
	[ -f "$f" ] && ( cd /etc/uci-defaults && . "./\${f##*/}" ) && rm -f "$f"
done
/etc/init.d/rpcd enable
/etc/init.d/rpcd start
/etc/init.d/uhttpd enable
/etc/init.d/uhttpd start
until ubus -t 1 list session >/dev/null 2>&1; do sleep 0.1; done
reload_config
touch /tmp/x0-ready
# stdin is a pipe from the test process: EOF means it died without stop(); PID 1 exits and the
# kernel kills every process of the namespace with it.
while read -r _; do :; done
`;
