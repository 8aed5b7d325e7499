// The Node 18 shims (src/federation/web-globals-polyfill.ts) under a real Node 18, where the
// globals are missing, and under this Node (20+), where they must be left as they are.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { node18 } from './node18.ts';

const POLYFILL = new URL('../../src/federation/web-globals-polyfill.ts', import.meta.url).pathname;
const found = node18();
if ('missing' in found && process.env.CI === 'true') throw new Error(`web-globals: no Node 18 in CI: ${found.missing}`);

// A module file, not -e: node -e defines a `crypto` global of its own that a module does not see.
function probe(node: string): { before: string[]; detail: unknown; random: number; subtle: string; same: boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'x0-web-globals-'));
  try {
    const file = join(dir, 'probe.mjs');
    writeFileSync(
      file,
      `const before = [typeof globalThis.CustomEvent, typeof globalThis.crypto?.getRandomValues];
const c = globalThis.crypto, E = globalThis.CustomEvent;
await import(${JSON.stringify(POLYFILL)});
const detail = new CustomEvent('peer', { detail: { id: 7 } }).detail;
const random = crypto.getRandomValues(new Uint8Array(8)).length;
console.log(JSON.stringify({ before, detail, random, subtle: typeof crypto.subtle?.digest, same: c === globalThis.crypto && E === globalThis.CustomEvent }));`,
    );
    return JSON.parse(execFileSync(node, ['--import', 'tsx', file], { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('this Node has both globals: the shims leave them alone', () => {
  const r = probe(process.execPath);
  assert.equal(r.before, ['function', 'function']);
  assert.ok(r.same);
});

if ('missing' in found) {
  test(`Node 18 shims (skipped outside CI: no ${found.missing})`, () => {});
} else {
  const node = found.node;
  test('Node 18 lacks CustomEvent and crypto.getRandomValues; after the shims both work', () => {
    const r = probe(node);
    assert.equal(r.before, ['undefined', 'undefined']);
    assert.equal(r.detail, { id: 7 });
    assert.is(r.random, 8);
    assert.is(r.subtle, 'function');
  });
}

test.run();
