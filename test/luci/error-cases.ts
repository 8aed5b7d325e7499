// The LuCI page's error cases, each a function of a Playwright Page and a LuciControl, so that
// the same checks run against the preview (scripts/luci-preview.mjs, a SHIM of LuCI's JS
// runtime with an rpcd/uhttpd stand-in) and against the real LuCI runtime (uhttpd + rpcd +
// luci-base in a namespace root, test/router/). Each check opens the page itself, breaks
// something through the control, expects the error box with the reason, repairs it and
// expects the box gone and fresh data, and fails on any page error (an uncaught rejection
// included) seen meanwhile.
import type { Page, Request } from 'playwright-core';

// Functions passed to page.* run in the browser; tsconfig has no DOM lib, so name its globals here.
declare const document: { querySelector(s: string): { textContent: string | null } | null };

export interface LuciControl {
  /** The app page (Status › Mesh agent); for real LuCI, of a logged-in browser context. */
  viewUrl: string;
  /** Longest wait for the page to show a change: poll interval plus any rpc timeout, in ms. */
  settleMs: number;
  stopAgent(): Promise<void>;
  startAgent(): Promise<void>;
  /** Replace the installed rpcd plugin: 'silent' exits with no output, 'hang' outlasts rpcd's exec timeout. */
  breakPlugin(mode: 'silent' | 'hang'): Promise<void>;
  restorePlugin(): Promise<void>;
  /** The ubus object luci.x0tta6bl4 vanishes (plugin removed, rpcd reloaded), and comes back. */
  removeObject(): Promise<void>;
  restoreObject(): Promise<void>;
}

export class ErrorCaseFailure extends Error {
  override name = 'ErrorCaseFailure';
}

function expect(ok: unknown, what: string): void {
  if (!ok) throw new ErrorCaseFailure(what);
}

function watchErrors(page: Page): { list: string[]; stop(): void } {
  const list: string[] = [];
  const onError = (e: Error) => list.push(String(e));
  page.on('pageerror', onError);
  return { list, stop: () => page.off('pageerror', onError) };
}

async function uptimeText(page: Page): Promise<string | null> {
  return page.textContent('#x0-node td[data-field="uptime" i]');
}

/** Waits until the page shows agent data and no error box; returns the uptime shown. */
export async function waitForData(page: Page, c: LuciControl): Promise<string> {
  try {
    await page.waitForSelector('#x0-node td[data-field="uptime" i]', { timeout: c.settleMs });
    await page.waitForSelector('#x0-error', { state: 'detached', timeout: c.settleMs });
  } catch (e) {
    const err = await page.textContent('#x0-error').catch(() => null);
    throw new ErrorCaseFailure(`no agent data on the page${err ? ` (error box: ${err})` : ''}: ${(e as Error).message.split('\n')[0]}`);
  }
  return (await uptimeText(page))!;
}

/**
 * Waits for the error box giving `reason` and returns its text; the data must be gone with it.
 * The box may first give another reason: on a router, a call in flight while rpcd reloads
 * (SIGHUP) gets no answer, and LuCI shows its XHR timeout before the next poll meets the
 * new state.
 */
export async function waitForErrorBox(page: Page, c: LuciControl, reason: RegExp): Promise<string> {
  try {
    await page.waitForFunction(
      ([src, flags]) => {
        const box = document.querySelector('#x0-error')?.textContent;
        return box != null && new RegExp(src!, flags).test(box);
      },
      [reason.source, reason.flags],
      { timeout: c.settleMs },
    );
  } catch {
    const box = await page.textContent('#x0-error').catch(() => null);
    if (box !== null) throw new ErrorCaseFailure(`the error box gives the reason (${reason}) within ${c.settleMs} ms: ${box}`);
    const shown = await page.textContent('#view').catch(() => '?');
    throw new ErrorCaseFailure(`no error box within ${c.settleMs} ms; the page shows: ${String(shown).replace(/\s+/g, ' ').slice(0, 300)}`);
  }
  const text = (await page.textContent('#x0-error'))!;
  expect((await page.$('#x0-node')) === null, 'no node summary (blank or stale figures) beside the error box');
  expect((await page.$('#x0-summary [data-state="ok"]')) === null, 'no "ok" badge beside the error box');
  return text;
}

/** After a repair: the box goes and data comes back, newer than `before` if given. */
async function expectRecovery(page: Page, c: LuciControl, before: string | null): Promise<void> {
  const shown = await waitForData(page, c);
  if (before !== null)
    await page
      .waitForFunction((u) => document.querySelector('#x0-node td[data-field="uptime" i]')?.textContent !== u, before, { timeout: c.settleMs })
      .catch(() => {
        throw new ErrorCaseFailure(`the data did not refresh after recovery (uptime stayed ${shown})`);
      });
}

