// Builds both ipks from the real build output (dist/, made by `npm run build`, which
// `npm test` runs first) into a private temporary directory, so test files running in
// parallel never share a work tree.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPackages, type BuiltPackages } from '../../scripts/package.mjs';

export const DIST = new URL('../../dist/', import.meta.url).pathname;

export function buildIpks(epoch = 1_700_000_000, dir = mkdtempSync(join(tmpdir(), 'x0-ipk-'))): BuiltPackages & { dir: string } {
  const r = buildPackages({ distDir: DIST, outDir: join(dir, 'out'), workDir: join(dir, 'work'), epoch });
  return { ...r, dir };
}
