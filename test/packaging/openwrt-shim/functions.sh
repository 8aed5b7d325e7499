# STAND-IN for OpenWrt's /lib/functions.sh (package base-files) in the packaging tests'
# scratch root: the UCI config helpers init scripts use, and default_postinst/default_prerm
# with the behaviour openwrt.md and include/package-pack.mk describe. Written from that
# behaviour, not copied. config_load sources the UCI file, as OpenWrt's first uci_load did;
# that works for files with plain `config`/`option`/`list` lines like ours.

NO_EXPORT=1
CONFIG_SECTIONS=
CONFIG_NUM_SECTIONS=0

append() {
	local var="$1" value="$2" sep="${3:- }"
	eval "$var=\${$var:+\${$var}\$sep}\$value"
}

config() {
	CONFIG_NUM_SECTIONS=$((CONFIG_NUM_SECTIONS + 1))
	CONFIG_SECTION="${2:-cfg$CONFIG_NUM_SECTIONS}"
	append CONFIG_SECTIONS "$CONFIG_SECTION"
	eval "CONFIG_${CONFIG_SECTION}_TYPE=\$1"
}
option() {
	local opt="$1"; shift
	eval "CONFIG_${CONFIG_SECTION}_${opt}=\$*"
}
list() {
	local opt="$1"; shift
	append "CONFIG_${CONFIG_SECTION}_${opt}" "$*"
}
package() { :; }

config_load() {
	CONFIG_SECTIONS=
	CONFIG_NUM_SECTIONS=0
	[ -f "$IPKG_INSTROOT/etc/config/$1" ] && . "$IPKG_INSTROOT/etc/config/$1"
	return 0
}

# config_get <var> <section> <option> [default]
config_get() {
	eval "$1=\${CONFIG_${2}_${3}:-\$4}"
}

config_get_bool() {
	local _v
	config_get _v "$2" "$3" "$4"
	case "$_v" in
		1|on|true|yes|enabled) _v=1 ;;
		0|off|false|no|disabled) _v=0 ;;
		*) _v="$4" ;;
	esac
	eval "$1=\$_v"
}

config_foreach() {
	local fn="$1" type="$2" s t
	shift 2
	for s in $CONFIG_SECTIONS; do
		eval "t=\$CONFIG_${s}_TYPE"
		[ -z "$type" ] || [ "$t" = "$type" ] || continue
		"$fn" "$s" "$@"
	done
}

# Creates the users a package asks for: Require-User in its opkg control file, or, for an apk
# package, /lib/apk/packages/<pkg>.rusers (user[=uid]:group[=gid]). As base-files' own, the
# package name comes from $pkgname when the caller set it (apk's post-install does), else $1.
add_group_and_user() {
	[ -z "$pkgname" ] && local pkgname="$(basename "${1%.*}")"
	local want u g uid gid
	want="$(sed -n 's/^Require-User: *//p' "$root/usr/lib/opkg/info/$pkgname.control" 2>/dev/null)"
	[ -f "$root/lib/apk/packages/$pkgname.rusers" ] && want="$(cat "$root/lib/apk/packages/$pkgname.rusers")"
	for tuple in $want; do
		u="${tuple%%:*}"; g="${tuple#*:}"
		uid="${u#*=}"; [ "$uid" = "$u" ] && uid=
		gid="${g#*=}"; [ "$gid" = "$g" ] && gid=
		u="${u%%=*}"; g="${g%%=*}"
		grep -qs "^$g:" "$root/etc/group" || echo "$g:x:${gid:-32768}:" >> "$root/etc/group"
		grep -qs "^$u:" "$root/etc/passwd" || echo "$u:x:${uid:-32768}:${gid:-32768}:$u:/var/run/$u:/bin/false" >> "$root/etc/passwd"
	done
}

# The file list: opkg's info/<pkg>.list, or apk's /lib/apk/packages/<pkg>.list.
pkg_filelist() {
	if [ -f "$root/lib/apk/packages/$1.list" ]; then echo "$root/lib/apk/packages/$1.list"
	else echo "$root/usr/lib/opkg/info/$1.list"; fi
}

default_postinst() {
	local root="$IPKG_INSTROOT" ret=0 i
	[ -z "$pkgname" ] && local pkgname="$(basename "${1%.*}")"
	local filelist="$(pkg_filelist "$pkgname")"
	# base-files calls it here for opkg only; apk's post-install calls it itself before.
	[ -e "$root/usr/lib/opkg/info/$pkgname.list" ] && add_group_and_user "$pkgname"
	if [ -z "$root" ]; then
		for i in $(grep -s '^/etc/uci-defaults/' "$filelist"); do
			( [ -f "$i" ] && cd "$(dirname "$i")" && . "$i" ) && rm -f "$i"
		done
		rm -f /tmp/luci-indexcache.*
	fi
	if [ -f "$root/usr/lib/opkg/info/$pkgname.postinst-pkg" ]; then
		( . "$root/usr/lib/opkg/info/$pkgname.postinst-pkg" )
		ret=$?
	fi
	for i in $(grep -s '^/etc/init.d/' "$filelist"); do
		if [ -n "$root" ]; then
			/bin/sh "$root/etc/rc.common" "$root$i" enable
		else
			[ "$PKG_UPGRADE" = 1 ] || "$i" enable
			"$i" start
		fi
	done
	return $ret
}

default_prerm() {
	local root="$IPKG_INSTROOT" i
	[ -z "$pkgname" ] && local pkgname="$(basename "${1%.*}")"
	for i in $(grep -s '^/etc/init.d/' "$(pkg_filelist "$pkgname")"); do
		if [ -n "$root" ]; then
			/bin/sh "$root/etc/rc.common" "$root$i" disable
		else
			[ "$PKG_UPGRADE" = 1 ] || "$i" disable
			"$i" stop
		fi
	done
	return 0
}
