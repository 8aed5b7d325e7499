#!/usr/bin/env node
// Bundles the fleet exporter into dist/x0tta6bl4-fleet.mjs: the operator's backend side
// (`x0tta6bl4 fleet exporter`, or `node dist/x0tta6bl4-fleet.mjs`). A separate file so that the
// router bundle and its ipk carry none of it; the router CLI imports it only when asked.
import { build } from 'esbuild';
import { chmodSync, statSync } from 'node:fs';
import { bundleOptions, root } from './bundle-options.mjs';

const outfile = `${root}dist/x0tta6bl4-fleet.mjs`;

await build(bundleOptions({ entry: 'src/fleet-exporter/command.ts', outfile, prefix: '#!/usr/bin/env node\n' }));
chmodSync(outfile, 0o755);
console.error(`build:fleet: ${outfile} ${(statSync(outfile).size / 1024).toFixed(1)} KiB`);
