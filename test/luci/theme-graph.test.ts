// The LuCI page's looks in headless Chromium (preview: a SHIM of LuCI's runtime and a page
// with the bootstrap theme's colour variables and label classes; stand-in agent for fixed
// content): states use the theme's label classes and no colours of their own, so dark mode
// (prefers-color-scheme → data-darkmode, as the theme's header sets it) recolours them; the
// graph gives each of 14 links its own colour and zooms its y-axis to the data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { VIEW_FILE, startLuciPreview, type LuciPreview } from '../../scripts/luci-preview.mjs';
import { launchChromium } from './browser.ts';
import { startStandInAgent, type StandIn } from './stand-in-agent.ts';

declare const getComputedStyle: (e: unknown) => { color: string; backgroundColor: string; fill: string };

const dir = mkdtempSync(join(tmpdir(), 'x0-luci-look-'));
const OUT = new URL('../../test-output/luci/', import.meta.url).pathname;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let agent: StandIn;
let preview: LuciPreview;
const viewFile = process.env.X0_LUCI_VIEW || VIEW_FILE; // another view, to see these tests fail against it

test.before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launchChromium();
  agent = await startStandInAgent(join(dir, 'a.sock'), { extraLinks: 12, frozen: true });
  preview = await startLuciPreview({ socketPath: join(dir, 'a.sock'), viewFile });
});

async function open(scheme: 'light' | 'dark'): Promise<Page> {
  const page = await browser.context.newPage();
  await page.emulateMedia({ colorScheme: scheme });
  await page.goto(preview.url);
  await page.waitForSelector('#x0-graph path.x0-link');
  return page;
}

test('the view file sets no colours of its own for states, text or grid', () => {
  const src = readFileSync(viewFile, 'utf8');
  assert.equal(src.match(/#[0-9a-fA-F]{3,8}\b|rgba?\(/g) ?? [], [], 'no hex or rgb colours');
  assert.not.match(src, /STATE_COLOURS|color:\s*#|background:\s*#/);
});

test('states are theme labels: success / warning / danger / plain, recoloured in dark mode', async () => {
  const look: Record<string, Record<string, string>> = {};
  for (const scheme of ['light', 'dark'] as const) {
    const page = await open(scheme);
    assert.is(await page.getAttribute('html', 'data-darkmode'), String(scheme === 'dark'));
    const badges = await page.$$eval('[data-state]', (els) => els.map((e) => [e.getAttribute('data-state'), e.getAttribute('class'), e.getAttribute('style')]));
    assert.ok(badges.length >= 4);
    const cls: Record<string, string> = { ok: 'label success', degraded: 'label warning', down: 'label danger', disabled: 'label' };
    for (const [state, c, style] of badges) {
      assert.is(c, cls[state!], `${state} badge class`);
      assert.is(style, null, `${state} badge has no inline style`);
    }
    look[scheme] = Object.fromEntries(
      await page.$$eval('[data-state]', (els) => els.map((e) => [e.getAttribute('data-state')!, getComputedStyle(e).backgroundColor + '/' + getComputedStyle(e).color])),
    );
    // Axis labels take the page's text colour: readable on either background.
    const [axis, body] = await page.evaluate(() => [getComputedStyle((globalThis as any).document.querySelector('#x0-graph .x0-axis')).fill, getComputedStyle((globalThis as any).document.body).color]);
    assert.is(axis, body, `${scheme}: axis text in the page's text colour`);
    await page.screenshot({ path: join(OUT, `status-${scheme}.png`), fullPage: true });
    await page.close();
  }
  for (const state of ['ok', 'degraded']) assert.is.not(look.light![state], look.dark![state], `${state} badge differs in dark mode`);
});

test('graph: 14 links, 14 distinct colours; y-axis zoomed to the data', async () => {
  const page = await open('light');
  const paths = await page.$$eval('#x0-graph path.x0-link', (ps) => ps.map((p) => ({ stroke: p.getAttribute('stroke'), d: p.getAttribute('d')! })));
  assert.is(paths.length, 14);
  assert.is(new Set(paths.map((p) => p.stroke)).size, 14, 'every link its own colour');
  const swatches = await page.$$eval('#x0-graph .x0-swatch', (s) => s.map((e) => (e as any).style.background));
  assert.is(new Set(swatches).size, 14, 'legend colours match: one each');
  const [lo, hi] = (await page.$eval('#x0-graph svg', (s) => [s.getAttribute('data-y-min'), s.getAttribute('data-y-max')])).map(Number);
  const st: any = await (await fetch(preview.url.replace(/\/$/, '') + '/ubus/', {
    method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'call', params: ['0'.repeat(32), 'luci.x0tta6bl4', 'status', {}] }),
  })).json();
  const values = st.result[1].links.flatMap((l: { history: (number | null)[] }) => l.history.filter((v) => v !== null)) as number[];
  const min = Math.min(...values), max = Math.max(...values);
  assert.ok(lo! <= min && hi! >= max, `axis ${lo}..${hi} holds the data ${min}..${max}`);
  assert.ok(lo! > 0 && hi! <= 255, `axis ${lo}..${hi} is zoomed in from 0..255`);
  assert.ok(hi! - lo! <= 1.6 * (max - min) + 20, `axis ${lo}..${hi} is not much wider than the data ${min}..${max}`);
  // Every point inside the plot area (y 10..170 of 180).
  const ys = paths.flatMap((p) => [...p.d.matchAll(/[ML][\d.]+ ([\d.]+)/g)].map((m) => Number(m[1])));
  assert.ok(ys.every((y) => y >= 10 && y <= 170), 'points inside the plot');
  await page.close();
});

test.after(async () => {
  await preview?.close();
  await agent?.close();
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});
test.run();
