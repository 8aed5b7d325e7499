// The LuCI page's error cases (test/luci/error-cases.ts) in headless Chromium against the
// preview: scripts/luci-preview.mjs is a SHIM of LuCI's JS runtime (rpc.declare with
// expect/reject, poll, view loading and L.error written to behave as luci-base 24.10's) and
// of rpcd/uhttpd's answers, not the real runtime. The real agent (dist/) on the simulated mesh
// answers through the real rpcd plugin. The same checks are meant to run in the real LuCI
// runtime (test/router/) with a control that stops procd's service, replaces the plugin file
// and reloads rpcd.
import { test } from 'uvu';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLuciPreview, type LuciPreview } from '../../scripts/luci-preview.mjs';
import { launchChromium } from './browser.ts';
import { ERROR_CASES } from './error-cases.ts';
import { previewControl } from './preview-control.ts';
import { startRealAgent, type RunningAgent } from './real-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-luci-err-'));
const EXEC_TIMEOUT_MS = 1500;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let preview: LuciPreview;
const agent = { current: undefined as unknown as RunningAgent, restart: () => startRealAgent(join(dir, 'agent')) };

test.before(async () => {
  browser = await launchChromium();
  agent.current = await agent.restart();
  // A short rpcd exec timeout, as `rpcd -t`, so that the hanging plugin is cut off quickly.
  preview = await startLuciPreview({ socketPath: agent.current.socket, execTimeoutMs: EXEC_TIMEOUT_MS, viewFile: process.env.X0_LUCI_VIEW || undefined });
});

for (const [name, check] of Object.entries(ERROR_CASES)) {
  test(`error case: ${name}: error box with the reason, then recovery`, async () => {
    const page = await browser.context.newPage();
    try {
      await check(page, previewControl(preview, agent, { pollSeconds: 1, execTimeoutMs: EXEC_TIMEOUT_MS }));
    } finally {
      await page.close();
    }
  });
}

test.after(async () => {
  await preview?.close();
  await agent.current?.stop();
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});
test.run();
