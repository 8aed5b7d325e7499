// The LuCI view in headless Chromium, served by scripts/luci-preview.mjs: LuCI API shim +
// the real view file + rpc routed through the real ACL and rpcd exec plugin to an agent.
// The main test uses the real agent on the simulated mesh; the hostile-string test uses a
// stand-in agent (test/luci/stand-in-agent.ts) because the real one cannot be made to say
// those things on demand. The error cases are in error-cases.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startLuciPreview } from '../../scripts/luci-preview.mjs';
import { launchChromium } from './browser.ts';
import { getJson, startRealAgent } from './real-agent.ts';
import { startStandInAgent } from './stand-in-agent.ts';

// Functions passed to page.* run in the browser; tsconfig has no DOM lib, so name its globals here.
declare const document: { querySelector(s: string): { textContent: string | null } | null; querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null }> & Iterable<{ getAttribute(n: string): string | null }> };
declare const window: Record<string, unknown>;

const OUT = new URL('../../test-output/luci/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'x0-luci-'));
let browser: Awaited<ReturnType<typeof launchChromium>>;

test.before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launchChromium();
});

async function openView(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  // poll=1: the view's 5 s poll runs every second, so updates show within a fast test.
  await page.goto(url + '?poll=1');
  await page.waitForSelector('body[data-view-ready]', { timeout: 20_000 });
  return { page, errors };
}

const rows = (page: Page, id: string) => page.$$eval(`#${id} tr.tr:not(.table-titles):not(.placeholder)`, (trs) => trs.length);

