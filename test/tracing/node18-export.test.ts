// The tracing core bundled as the router bundle is (esbuild, target node18.20) and run under a
// real Node 18.20 (Debian bookworm's, test/runtime/node18.ts), exporting to a receiver here that
// decodes with the official definitions: OpenWrt 23.05 routers run Node 18.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { node18 } from '../runtime/node18.ts';
import { OtlpReceiver, attrs } from './otlp-receiver.ts';

const found = node18();
if ('missing' in found && process.env.CI === 'true') throw new Error(`node18: no Node 18 in CI: ${found.missing}`);
const src = new URL('../../src/tracing/', import.meta.url).pathname;

const ENTRY = `
import { createTracer } from ${JSON.stringify(`${src}tracer.ts`)};
import { extractContext, injectContext } from ${JSON.stringify(`${src}propagation.ts`)};
const t = createTracer({ enabled: true, endpoint: process.argv[2], headers: { 'x-k': 'v' }, sampleRatio: 1, queueLimit: 100 },
  { serviceName: 'x0tta6bl4', serviceVersion: '1', hostName: process.version }, { flushDelayMs: 10 });
const root = t.startSpan('root', { attributes: { n: -5, f: 0.5, s: 'ü' } });
const child = t.startSpan('child', { parent: extractContext(injectContext(root.context)) });
child.addEvent('e', { x: true });
child.setStatus('error', 'boom');
child.end();
root.end();
await t.shutdown();
console.log(JSON.stringify(t.stats()));
`;

if ('missing' in found) {
  test(`tracing under Node 18 (skipped outside CI: no ${found.missing})`, () => {});
} else {
  const node = found.node;
  test('Node 18.20: spans recorded, encoded and POSTed; the receiver decodes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'x0-tracing-node18-'));
    const recv = await OtlpReceiver.start();
    try {
      writeFileSync(join(dir, 'entry.ts'), ENTRY);
      await build({ entryPoints: [join(dir, 'entry.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node18.20', outfile: join(dir, 'out.mjs'), logLevel: 'error' });
      const child = spawn(node, [join(dir, 'out.mjs'), recv.url], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const code = await new Promise((r) => child.on('close', r));
      assert.is(code, 0, out);
      assert.equal(JSON.parse(out), { queued: 0, exported: 2, dropped: 0, failedExports: 0 });
      const host = attrs(recv.posts[0]!.request!.resourceSpans[0]!.resource.attributes)['host.name'];
      assert.match(String(host), /^v18\.20\./);
      const spans = recv.spans();
      const root = spans.find((s) => s.name === 'root')!;
      const child1 = spans.find((s) => s.name === 'child')!;
      assert.is(child1.parentSpanId, root.spanId);
      assert.is(child1.traceId, root.traceId);
      assert.equal(attrs(root.attributes), { n: -5, f: 0.5, s: 'ü' });
      assert.equal(child1.status, { code: 2, message: 'boom' });
    } finally {
      await recv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
