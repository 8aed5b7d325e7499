// The LuCI page's error cases (test/luci/error-cases.ts) in the REAL LuCI runtime: OpenWrt's
// uhttpd, rpcd and luci-base in the router namespace (router.ts), the installed ipks, the agent
// under procd. Each check logs-in state is shared (one browser context), opens the app page,
// breaks one thing the way it breaks on a router (router-control.ts: the init script, the
// rpcd exec plugin replaced, the plugin removed and rpcd reloaded), expects the error box with
// the reason, repairs it and expects fresh data. X0_LUCI_VIEW=<file> installs another
// status.js (e.g. the view before the error handling) to see which checks fail with it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { launchChromium } from '../luci/browser.ts';
import { ERROR_CASES } from '../luci/error-cases.ts';
import { routerControl } from '../luci/router-control.ts';
import { buildIpks } from '../packaging/build-ipks.ts';
import { routerLogs, runningAgent } from './agent-probe.ts';
import { ROUTER_PASSWORD, routerUnavailable, startRouter, type Router } from './router.ts';

const VIEW = '/www/luci-static/resources/view/x0tta6bl4/status.js';
/** rpcd's exec timeout (`rpcd -t`, seconds): the hanging plugin is killed after it. */
const RPCD_TIMEOUT_S = 8;
const POLL_SECONDS = 5; // status.js's POLL_SECONDS
const unavailable = routerUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`test:router needs ${unavailable} in CI`);

let r: Router;
let browser: Awaited<ReturnType<typeof launchChromium>>;

/** rpcd with a short exec timeout, as an operator sets it: /etc/config/rpcd's timeout, then a restart. */
function shortRpcdTimeout(): void {
  // OpenWrt's rpcd.init reads `uci get rpcd.@rpcd[0].timeout`; the test root's copy reads
  // `config_get timeout rpcd timeout`, which finds only a section named rpcd: naming the
  // section serves both. rpcd here does not exit on procd's SIGTERM (it stays in epoll_wait),
  // so the restart completes after procd's term_timeout (5 s) and SIGKILL: wait for it.
  r.run(`uci rename rpcd.@rpcd[0]=rpcd && uci set rpcd.rpcd.timeout=${RPCD_TIMEOUT_S} && uci commit rpcd && /etc/init.d/rpcd restart`);
  r.run(`i=0; until grep -q -- '-t.${RPCD_TIMEOUT_S}.$' /proc/$(pidof rpcd)/cmdline 2>/dev/null && ubus -t 1 list session >/dev/null 2>&1 && ubus -t 1 list luci.x0tta6bl4 >/dev/null 2>&1; do
	i=$((i+1)); [ $i -lt 150 ] || { ps w; exit 1; }; sleep 0.2
done`, { timeoutMs: 60_000 });
}

async function login(): Promise<void> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(120_000);
  page.setDefaultNavigationTimeout(120_000);
  await page.goto(`${r.url}/cgi-bin/luci/`, { waitUntil: 'domcontentloaded' });
  await page.fill('input[name="luci_username"]', 'root');
  await page.fill('input[name="luci_password"]', ROUTER_PASSWORD);
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button.cbi-button-positive')]);
  // Wait for the landing page's menu before leaving it: overlapping dispatcher requests were
  // seen to hang uhttpd's ucode handler (luci-real.test.ts).
  await page.waitForSelector('a[href$="/admin/status/x0tta6bl4"]', { state: 'attached' });
  await page.close();
}

if (unavailable) {
  test(`LuCI error cases on OpenWrt's real userspace (skipped outside CI: ${unavailable})`, () => {});
} else {
  test.before(async () => {
    try {
      await setUp();
    } catch (e) {
      // uvu reports a failed hook with no message: print it.
      console.error(e);
      throw e;
    }
  });
  const setUp = async () => {
    const b = buildIpks();
    r = await startRouter({ ipks: b.packages.map((p) => p.path) });
    if (process.env.X0_LUCI_VIEW) writeFileSync(r.path(VIEW), readFileSync(process.env.X0_LUCI_VIEW));
    // No batman-adv kernel module in a namespace: the simulated mesh.
    r.run('uci set x0tta6bl4.agent.mesh_driver=simulator && uci commit x0tta6bl4 && /etc/init.d/x0tta6bl4 restart');
    shortRpcdTimeout();
    await runningAgent(r, 'the agent').catch((e) => assert.unreachable(`${e}\n${routerLogs(r)}`));
    browser = await launchChromium();
    await login();
  };
  test.after(async () => {
    await browser?.close();
    await r?.stop();
  });

  for (const [name, check] of Object.entries(ERROR_CASES)) {
    test(`real LuCI error case: ${name}: error box with the reason, then recovery`, async () => {
      const control = routerControl({
        viewUrl: `${r.url}/cgi-bin/luci/admin/status/x0tta6bl4`,
        // Two polls, rpcd's exec timeout, and room for rpcd forking node per call on 2 shared cores.
        settleMs: (2 * POLL_SECONDS + RPCD_TIMEOUT_S) * 1000 + 30_000,
        sh: async (cmd) => void r.run(cmd),
        agentReady: async () => void (await runningAgent(r, 'the restarted agent')),
      });
      const page = await browser.context.newPage();
      page.setDefaultNavigationTimeout(120_000);
      try {
        await check(page, control);
      } catch (e) {
        assert.unreachable(`${e}\n${routerLogs(r)}`);
      } finally {
        await page.close();
      }
    });
  }
}

test.run();