test('real agent: node summary, health, tables, link graph, live updates, screenshot', async () => {
  const agent = await startRealAgent(join(dir, 'real'));
  const preview = await startLuciPreview({ socketPath: agent.socket });
  try {
    const { page, errors } = await openView(preview.url);
    const st = await getJson(agent.socket, '/status');
    assert.is(await page.textContent('#x0-node td[data-field="name"]'), st.node.name);
    assert.is(await page.textContent('#x0-node td[data-field="driver"]'), 'simulator');
    assert.is(await rows(page, 'x0-health'), st.health.components.length);

    // The simulator's neighbours and originators reach the tables (after the agent's first polls).
    // Both tables: under load an originator may need one more OGM interval than a neighbour.
    await page.waitForFunction(
      () => ['x0-neighbours', 'x0-originators'].every((id) => document.querySelectorAll(`#${id} tr.tr:not(.table-titles):not(.placeholder)`).length > 0),
      null,
      { timeout: 20_000 },
    );
    const now = await getJson(agent.socket, '/status');
    assert.ok((await rows(page, 'x0-originators')) > 0);
    // A named neighbour keeps its MAC in data-mac (an agent that knows names shows them).
    const shownNeighbours = await page.$$eval('#x0-neighbours tr.tr:not(.table-titles) td:first-child', (tds) =>
      tds.map((t) => t.querySelector('[data-mac]')?.getAttribute('data-mac') ?? t.textContent),
    );
    for (const mac of shownNeighbours) assert.ok(now.mesh.neighbours.some((n: { neighbour: string }) => n.neighbour === mac) || now.mesh.originators.some((o: { originator: string }) => o.originator === mac), `${mac} is one of the agent's neighbours`);

    // The graph: one path per link, drawn from its history, growing as the agent polls.
    await page.waitForSelector('#x0-graph path.x0-link', { timeout: 20_000 });
    const points = () => page.$$eval('#x0-graph path.x0-link', (ps) => ps.map((p) => Number(p.getAttribute('data-points'))));
    const before = await points();
    assert.ok(before.length > 0 && before.every((n) => n >= 1));
    assert.match((await page.getAttribute('#x0-graph path.x0-link', 'd'))!, /^M[\d.]+ [\d.]+/);
    const uptime = await page.textContent('#x0-node td[data-field="uptime"]');
    await page.waitForFunction((u) => document.querySelector('#x0-node td[data-field="uptime"]')!.textContent !== u, uptime, { timeout: 20_000 });
    await page.waitForFunction((n) => Math.max(...[...document.querySelectorAll('#x0-graph path.x0-link')].map((p) => Number(p.getAttribute('data-points')))) > n, Math.max(...before), { timeout: 20_000 });
    assert.ok(preview.stats.rpcCalls >= 3, `polled: ${preview.stats.rpcCalls} rpc calls`);

    const shot = join(OUT, 'status.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot ${shot} (${statSync(shot).size} bytes)`);
    assert.equal(errors, []);
    await page.close();
  } finally {
    await preview.close();
    assert.is(await agent.stop(), 0, agent.log());
  }
});

test('stand-in agent: agent-supplied strings are shown as text, never as HTML', async () => {
  const sock = join(dir, 'hostile.sock');
  const hostile = '<img src=x onerror="window.__pwned=1">';
  const agent = await startStandInAgent(sock, { hostileMessage: hostile });
  const preview = await startLuciPreview({ socketPath: sock });
  try {
    const { page } = await openView(preview.url);
    const messages = await page.$$eval('#x0-events td:last-child', (tds) => tds.map((t) => t.textContent));
    assert.ok(messages.includes(hostile), 'the message appears verbatim');
    assert.is(await page.$$eval('#x0-events img', (i) => i.length), 0, 'no element was created from it');
    assert.is(await page.evaluate(() => window.__pwned), undefined);
    // Other stand-in content: TQ graph with gaps where a link was absent, learning table.
    assert.is(await page.$$eval('#x0-graph path.x0-link', (p) => p.length), 2);
    assert.match((await page.getAttribute('#x0-graph path.x0-link', 'd'))!, / M/, 'a gap starts a new segment');
    assert.is(await rows(page, 'x0-learning'), 3);
    // Originators: one row each, the best route shown, the other next hops counted.
    const orig = await page.$$eval('#x0-originators tr.tr:not(.table-titles)', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.is(orig.length, 3);
    const o4 = orig.find((r) => r[0] === '02:00:00:00:00:04')!;
    assert.equal([o4[1], o4[4], o4[5]], ['02:00:00:00:00:02', '200', '1']);
    assert.match((await page.textContent('#x0-federation-section'))!, /Disabled or not reported/);
    await page.close();
  } finally {
    await preview.close();
    await agent.close();
  }
});

test('stand-in agent that knows node names: names instead of MACs, the MAC in a tooltip, names as text', async () => {
  const sock = join(dir, 'names.sock');
  const hostile = '<b id="x0-pwn">n3</b>';
  const agent = await startStandInAgent(sock, { names: { '02:00:00:00:00:02': 'n2/mesh0', '02:00:00:00:00:03': hostile } });
  // X0_LUCI_VIEW: another view file, to see this test fail against an older view.
  const preview = await startLuciPreview({ socketPath: sock, viewFile: process.env.X0_LUCI_VIEW || undefined });
  try {
    const { page } = await openView(preview.url);
    const cell = (sel: string) => page.$$eval(sel, (tds) => tds.map((t) => [t.textContent, t.querySelector('[data-mac]')?.getAttribute('title') ?? null]));
    assert.equal(await cell('#x0-neighbours tr.tr:not(.table-titles) td:first-child'), [
      ['n2/mesh0', '02:00:00:00:00:02'],
      [hostile, '02:00:00:00:00:03'],
    ]);
    assert.is(await page.$('#x0-pwn'), null, 'a name is text, never HTML');
    // Originators: the one without a name stays a bare MAC; next hops are named too.
    const orig = await page.$$eval('#x0-originators tr.tr:not(.table-titles)', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent)));
    assert.equal(orig, [['n2/mesh0', 'n2/mesh0'], [hostile, hostile], ['02:00:00:00:00:04', 'n2/mesh0']]);
    assert.match((await page.textContent('#x0-graph ul'))!, /n2\/mesh0 @ mesh0/);
    await page.close();
  } finally {
    await preview.close();
    await agent.close();
  }
});

test.after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});
test.run();
