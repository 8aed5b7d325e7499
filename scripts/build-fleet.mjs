#!/usr/bin/env node
// Bundles the fleet exporter into dist/x0tta6bl4-fleet.mjs: the operator's backend side
// (`x0tta6bl4 fleet exporter`, or `node dist/x0tta6bl4-fleet.mjs`). A separate file so that the
// router bundle and its ipk carry none of it; the router CLI imports it only when asked.
import { build } from 'esbuild';
import { chmodSync, readFileSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const outfile = `${root}dist/x0tta6bl4-fleet.mjs`;

await build({
  entryPoints: [`${root}src/fleet-exporter/command.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18.20',
  minify: true,
  legalComments: 'none',
  define: { __X0TTA6BL4_VERSION__: JSON.stringify(version) },
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __x0_cr } from 'node:module'; const require = __x0_cr(import.meta.url);",
  },
  alias: {
    'readable-stream': 'node:stream',
    'worker-timers': `${root}src/bundle/native-timers.ts`,
  },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
console.error(`build:fleet: ${outfile} ${(statSync(outfile).size / 1024).toFixed(1)} KiB`);
