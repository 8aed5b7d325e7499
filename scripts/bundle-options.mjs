// The esbuild options the router bundle (build-bundle.mjs) and the fleet exporter's bundle
// (build-fleet.mjs) share: one ESM file for plain `node` >= 18.20, no node_modules beside it.
import { readFileSync } from 'node:fs';
import { codePointCompare } from '../src/bundle/code-point-compare-plugin.mjs';
import { builtinRequire } from './builtin-require-plugin.mjs';

export const root = new URL('..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));

/** `prefix` goes before the banner (the exporter's shebang); `alias` adds to the shared stand-ins. */
export function bundleOptions({ entry, outfile, prefix = '', alias = {} }) {
  return {
    entryPoints: [`${root}${entry}`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    // Node 18.20 is the oldest the agent runs on (OpenWrt 23.05, MIPS): esbuild lowers or refuses
    // syntax it lacks. Today this changes nothing in the output (same size as node20).
    target: 'node18.20',
    minify: true,
    // Names are not kept: our errors carry their own messages, the libraries in the bundle set
    // Error.name explicitly, and kept names cost ≈ 28 KB of the compressed ipk.
    keepNames: false,
    legalComments: 'none',
    define: { __X0TTA6BL4_VERSION__: JSON.stringify(version) },
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: {
      js: `${prefix}import { createRequire as __x0_cr } from 'node:module'; const require = __x0_cr(import.meta.url);`,
    },
    // Node's own stream API for mqtt's readable-stream, native timers for worker-timers (src/bundle/).
    alias: {
      'readable-stream': 'node:stream',
      'worker-timers': `${root}src/bundle/native-timers.ts`,
      ...alias,
    },
    // libp2p's sorts without ICU's collator (src/bundle/code-point-compare-plugin.mjs); Node
    // built-ins through require(), so that no ESM facade runs their getters (builtin-require-plugin.mjs).
    plugins: [codePointCompare, builtinRequire],
    logLevel: 'warning',
  };
}
