// esbuild plugin: libp2p's peer store sorts multiaddrs, protocol names and metadata keys with
// String.prototype.localeCompare, only to get a deterministic order (dedupe, protobuf output,
// array equality). localeCompare builds an ICU collator on first use and keeps it (its malloc'd
// tables and the ICU data pages it touches) for the life of the process; plain UTF-16 order gives
// the same result for these ASCII strings. docs/memory.md ("ICU") has the measurement.
import { readFile } from 'node:fs/promises';

// The call sites, and how many `.localeCompare(` each holds: a libp2p upgrade that moves or adds
// one fails the build here instead of silently keeping ICU in use.
const SITES = {
  '@libp2p/peer-store/dist/src/utils/dedupe-addresses.js': 1,
  '@libp2p/peer-store/dist/src/utils/to-peer-pb.js': 2,
  '@libp2p/utils/dist/src/array-equals.js': 1,
};

// `recv.localeCompare(` where recv is a name, a property path, or a path ending in `.toString()`.
const CALL = /([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?:\(\))?)\.localeCompare\(/g;
const HELPER = 'const __x0_codePointCompare = (x, y) => (x < y ? -1 : x > y ? 1 : 0);\n';

export const codePointCompare = {
  name: 'code-point-compare',
  setup(build) {
    const seen = new Set();
    build.onLoad({ filter: /[\\/]node_modules[\\/]@libp2p[\\/].*\.js$/ }, async (args) => {
      const site = Object.keys(SITES).find((s) => args.path.replaceAll('\\', '/').endsWith(`/node_modules/${s}`));
      if (!site) return undefined;
      const source = await readFile(args.path, 'utf8');
      let n = 0;
      const contents = source.replace(CALL, (_, recv) => {
        n++;
        return `__x0_codePointCompare(${recv}, `;
      });
      if (n !== SITES[site] || contents.includes('localeCompare'))
        throw new Error(`code-point-compare: ${site} has ${n} localeCompare calls I can rewrite, expected ${SITES[site]} (libp2p changed: update src/bundle/code-point-compare-plugin.mjs)`);
      seen.add(site);
      return { contents: HELPER + contents, loader: 'js' };
    });
    // Every site must have been bundled: a missed one means the paths above went stale.
    build.onEnd((result) => {
      if (result.errors.length > 0) return;
      const missing = Object.keys(SITES).filter((s) => !seen.has(s));
      if (missing.length > 0 && build.initialOptions.entryPoints?.some?.((e) => String(e).endsWith('src/cli/main.ts')))
        return { errors: [{ text: `code-point-compare: not bundled any more: ${missing.join(', ')}` }] };
      return undefined;
    });
  },
};
