#!/usr/bin/env node
// Writes (or with --check, verifies) luci-app-x0tta6bl4's translation template
// po/templates/x0tta6bl4.pot: every `_('...')` string of the app's JavaScript, the menu titles
// and the ACL descriptions, which is what LuCI's build/i18n-scan.pl collects for an app.
// Without the LuCI tree here that script cannot run; this one does the same job for our files.
//
//   node scripts/luci-pot.mjs [--check]
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const OPENWRT = new URL('../openwrt/', import.meta.url).pathname;
const APP = join(OPENWRT, 'luci-app-x0tta6bl4');
export const POT_FILE = join(APP, 'po/templates/x0tta6bl4.pot');

export class PotError extends Error {
  name = 'PotError';
}

function filesUnder(dir, suffix) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(suffix))
    .map((d) => join(d.parentPath ?? d.path, d.name))
    .sort();
}

function unquote(lit) {
  const q = lit[0];
  return lit.slice(1, -1).replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_m, e) => {
    if (e[0] === 'u' || e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    return { n: '\n', t: '\t', r: '\r' }[e] ?? (e === q ? q : e);
  });
}

/**
 * The `_()` strings of one JavaScript source, with their lines. A `_(` whose first argument is
 * not a plain string literal cannot be collected for translators: that is an error.
 */
export function extractJs(src, file = '<js>') {
  const out = [];
  const call = /(?<![\w$.])_\(\s*/g;
  const lit = /^('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")\s*[,)]/;
  let m;
  while ((m = call.exec(src))) {
    const rest = src.slice(m.index + m[0].length);
    const l = lit.exec(rest);
    const line = src.slice(0, m.index).split('\n').length;
    if (!l) throw new PotError(`${file}:${line}: _() needs a string literal, got: ${rest.slice(0, 40)}`);
    out.push({ msgid: unquote(l[1]), line });
  }
  return out;
}

function escapePo(s) {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/** msgid → list of "file:line" references, over the app's sources. */
export function collect() {
  const refs = new Map();
  const add = (msgid, ref) => {
    if (msgid === '') return;
    refs.set(msgid, [...(refs.get(msgid) ?? []), ref]);
  };
  for (const f of filesUnder(join(APP, 'htdocs'), '.js'))
    for (const { msgid, line } of extractJs(readFileSync(f, 'utf8'), f)) add(msgid, `${relative(OPENWRT, f)}:${line}`);
  for (const f of filesUnder(join(APP, 'root/usr/share/luci/menu.d'), '.json'))
    for (const node of Object.values(JSON.parse(readFileSync(f, 'utf8')))) if (typeof node?.title === 'string') add(node.title, relative(OPENWRT, f));
  for (const f of filesUnder(join(APP, 'root/usr/share/rpcd/acl.d'), '.json'))
    for (const role of Object.values(JSON.parse(readFileSync(f, 'utf8'))))
      if (typeof role?.description === 'string') add(role.description, relative(OPENWRT, f));
  return refs;
}

export function renderPot(refs) {
  let out = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8"\n';
  for (const msgid of [...refs.keys()].sort()) {
    out += '\n' + [...new Set(refs.get(msgid))].map((r) => `#: ${r}\n`).join('');
    out += `msgid "${escapePo(msgid)}"\nmsgstr ""\n`;
  }
  return out;
}

/** The msgids of a .pot/.po file (single-line msgids, as renderPot writes them). */
export function potMsgids(text) {
  const ids = [];
  for (const m of text.matchAll(/^msgid "((?:[^"\\]|\\.)*)"$/gm)) {
    const id = m[1].replace(/\\(.)/g, (_x, e) => ({ n: '\n', t: '\t' })[e] ?? e);
    if (id !== '') ids.push(id);
  }
  return ids;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const want = renderPot(collect());
    if (process.argv.includes('--check')) {
      let have = '';
      try {
        have = readFileSync(POT_FILE, 'utf8');
      } catch {}
      if (have !== want) {
        console.error(`${relative(process.cwd(), POT_FILE)} is out of date: run node scripts/luci-pot.mjs`);
        process.exit(1);
      }
    } else {
      writeFileSync(POT_FILE, want);
      console.error(`wrote ${relative(process.cwd(), POT_FILE)} (${potMsgids(want).length} strings)`);
    }
  } catch (e) {
    console.error(`luci-pot: ${e.message}`);
    process.exit(1);
  }
}