// LuCI's own calls at page start (luci.getFeatures, uci changes ...) go out in the same JSON-RPC
// batches as the view's first calls. One lost in an rpcd reload (SIGHUP re-executes rpcd; a
// pending call gets no answer) rejects inside luci-base as an uncaught "XHR request timed out",
// which is LuCI's, not the view's: a check lets them finish before it breaks anything.
function carriesLuciCall(q: Request): boolean {
  if (q.method() !== 'POST' || !/\/ubus\b/.test(q.url())) return false;
  try {
    const body = JSON.parse(q.postData() ?? '');
    return (Array.isArray(body) ? body : [body]).some((c) => !(c?.method === 'call' && c.params?.[1] === 'luci.x0tta6bl4'));
  } catch {
    return false;
  }
}

function watchLuciCalls(page: Page): { settled(c: LuciControl): Promise<void> } {
  const pending = new Set<Request>();
  page.on('request', (q) => carriesLuciCall(q) && pending.add(q));
  page.on('requestfinished', (q) => pending.delete(q));
  page.on('requestfailed', (q) => pending.delete(q));
  return {
    async settled(c) {
      for (const end = Date.now() + c.settleMs; pending.size > 0; await new Promise((r) => setTimeout(r, 100)))
        if (Date.now() > end) throw new ErrorCaseFailure(`LuCI's own calls still pending after ${c.settleMs} ms: ${[...pending].map((q) => q.postData()).join(' ')}`);
    },
  };
}

async function openWithData(page: Page, c: LuciControl): Promise<string> {
  const calls = watchLuciCalls(page);
  await page.goto(c.viewUrl);
  const uptime = await waitForData(page, c);
  await calls.settled(c);
  return uptime;
}

function noPageErrors(errors: { list: string[]; stop(): void }): void {
  errors.stop();
  expect(errors.list.length === 0, `no page errors, got: ${errors.list.join(' | ')}`);
}

/** rpcd exec error: the plugin prints nothing. rpcd answers ubus status 5 (NO_DATA). */
export async function checkRpcErrorShowsBox(page: Page, c: LuciControl): Promise<void> {
  const errors = watchErrors(page);
  const before = await openWithData(page, c);
  await c.breakPlugin('silent');
  try {
    await waitForErrorBox(page, c, /ubus code 5|No data received/);
  } finally {
    await c.restorePlugin();
  }
  await expectRecovery(page, c, before);
  noPageErrors(errors);
}

/** rpcd exec timeout: the plugin hangs until rpcd kills it. */
export async function checkRpcTimeoutShowsBox(page: Page, c: LuciControl): Promise<void> {
  const errors = watchErrors(page);
  const before = await openWithData(page, c);
  await c.breakPlugin('hang');
  try {
    await waitForErrorBox(page, c, /ubus code \d+|timed out/);
  } finally {
    await c.restorePlugin();
  }
  await expectRecovery(page, c, before);
  noPageErrors(errors);
}

/** Failing poll: the call itself rejects (JSON-RPC error) while the page is open. */
export async function checkFailingPollShowsBox(page: Page, c: LuciControl): Promise<void> {
  const errors = watchErrors(page);
  const before = await openWithData(page, c);
  await c.removeObject();
  try {
    await waitForErrorBox(page, c, /Object not found/);
  } finally {
    await c.restoreObject();
  }
  await expectRecovery(page, c, before);
  noPageErrors(errors);
}

/** The agent stops: the plugin reports it cannot reach it. */
export async function checkAgentGoneShowsBox(page: Page, c: LuciControl): Promise<void> {
  const errors = watchErrors(page);
  await openWithData(page, c);
  await c.stopAgent();
  try {
    await waitForErrorBox(page, c, /does not answer[\s\S]*is the agent running\?/);
  } finally {
    await c.startAgent();
  }
  // A restarted agent starts its uptime again: no "newer than" check, only data back.
  await expectRecovery(page, c, null);
  noPageErrors(errors);
}

/** Object missing at load: the page must not stay on LuCI's "Loading view…" spinner. */
export async function checkObjectMissingAtLoad(page: Page, c: LuciControl): Promise<void> {
  const errors = watchErrors(page);
  const calls = watchLuciCalls(page);
  await c.removeObject();
  try {
    await page.goto(c.viewUrl);
    await waitForErrorBox(page, c, /Object not found/);
    expect((await page.$('#view .spinning')) === null, 'the "Loading view…" spinner is gone');
    await calls.settled(c);
  } finally {
    await c.restoreObject();
  }
  // Without a reload: the poll brings the data once the object is back.
  await expectRecovery(page, c, null);
  noPageErrors(errors);
}

/** All the checks, in an order that leaves the system as found. */
export const ERROR_CASES: Record<string, (page: Page, c: LuciControl) => Promise<void>> = {
  'rpcd exec error (no output)': checkRpcErrorShowsBox,
  'rpcd exec timeout': checkRpcTimeoutShowsBox,
  'failing poll (object gone while open)': checkFailingPollShowsBox,
  'agent stopped and restarted': checkAgentGoneShowsBox,
  'object missing at load': checkObjectMissingAtLoad,
};
