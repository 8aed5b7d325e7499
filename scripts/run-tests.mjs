#!/usr/bin/env node
// Runs every test/**/*.test.ts in its own Node process (isolation: a test that leaks a socket
// or a timer cannot hang the others), two at a time, and ends with one plain summary line
// "tests: N passed, N failed" that CI reads. Arguments filter test files by substring.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpus } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const perFileTimeoutMs = Number(process.env.TEST_TIMEOUT_MS ?? 15 * 60_000);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = findTests(join(root, 'test')).filter(
  (f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)),
);
if (files.length === 0) {
  console.error('no test files matched', filters.join(' '));
  process.exit(1);
}

// Slow files (QEMU guests, qemu-user arches) start first so that they overlap the rest.
const slow = (f) => Number(/\/(vm|arch|router-vm)\//.test(f));
files.sort((a, b) => slow(b) - slow(a));

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
let passed = 0;
let failed = 0;
const failedFiles = [];

function runOne(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n[run-tests] killed after ${perFileTimeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, perFileTimeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = stripAnsi(out);
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? 0);
      const ok = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? 0);
      const rel = relative(root, file);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (code !== 0 || total === 0 || ok !== total) {
        // A file that crashed or ran nothing counts as at least one failure.
        failed += Math.max(1, total - ok);
        passed += ok;
        failedFiles.push(rel);
        process.stdout.write(`\n--- FAIL ${rel} (exit ${code}, ${secs}s)\n${text}\n`);
      } else {
        passed += ok;
        process.stdout.write(`ok   ${rel}: ${ok} tests, ${secs}s\n`);
      }
      resolve();
    });
  });
}

const queue = [...files];
const workers = Array.from({ length: Math.max(1, Math.min(2, cpus().length)) }, async () => {
  while (queue.length) await runOne(queue.shift());
});
await Promise.all(workers);

if (failedFiles.length) console.log(`\nfailed files:\n  ${failedFiles.join('\n  ')}`);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
