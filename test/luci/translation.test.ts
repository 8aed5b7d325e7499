// Translations of the LuCI page: the template po/templates/x0tta6bl4.pot lists exactly the
// view's `_()` strings (plus the menu title and ACL description, as LuCI's i18n-scan.pl
// collects them), and the visible words of the page go through _(), seen in headless Chromium
// with the preview's pseudo-translation (`?tr=pseudo` wraps each translated string as ‹…›;
// the preview is a SHIM of LuCI's runtime, with a stand-in agent for fixed content).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MENU_FILE, ACL_FILE, VIEW_FILE, startLuciPreview } from '../../scripts/luci-preview.mjs';
import { POT_FILE, PotError, extractJs, potMsgids } from '../../scripts/luci-pot.mjs';
import { launchChromium } from './browser.ts';
import { startStandInAgent } from './stand-in-agent.ts';

const viewIds = () => new Set(extractJs(readFileSync(VIEW_FILE, 'utf8'), VIEW_FILE).map((s) => s.msgid));
const potIds = () => potMsgids(readFileSync(POT_FILE, 'utf8'));

test('every _() string of the view is in the pot', () => {
  const pot = new Set(potIds());
  const missing = [...viewIds()].filter((id) => !pot.has(id));
  assert.equal(missing, [], 'run node scripts/luci-pot.mjs');
});

test('every string of the pot is used by the view, the menu or the ACL, once', () => {
  const menu = Object.values(JSON.parse(readFileSync(MENU_FILE, 'utf8'))).map((n) => (n as { title: string }).title);
  const acl = Object.values(JSON.parse(readFileSync(ACL_FILE, 'utf8'))).map((r) => (r as { description: string }).description);
  const used = new Set([...viewIds(), ...menu, ...acl]);
  const ids = potIds();
  assert.equal(ids.filter((id) => !used.has(id)), [], 'stale strings in the pot: run node scripts/luci-pot.mjs');
  assert.is(new Set(ids).size, ids.length, 'no msgid twice');
  assert.ok(ids.includes('ok') && ids.includes('degraded') && ids.includes('down') && ids.includes('disabled'), 'the state words');
});

test('extraction: escapes are undone, a _() of a non-literal is an error', () => {
  assert.equal(extractJs("x = _('it\\'s') + _(\"a \\\"b\\\"\", 'ctx');").map((s) => s.msgid), ["it's", 'a "b"']);
  assert.equal(extractJs('o.__proto__; a_(1); x._(y)').length, 0);
  assert.throws(() => extractJs('var s = _(name);', 'v.js'), (e: unknown) => e instanceof PotError && /v\.js:1/.test((e as Error).message));
});

// Functions passed to page.* run in the browser; tsconfig has no DOM lib, so name its globals here.
declare const document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> };

test('pseudo-translated page: headings, state words, units and the error box are all translated', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'x0-luci-tr-'));
  const sock = join(dir, 'a.sock');
  let agent = await startStandInAgent(sock);
  // X0_LUCI_VIEW: another view file, to see this test fail against an older view.
  const preview = await startLuciPreview({ socketPath: sock, viewFile: process.env.X0_LUCI_VIEW || undefined });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${preview.url}?poll=1&tr=pseudo`);
    await page.waitForSelector('#x0-node');
    const texts = (sel: string) => page.$$eval(sel, (els) => els.map((e) => (e.textContent ?? '').trim()));
    // Elements whose whole text is the page's own words.
    for (const sel of ['h2', 'h3', 'h4', '.cbi-map-descr', 'th', '#x0-node td:first-child', 'td em', '.label'])
      for (const t of await texts(sel)) assert.ok(/^(‹[^‹›]*›\s*)+$/.test(t), `${sel}: "${t}" is translated`);
    assert.equal((await texts('.label')).sort(), ['‹degraded›', '‹degraded›', '‹disabled›', '‹ok›']);
    // Words inside figures: units of time, rates and TQ.
    assert.match((await texts('#x0-node td[data-field="uptime"]'))[0]!, /^‹\d+m› ‹\d+s›$/);
    assert.ok((await texts('#x0-neighbours td:nth-child(3)')).every((t) => /^‹\d+ ms›$/.test(t)));
    assert.match((await texts('#x0-gateways td:nth-child(4)'))[0]!, /^‹50\.0 Mbit\/s› \/ ‹10\.0 Mbit\/s›$/);
    assert.ok((await texts('#x0-graph li strong')).every((t) => /^‹TQ \d+›$/.test(t)));
    assert.ok((await texts('#x0-events td:nth-child(2)')).every((t) => /^‹[^‹›]+›$/.test(t)));
    // The error box.
    await agent.close();
    await page.waitForSelector('#x0-error');
    assert.match((await texts('#x0-error strong'))[0]!, /^‹[^‹›]+›$/);
    assert.match((await texts('#x0-error'))[0]!, /‹The page keeps trying every 5 seconds\.›$/);
    agent = await startStandInAgent(sock);
    await page.waitForSelector('#x0-node');
  } finally {
    await browser.close();
    await preview.close();
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
