// The build's esbuild plugin that takes libp2p's sorts off ICU's collator
// (src/bundle/code-point-compare-plugin.mjs): the real libp2p modules, bundled with and without it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { codePointCompare } from '../../src/bundle/code-point-compare-plugin.mjs';

const root = new URL('../..', import.meta.url).pathname;

/** Bundles an entry that uses @libp2p/utils' arrayEquals and @libp2p/peer-store; returns the code. */
async function bundle(plugins: Plugin[]): Promise<string> {
  const out = await build({
    stdin: {
      contents: "export { arrayEquals } from '@libp2p/utils/array-equals'; export { persistentPeerStore } from '@libp2p/peer-store';",
      resolveDir: root,
      loader: 'js',
    },
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    plugins,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

test('with the plugin no localeCompare is left in libp2p, and arrayEquals still compares as a set', async () => {
  assert.ok((await bundle([])).includes('localeCompare'), 'libp2p no longer calls localeCompare: the plugin is not needed');
  const code = await bundle([codePointCompare]);
  assert.not.ok(code.includes('localeCompare'));
  const dir = mkdtempSync(join(tmpdir(), 'x0-cpc-'));
  try {
    writeFileSync(join(dir, 'b.mjs'), code);
    const { arrayEquals } = (await import(join(dir, 'b.mjs'))) as { arrayEquals: (a: unknown[], b: unknown[]) => boolean };
    const item = (s: string) => ({ toString: () => s, equals: (o: { toString(): string }) => o.toString() === s });
    const addrs = ['/ip4/10.0.0.2/tcp/4001', '/ip4/10.0.0.10/tcp/4001', '/ip6/::1/tcp/4001', '/dns4/b.example/tcp/1'];
    assert.ok(arrayEquals(addrs.map(item), [...addrs].reverse().map(item)));
    assert.not.ok(arrayEquals(addrs.map(item), [...addrs.slice(1), '/ip4/10.0.0.3/tcp/4001'].map(item)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a call site count that no longer matches fails the build instead of keeping ICU in use', async () => {
  // A decoy copy of array-equals.js with a second call, loaded from a scratch node_modules path.
  const dir = mkdtempSync(join(tmpdir(), 'x0-cpc-'));
  try {
    const file = join(dir, 'node_modules/@libp2p/utils/dist/src/array-equals.js');
    const real = readFileSync(join(root, 'node_modules/@libp2p/utils/dist/src/array-equals.js'), 'utf8');
    mkdirSync(join(dir, 'node_modules/@libp2p/utils/dist/src'), { recursive: true });
    writeFileSync(file, `${real}\nexport const extra = (a, b) => a.localeCompare(b);\n`);
    let error = '';
    try {
      await build({ entryPoints: [file], bundle: true, write: false, platform: 'node', format: 'esm', plugins: [codePointCompare], logLevel: 'silent' });
    } catch (e) {
      error = (e as Error).message;
    }
    assert.match(error, /array-equals\.js has 2 localeCompare calls I can rewrite, expected 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
