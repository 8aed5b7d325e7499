// esbuild plugin: ESM imports of Node built-ins (`import { connect } from 'node:tls'`) are
// bundled as `require('node:tls')` plus plain re-exports. Why: for an ESM import, Node builds a
// facade of the built-in that reads *every* export once, getters included, and some getters load
// what the agent never uses: `tls.rootCertificates` turns OpenSSL's 146 root certificates into JS
// strings (0.22 MB, kept for the life of the process), `crypto.webcrypto` / `crypto.subtle` load
// WebCrypto. require() returns the module object and runs no getter (docs/memory.md, step 8).
// Getters are not re-exported (a bundle that imports one by name fails to build, loudly), except
// those in GETTERS_IMPORTED, which bundled code imports by name and which are read once at start.
import { builtinModules, createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const NAMESPACE = 'x0-builtin-require';
const bare = (p) => (p.startsWith('node:') ? p.slice(5) : p);
const IDENT = /^[A-Za-z_$][\w$]*$/;
// src/federation/web-globals-polyfill.ts (Node 18 lacks a global crypto.getRandomValues).
const GETTERS_IMPORTED = { crypto: ['webcrypto'] };

/** The module's own exports that are plain values (no getters), as `export const` lines. */
function reexports(id) {
  const m = require(`node:${id}`);
  const lines = [`const m = require(${JSON.stringify(`node:${id}`)});`, 'export default m;'];
  for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(m))) {
    if (k === 'default' || !IDENT.test(k) || !('value' in d || GETTERS_IMPORTED[id]?.includes(k))) continue;
    // A pure call, so that esbuild drops the exports nothing imports (and never reads them).
    lines.push(`export const ${k} = /* @__PURE__ */ (() => m.${k})();`);
  }
  return lines.join('\n');
}

export const builtinRequire = {
  name: 'builtin-require',
  setup(build) {
    const builtins = new Set(builtinModules.filter((b) => !b.startsWith('_')));
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      if (args.namespace === NAMESPACE || args.kind !== 'import-statement' || !builtins.has(bare(args.path))) return undefined;
      return { path: bare(args.path), namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({ contents: reexports(args.path), loader: 'js', resolveDir: '.' }));
  },
};
