// The build's esbuild plugin that bundles ESM imports of Node built-ins as require()
// (scripts/builtin-require-plugin.mjs): bundled with and without it, run under plain node. That a
// getter ran is seen through crypto.webcrypto, whose getter loads a module of Node's own
// (process.moduleLoadList); tls.rootCertificates' read (146 certificates as JS strings) leaves no
// such trace, and its property cannot be redefined to spy on it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { builtinRequire } from '../../scripts/builtin-require-plugin.mjs';

const root = new URL('../..', import.meta.url).pathname;
const BANNER = "import { createRequire as __x0_cr } from 'node:module'; const require = __x0_cr(import.meta.url);";

async function bundle(contents: string, plugins: Plugin[]): Promise<string> {
  const out = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    banner: { js: BANNER },
    plugins,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

// Named, namespace and default imports, a class, a function and a constant of built-ins.
const ENTRY = `
import { connect, DEFAULT_MIN_VERSION } from 'node:tls';
import * as crypto from 'node:crypto';
import os from 'os';
import { Agent } from 'node:https';
const a = new Agent({ keepAlive: false });
console.log(JSON.stringify({
  connect: typeof connect,
  minVersion: DEFAULT_MIN_VERSION,
  sha: crypto.createHash('sha256').update('x').digest('hex').slice(0, 8),
  eol: os.EOL === '\\n',
  agent: a instanceof Agent && typeof a.addRequest === 'function',
  webcryptoLoaded: process.moduleLoadList.some((m) => m.endsWith('internal/crypto/webcrypto')),
}));
`;

function run(code: string): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'x0-bir-'));
  try {
    writeFileSync(join(dir, 'b.mjs'), code);
    const r = spawnSync(process.execPath, [join(dir, 'b.mjs')], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ESM imports of built-ins read every getter; with the plugin none is read and the imports work alike', async () => {
  const expected = { connect: 'function', minVersion: 'TLSv1.2', sha: '2d711642', eol: true, agent: true };
  const without = run(await bundle(ENTRY, []));
  assert.equal(without, { ...expected, webcryptoLoaded: true }, 'Node no longer reads getters for an ESM import: the plugin is not needed');
  const withPlugin = await bundle(ENTRY, [builtinRequire]);
  assert.not.ok(/from\s*["'](node:)?(tls|crypto|os|https)["']/.test(withPlugin), 'a built-in is still imported as ESM');
  assert.equal(run(withPlugin), { ...expected, webcryptoLoaded: false });
});

test('importing a getter by name fails the build, naming it (webcrypto is the one allowed)', async () => {
  try {
    await bundle("import { rootCertificates } from 'node:tls'; console.log(rootCertificates.length);", [builtinRequire]);
    assert.unreachable('built');
  } catch (e) {
    assert.match((e as Error).message, /No matching export .* for import "rootCertificates"/);
  }
  assert.ok((await bundle("import { webcrypto } from 'node:crypto'; console.log(typeof webcrypto);", [builtinRequire])).length > 0);
});

test.run();
