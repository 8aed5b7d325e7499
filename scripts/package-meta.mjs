// The packages' metadata, read from the feed Makefiles under openwrt/ so that `npm run package`
// and an OpenWrt SDK build agree: maintainer, URL, licence, USERID, the Depends line the
// buildroot derives from DEPENDS/EXTRA_DEPENDS (include/package-pack.mk and
// package-defaults.mk), and the maintainer scripts written as `define Package/<name>/<script>`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const OPENWRT = new URL('../openwrt/', import.meta.url).pathname;

export class MetaError extends Error {
  name = 'MetaError';
}

/** `NAME:=value` assignments (first one wins, as the Makefiles set each once), $(VAR) expanded from earlier ones. */
function assignments(text) {
  const vars = {};
  for (const m of text.matchAll(/^\s*([A-Z_]+):=(.*)$/gm)) {
    const name = m[1];
    if (name in vars) continue;
    vars[name] = m[2].trim().replace(/\$\(([A-Z_]+)\)/g, (all, v) => vars[v] ?? all);
  }
  return vars;
}

/** The body of `define <name> ... endef`, with make's `$$` turned back into `$`. */
export function defineBlock(text, name) {
  const esc = name.replace(/[/.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^define ${esc}\\n([\\s\\S]*?)\\nendef$`, 'm').exec(text);
  return m ? m[1].replace(/\$\$/g, '$') + '\n' : undefined;
}

/**
 * The Depends line of an ipk as include/package-pack.mk writes it: EXTRA_DEPENDS first, then
 * libc (PKG_DEFAULT_DEPENDS) and DEPENDS without the @conditions and the + signs.
 */
export function ipkDepends(depends, extraDepends = '') {
  const deps = ['libc', ...depends.split(/\s+/).filter((d) => d && !d.startsWith('@')).map((d) => d.replace(/^\+/, ''))];
  for (const d of deps) if (d.includes(':')) throw new MetaError(`conditional dependency ${d} is not supported here`);
  const unique = deps.filter((d, i) => deps.indexOf(d) === i);
  return [extraDepends.trim(), unique.join(', ')].filter(Boolean).join(', ');
}

/**
 * apk's depends for the same package (package-pack.mk's CONFIG_USE_APK branch): the versioned
 * extra dependencies with spaces and parentheses dropped, replacing the plain ones of the same name.
 */
export function apkDepends(depends, extraDepends = '') {
  const extra = extraDepends.split(',').map((d) => d.trim()).filter(Boolean);
  const extraNames = extra.map((d) => d.split(/\s+/)[0]);
  const plain = ['libc', ...depends.split(/\s+/).filter((d) => d && !d.startsWith('@')).map((d) => d.replace(/^\+/, ''))];
  const rest = plain.filter((d, i) => plain.indexOf(d) === i && !extraNames.includes(d));
  return [...extra.map((d) => d.replace(/[\s()]/g, '')), ...rest];
}

function read(rel) {
  return readFileSync(join(OPENWRT, rel), 'utf8');
}

/** The agent package's metadata from openwrt/x0tta6bl4/Makefile. */
export function agentMeta() {
  const mk = read('x0tta6bl4/Makefile');
  const v = assignments(mk);
  const pkg = defineBlock(mk, 'Package/x0tta6bl4');
  if (!pkg) throw new MetaError('openwrt/x0tta6bl4/Makefile has no define Package/x0tta6bl4');
  const p = assignments(pkg);
  for (const k of ['DEPENDS', 'EXTRA_DEPENDS', 'USERID']) if (!p[k]) throw new MetaError(`Package/x0tta6bl4 has no ${k}`);
  return {
    maintainer: v.PKG_MAINTAINER,
    url: v.PKG_URL,
    license: v.PKG_LICENSE,
    licenseFiles: v.PKG_LICENSE_FILES,
    section: p.SECTION,
    userid: p.USERID,
    depends: ipkDepends(p.DEPENDS, p.EXTRA_DEPENDS),
    apkDepends: apkDepends(p.DEPENDS, p.EXTRA_DEPENDS),
    postinstPkg: defineBlock(mk, 'Package/x0tta6bl4/postinst'),
    postrm: defineBlock(mk, 'Package/x0tta6bl4/postrm'),
  };
}

/** The LuCI app's metadata from openwrt/luci-app-x0tta6bl4/Makefile (luci.mk: SECTION luci, URL from LUCI_URL). */
export function luciMeta() {
  const mk = read('luci-app-x0tta6bl4/Makefile');
  const v = assignments(mk);
  return {
    maintainer: v.LUCI_MAINTAINER,
    url: v.LUCI_URL,
    license: v.PKG_LICENSE,
    licenseFiles: v.PKG_LICENSE_FILES,
    section: 'luci',
    depends: ipkDepends(v.LUCI_DEPENDS ?? ''),
    apkDepends: apkDepends(v.LUCI_DEPENDS ?? ''),
    postinstPkg: defineBlock(mk, 'Package/luci-app-x0tta6bl4/postinst'),
    postrm: defineBlock(mk, 'Package/luci-app-x0tta6bl4/postrm'),
  };
}
