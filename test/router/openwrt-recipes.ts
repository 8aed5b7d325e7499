// How each OpenWrt component is built from its vendored archive: the options, patches and
// flags found to work on Debian 12 (glibc 2.36, gcc 12), as ../shared/vendor/openwrt-userspace/
// README.md lists them. Most are cmake projects; the LuCI parts are plain make/cc (`script`).

/** How one component is built. */
export interface Recipe {
  /** Archive file name in the vendor directory. */
  archive: string;
  /** Directory the archive unpacks to; default: the component's name. */
  dir?: string;
  /** Components that must be installed into the root first. */
  deps: string[];
  /** Extra `-D` cmake definitions (cmake recipes). */
  cmake: string[];
  /** Debian packages the build needs besides cmake, make, gcc and pkg-config. */
  debian: string[];
  /** Patch files in the vendor patches/ directory, applied with `patch -p1` in `dir`. */
  patches?: string[];
  /** Extra C compiler flags. */
  cflags?: string[];
  /** Build inside (a copy of) the source tree instead of a separate build directory. */
  inSource?: boolean;
  /**
   * A shell script instead of cmake, run with `sh -e` in `dir` with $ROOT (the install root,
   * also the DESTDIR), $CC and $CFLAGS (include and library paths of the root already in them).
   */
  script?: string;
}

const NO_LUA = ['-DBUILD_LUA=OFF'];

// luci.mk installs a LuCI module's htdocs/ under /www, root/ under / and ucode/ under
// /usr/share/ucode/luci; po/ and minifying are left out (English, readable JS).
const LUCI_TREES = (dir: string) => `
for sub in htdocs:www root: ucode:usr/share/ucode/luci; do
	from="${dir}/\${sub%%:*}"; to="$ROOT/\${sub#*:}"
	[ -d "$from" ] || continue
	mkdir -p "$to" && cp -a "$from/." "$to/"
done
# As OpenWrt's install steps leave them: no group/world write (ubusd ignores such ACL files).
chmod -R go-w "$ROOT/www" "$ROOT/usr/share" "$ROOT/etc"`;

const LUCI_BASE_SCRIPT = `
make -C modules/luci-base/src core.so version.uc CC="$CC" CFLAGS="$CFLAGS" FPIC=-fPIC LDFLAGS="$LDFLAGS" \\
	LUCI_VERSION=24.10-x0-test LUCI_GITBRANCH=openwrt-24.10
make -C modules/luci-base/src install DESTDIR="$ROOT"
${LUCI_TREES('modules/luci-base')}
${LUCI_TREES('themes/luci-theme-bootstrap')}
`;

const UCODE_MOD_HTML_SCRIPT = `
mkdir -p "$ROOT/usr/lib/ucode"
$CC $CFLAGS $LDFLAGS -fPIC -Wall -ffunction-sections -Wl,--gc-sections -shared \\
	-o "$ROOT/usr/lib/ucode/html.so" contrib/package/ucode-mod-html/src/html.c
`;

export const RECIPES: Record<string, Recipe> = {
  libubox: { archive: 'libubox.tar.gz', deps: [], cmake: [...NO_LUA, '-DBUILD_EXAMPLES=OFF'], debian: ['libjson-c-dev'] },
  uci: { archive: 'uci.tar.gz', deps: ['libubox'], cmake: NO_LUA, debian: [] },
  ubus: { archive: 'ubus.tar.gz', deps: ['libubox'], cmake: [...NO_LUA, '-DBUILD_EXAMPLES=OFF'], debian: [] },
  ucode: {
    archive: 'ucode.tar.gz',
    deps: ['libubox', 'ubus', 'uci'],
    // nl80211/rtnl need libnl-tiny; digest needs libmd: neither is on a Debian build machine by default.
    cmake: ['-DNL80211_SUPPORT=OFF', '-DRTNL_SUPPORT=OFF', '-DDIGEST_SUPPORT=OFF', '-DUBUS_SUPPORT=ON', '-DUCI_SUPPORT=ON', '-DULOOP_SUPPORT=ON'],
    debian: ['zlib1g-dev'],
  },
  udebug: { archive: 'udebug.tar.gz', deps: ['ucode', 'ubus'], cmake: [], debian: [] },
  rpcd: {
    archive: 'rpcd.tar.gz',
    deps: ['ubus', 'uci', 'ucode'],
    cmake: ['-DIWINFO_SUPPORT=OFF'],
    debian: ['libcrypt-dev'],
    patches: ['rpcd-01-glibc236-no-strlcpy.patch'],
    cflags: ['-D_GNU_SOURCE='],
  },
  procd: {
    archive: 'procd.tar.gz',
    deps: ['ubus', 'uci', 'udebug'],
    cmake: ['-DJAIL_SUPPORT=ON', '-DSECCOMP_SUPPORT=ON'],
    debian: [],
    patches: ['procd-01-glibc236-no-strlcpy.patch'],
    cflags: ['-Wno-error=maybe-uninitialized', '-Wno-error=format-overflow', '-Wno-error=format-truncation', '-Wno-error=parentheses'],
    // make_syscall_h.sh is run relative to the build directory.
    inSource: true,
  },
  uhttpd: {
    archive: 'uhttpd.tar.gz',
    deps: ['ubus', 'ucode'],
    cmake: ['-DTLS_SUPPORT=OFF', '-DLUA_SUPPORT=OFF', '-DUBUS_SUPPORT=ON', '-DUCODE_SUPPORT=ON'],
    debian: ['libcrypt-dev'],
    cflags: ['-D_GNU_SOURCE=', '-Wno-error=stringop-overread'],
  },
  lucihttp: { archive: 'lucihttp.tar.gz', deps: ['ucode'], cmake: [...NO_LUA, '-DBUILD_UCODE=ON', '-DBUILD_TESTS=OFF'], debian: [], cflags: ['-D_GNU_SOURCE='] },
  // usign is not built: the test feed is local and unsigned (check_signature off).
  opkg: { archive: 'opkg-lede.tar.gz', dir: 'opkg-lede', deps: ['libubox'], cmake: ['-DBUILD_TESTS=OFF', '-DENABLE_USIGN=OFF'], debian: [] },
  'ucode-mod-html': { archive: 'luci-base-bootstrap-status-html.tar.gz', dir: '.', deps: ['ucode'], cmake: [], debian: [], script: UCODE_MOD_HTML_SCRIPT },
  'luci-base': {
    archive: 'luci-base-bootstrap-status-html.tar.gz',
    dir: '.',
    deps: ['ucode', 'ucode-mod-html', 'lucihttp', 'rpcd', 'uhttpd'],
    cmake: [],
    debian: ['libcrypt-dev'],
    script: LUCI_BASE_SCRIPT,
  },
};

/** Everything the router test bed runs. */
export const ROUTER_COMPONENTS = ['libubox', 'ubus', 'uci', 'ucode', 'udebug', 'rpcd', 'procd', 'uhttpd', 'lucihttp', 'opkg', 'ucode-mod-html', 'luci-base'];

/** pkg-config names of the Debian -dev packages the recipes name, to check they are installed. */
export const DEBIAN_PC: Record<string, string> = { 'libjson-c-dev': 'json-c', 'zlib1g-dev': 'zlib', 'libcrypt-dev': 'libcrypt' };
