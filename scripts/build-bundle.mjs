#!/usr/bin/env node
// Bundles the agent into one ESM file, dist/x0tta6bl4.mjs, that runs with plain `node` and no
// node_modules: what the .ipk ships. Logs its size so that growth is seen when it happens.
import { build } from 'esbuild';
import { chmodSync, readFileSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const outfile = `${root}dist/x0tta6bl4.mjs`;

await build({
  entryPoints: [`${root}src/cli/main.ts`],
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
    js: "import { createRequire as __x0_cr } from 'node:module'; const require = __x0_cr(import.meta.url);",
  },
  // Browser and WASM stand-ins that Node already provides (≈ 60 KB of the compressed ipk):
  // mqtt's readable-stream is Node's own stream API; the rest are in src/bundle/.
  alias: {
    'readable-stream': 'node:stream',
    'worker-timers': `${root}src/bundle/native-timers.ts`,
    '@chainsafe/as-chacha20poly1305': `${root}src/bundle/wasm-crypto-for-noise.ts`,
    '@chainsafe/as-sha256': `${root}src/bundle/wasm-crypto-for-noise.ts`,
  },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
console.error(`build:bundle: ${outfile} ${(statSync(outfile).size / 1024).toFixed(1)} KiB`);

// The fleet exporter is a separate bundle (never in the router package): built alongside.
await import('./build-fleet.mjs');
