// The LuCI app on OpenWrt's real web stack (see router.ts): uhttpd serves luci-base's ucode
// dispatcher, rpcd checks the login against the router's /etc/shadow (a decoy root password set
// by the test root), and the app page in headless Chromium shows live data from the agent,
// fetched through ubus -> rpcd -> the package's exec plugin -> the agent's status socket.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launchChromium } from '../luci/browser.ts';
import { buildIpks } from '../packaging/build-ipks.ts';
import { agentStatus, routerLogs, runningAgent } from './agent-probe.ts';
import { processesIn } from './router-ns.ts';
import { ROUTER_PASSWORD, routerUnavailable, startRouter, type Router } from './router.ts';

declare const document: { querySelector(s: string): { textContent: string | null } | null };

const NODE = 'luci-live-node';
const unavailable = routerUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`test:router needs ${unavailable} in CI`);

let r: Router;
let browser: Awaited<ReturnType<typeof launchChromium>>;

function login(password: string): Promise<Response> {
  return fetch(`${r.url}/cgi-bin/luci/`, { method: 'POST', body: new URLSearchParams({ luci_username: 'root', luci_password: password }), redirect: 'manual' });
}

if (unavailable) {
  test(`LuCI on OpenWrt's real userspace (skipped outside CI: ${unavailable})`, () => {});
} else {
  test.before(async () => {
    const b = buildIpks();
    r = await startRouter({ ipks: b.packages.map((p) => p.path) });
    // No batman-adv kernel module in a namespace: the simulated mesh.
    r.run(`uci set x0tta6bl4.agent.mesh_driver=simulator && uci set x0tta6bl4.agent.node_name=${NODE} && uci commit x0tta6bl4 && /etc/init.d/x0tta6bl4 restart`);
    await runningAgent(r, 'the agent').catch((e) => assert.unreachable(`${e}\n${routerLogs(r)}`));
    browser = await launchChromium();
  });
  test.after(async () => {
    await browser?.close();
    await r?.stop();
  });

  test('rpcd logs root in against the router\'s /etc/shadow, and refuses a wrong password', async () => {
    const bad = await login('not-the-password');
    assert.is(bad.status, 403);
    assert.not.ok(bad.headers.get('set-cookie'));
    const good = await login(ROUTER_PASSWORD);
    assert.is(good.status, 302);
    assert.match(good.headers.get('set-cookie') ?? '', /^sysauth_http=[0-9a-f]{32};/);
  });

  test('the rpcd exec plugin answers ubus calls with the live agent status', () => {
    const st = JSON.parse(r.run('ubus call luci.x0tta6bl4 status'));
    assert.is(st.node.name, NODE);
    assert.is(st.node.driver, 'simulator');
  });

  test('LuCI login form, then the app page filled from the live agent', async () => {
    const page = await browser.context.newPage();
    // Waits are generous: the machine's 2 cores are shared, and rpcd forks node for each call.
    page.setDefaultTimeout(120_000);
    page.setDefaultNavigationTimeout(120_000);
    await page.goto(`${r.url}/cgi-bin/luci/`, { waitUntil: 'domcontentloaded' });
    await page.fill('input[name="luci_username"]', 'root');
    await page.fill('input[name="luci_password"]', ROUTER_PASSWORD);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button.cbi-button-positive')]);
    // The landing page's menu (fetched from the dispatcher after the page) names the app, from
    // its menu.d json. Wait for it before the next page: two dispatcher requests at once were
    // seen to hang uhttpd's ucode handler here until its 60 s script timeout ("Bad Gateway").
    const link = await page.waitForSelector('a[href$="/admin/status/x0tta6bl4"]', { state: 'attached' });
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), link.evaluate((a) => (a as unknown as { click(): void }).click())]);
    assert.match(page.url(), /\/cgi-bin\/luci\/admin\/status\/x0tta6bl4$/);
    await page.waitForSelector('#x0-node td[data-field="Node"]', { timeout: 120_000 }).catch(async (e) =>
      assert.unreachable(`${e}\n${(await page.content()).slice(0, 3000)}\n${routerLogs(r)}`),
    );
    assert.is(await page.textContent('#x0-node td[data-field="Node"]'), NODE);
    assert.is(await page.textContent('#x0-node td[data-field="Driver"]'), 'simulator');
    // Live: the page polls, and the agent's uptime moves on the page.
    const uptime = await page.textContent('#x0-node td[data-field="Uptime"]');
    await page.waitForFunction((u) => document.querySelector('#x0-node td[data-field="Uptime"]')!.textContent !== u, uptime, { timeout: 120_000 });
    assert.ok(agentStatus(r), 'the agent still answers');
    await page.close();
  });

  test('stopping the router leaves none of its processes (agent, procd, rpcd, uhttpd ...)', async () => {
    assert.ok(processesIn(r.pidNs).length >= 5, 'the router runs its daemons and the agent');
    await r.stop();
    assert.equal(processesIn(r.pidNs), []);
  });
}

test.run();
