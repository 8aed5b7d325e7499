// Bundles the guest runner and guest scripts on the host (esbuild) before the VM boots. Under
// TCG, tsx compiling dozens of TS files read over 9p took ~30 s per script; a bundle starts in
// a few seconds. Bundled code cannot find files next to its sources through import.meta.url,
// so the runner points the agent at the bridge binary with $X0TTA6BL4_NLBRIDGE.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** Bundles each entry (path relative to repo, or absolute) to outDir; returns entry -> bundle path. */
export async function bundleEntries(repo: string, entries: readonly string[], outDir: string): Promise<Map<string, string>> {
  mkdirSync(outDir, { recursive: true });
  const out = new Map<string, string>();
  const unique = [...new Set(entries)];
  await Promise.all(
    unique.map(async (entry, i) => {
      const base = entry.replace(/^.*\//, '').replace(/\.[cm]?[tj]s$/, '');
      const outfile = join(outDir, `${i}-${base}.mjs`);
      await build({
        entryPoints: [isAbsolute(entry) ? entry : resolve(repo, entry)],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        sourcemap: 'inline',
        // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
        banner: { js: "import { createRequire as __x0_cr } from 'node:module'; const require = __x0_cr(import.meta.url);" },
        logLevel: 'error',
      });
      out.set(entry, outfile);
    }),
  );
  return out;
}
