// The preview (scripts/luci-preview.mjs) is a SHIM of LuCI's JS runtime and of rpcd/uhttpd's
// answers, used by the other LuCI tests. This test pins the behaviour it copies from
// luci-base 24.10's rpc.js (expect / reject / JSON-RPC errors) and from rpcd's exec plugin
// support (which status a plugin run gives), so that the shim cannot drift into being kinder
// than the real runtime. The real runtime is tested in test/router/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pluginReply, startLuciPreview } from '../../scripts/luci-preview.mjs';
import { launchChromium } from './browser.ts';
import { startStandInAgent } from './stand-in-agent.ts';
import { previewControl } from './preview-control.ts';

const run = (stdout: string, extra: object = {}) => ({ code: 0, stdout, stderr: '', timedOut: false, ...extra });

test('rpcd: a plugin run becomes the status rpcd gives (plugin.c finish callback, exec.c errno)', () => {
  assert.equal(pluginReply(run('')), [5], 'no output: NO_DATA');
  assert.equal(pluginReply(run('', { timedOut: true, code: null })), [5], 'killed at the exec timeout with no output: NO_DATA, not TIMEOUT');
  assert.equal(pluginReply(run('not json')), [2], 'garbage: INVALID_ARGUMENT');
  assert.equal(pluginReply(run('[1,2]')), [2], 'not an object: INVALID_ARGUMENT');
  assert.equal(pluginReply(run('{"a":1}\ntrailing')), [0, { a: 1 }], 'the first JSON value counts');
  assert.equal(pluginReply(run('{}')), [0], 'an empty reply table is left out');
  assert.equal(pluginReply(run('', { spawnError: 'ENOENT' })), [4], 'plugin file gone: NOT_FOUND');
  assert.equal(pluginReply(run('', { spawnError: 'EACCES' })), [6], 'not executable: PERMISSION_DENIED');
});

// Functions passed to page.evaluate run in the browser.
declare const window: { __luciShim: { rpc: { declare(o: object): () => Promise<unknown> } } };

test('LuCI rpc.declare in the shim: bare status without reject, rejection with it, expect defaults, JSON-RPC errors reject', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'x0-luci-shim-'));
  const agent = await startStandInAgent(join(dir, 'a.sock'));
  const preview = await startLuciPreview({ socketPath: join(dir, 'a.sock') });
  const browser = await launchChromium();
  const control = previewControl(preview, { current: null as never, restart: async () => null as never }, { pollSeconds: 5, execTimeoutMs: 1000 });
  try {
    const page = await browser.context.newPage();
    await page.goto(preview.url);
    await page.waitForSelector('#x0-node');
    const call = (decl: object) =>
      page.evaluate((d) => window.__luciShim.rpc.declare({ object: 'luci.x0tta6bl4', method: 'status', ...d })().then(
        (v) => ({ ok: typeof v === 'object' && v !== null ? Object.keys(v).sort().slice(0, 3) : v }),
        (e: Error) => ({ err: e.name + ': ' + e.message.split('\n')[0] }),
      ), decl);
    assert.equal(await call({}), { ok: ['events', 'federation', 'health'] });
    assert.equal(await call({ expect: { node: {} } }), { ok: ['address', 'algo', 'core'] }, 'expect picks a key');
    await control.breakPlugin('silent');
    assert.equal(await call({}), { ok: 5 }, 'without reject: the bare ubus status');
    assert.equal(await call({ expect: { '': {} } }), { ok: [] }, 'expect replaces a non-object by its default');
    assert.equal(await call({ reject: true }), { err: 'RPCError: RPC call to luci.x0tta6bl4/status failed with ubus code 5: No data received' });
    await control.restorePlugin();
    await control.removeObject();
    assert.equal(await call({}), { err: 'RPCError: RPC call to luci.x0tta6bl4/status failed with error -32000: Object not found' }, 'rejects even without reject');
    await control.restoreObject();
    assert.equal(await call({ method: 'nonexistent' }), { err: 'RPCError: RPC call to luci.x0tta6bl4/nonexistent failed with error -32002: Access denied' }, 'ACL before method');
  } finally {
    await browser.close();
    await preview.close();
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
