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
// Built-ins the agent needs only in some configurations: loaded on the first use of a function
// or class they export (TLS to the broker or the tracing collector, mDNS discovery). tls and
// https cost about 1 MB of private memory and RSS each time Node loads them (docs/memory.md, step 8).
const LAZY = new Set(['tls', 'https', 'dgram']);

// A function or class of a lazy built-in: a Proxy that loads the module on its first call,
// construction or property read. \`new\` keeps a subclass's new.target; instanceof reads
// .prototype through the proxy, so it sees the real class.
const LAZY_RUNTIME = `
let mod;
const m = () => (mod ??= require(SPECIFIER));
const lazy = (k) => new Proxy(function () {}, {
  apply: (_t, self, args) => Reflect.apply(m()[k], self, args),
  construct: (_t, args, nt) => Reflect.construct(m()[k], args, nt === proxies.get(k) ? m()[k] : nt),
  get: (_t, p) => m()[k][p],
  has: (_t, p) => p in m()[k],
});
const proxies = new Map();
const fn = (k) => { const p = lazy(k); proxies.set(k, p); return p; };
`;

/** The module's own exports that are plain values (no getters), as `export const` lines. */
function reexports(id) {
  const real = require(`node:${id}`);
  const specifier = JSON.stringify(`node:${id}`);
  const lazy = LAZY.has(id);
  const lines = lazy
    ? [LAZY_RUNTIME.replace('SPECIFIER', specifier), 'export default /* @__PURE__ */ (() => m())();']
    : [`const m = require(${specifier});`, 'export default m;'];
  for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(real))) {
    if (k === 'default' || !IDENT.test(k) || !('value' in d || GETTERS_IMPORTED[id]?.includes(k))) continue;
    // Pure calls, so that esbuild drops the exports nothing imports (and never reads them). A
    // lazy module's constants are read, and the module loaded, at start when they are imported.
    if (lazy) lines.push(typeof d.value === 'function' ? `export const ${k} = /* @__PURE__ */ fn(${JSON.stringify(k)});` : `export const ${k} = /* @__PURE__ */ (() => m().${k})();`);
    else lines.push(`export const ${k} = /* @__PURE__ */ (() => m.${k})();`);
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
