#!/usr/bin/env node
// Bundles the agent into one ESM file, dist/x0tta6bl4.mjs, that runs with plain `node` and no
// node_modules: what the .ipk ships. Logs its size so that growth is seen when it happens.
import { build } from 'esbuild';
import { chmodSync, statSync } from 'node:fs';
import { bundleOptions, root } from './bundle-options.mjs';

const outfile = `${root}dist/x0tta6bl4.mjs`;

await build(
  bundleOptions({
    entry: 'src/cli/main.ts',
    outfile,
    // WASM crypto that Node already provides (with the shared stand-ins ≈ 60 KB of the compressed ipk).
    alias: {
      '@chainsafe/as-chacha20poly1305': `${root}src/bundle/wasm-crypto-for-noise.ts`,
      '@chainsafe/as-sha256': `${root}src/bundle/wasm-crypto-for-noise.ts`,
      // mqtt's debug logging, never switched on on a router (src/bundle/no-debug.cjs).
      debug: `${root}src/bundle/no-debug.cjs`,
      // Curve and cipher code no call reaches on a router (src/bundle/no-secp256k1.ts, no-js-chacha.ts).
      '@noble/curves/secp256k1': `${root}src/bundle/no-secp256k1.ts`,
      '@noble/ciphers/chacha': `${root}src/bundle/no-js-chacha.ts`,
    },
  }),
);
chmodSync(outfile, 0o755);
console.error(`build:bundle: ${outfile} ${(statSync(outfile).size / 1024).toFixed(1)} KiB`);

// The fleet exporter is a separate bundle (never in the router package): built alongside.
await import('./build-fleet.mjs');
