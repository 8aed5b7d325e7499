// The router VM: Debian's kernel (batman-adv 2022.3) under QEMU boots the test router's root
// (OpenWrt's procd, ubus, ujail... built from source by test/router) with procd as PID 1 and
// the two ipks installed by real opkg. procd starts the agent at boot through /etc/rc.d/S95x0tta6bl4,
// under ujail as user x0tta6bl4 with only CAP_NET_ADMIN; the agent reads the real batman-adv over
// its netlink bridge; a dead link on its node is healed (interface restart with ip) by the jailed
// agent. The guest gathers the facts (guest-check.ts), this file judges them.
import { existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleEntries } from '../../scripts/vm/bundle.ts';
import { findVmHost, VmUnavailableError, type VmHost } from '../../scripts/vm/kernel.ts';
import { buildIpks } from '../packaging/build-ipks.ts';
import { routerUnavailable } from '../router/router.ts';
import { bootRouterVm, type RouterBoot } from './vm-boot.ts';
import { MESH } from './vm-files.ts';
import { missingHostTools, prepareVmRoot, type VmRoot } from './vm-root.ts';

const CAP_NET_ADMIN = (1n << 12n).toString(16).padStart(16, '0');
const REPO = new URL('../..', import.meta.url).pathname;

function unavailable(): string | undefined {
  const r = routerUnavailable();
  if (r) return r;
  const tools = missingHostTools();
  if (tools.length) return `missing ${tools.join(', ')} (apt-get install iproute2 nftables batctl)`;
  try {
    findVmHost();
  } catch (e) {
    if (e instanceof VmUnavailableError) return e.message;
    throw e;
  }
  return undefined;
}

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`test:router-vm needs ${why} in CI`);

// The guest's JSON (any: it is checked field by field below).
type Report = Record<string, any>;
let report: Report = {};
let boot: RouterBoot | undefined;
let failure: string | undefined;
let vmRoot: VmRoot | undefined;

const have = (): boolean => {
  if (failure) assert.unreachable(failure);
  return true;
};

if (why) {
  test(`router VM (skipped outside CI: ${why})`, () => {});
} else {
  test.before(async () => {
    const host: VmHost = findVmHost();
    const ipks = buildIpks();
    vmRoot = await prepareVmRoot([ipks.packages[0]!.path, ipks.packages[1]!.path]);
    const results = mkdtempSync(join(tmpdir(), 'x0-rvm-'));
    const bundles = await bundleEntries(REPO, ['test/router-vm/guest-check.ts'], join(results, 'bundle'));
    renameSync(bundles.get('test/router-vm/guest-check.ts')!, join(results, 'check.mjs'));
    const show = process.env.X0VM_VERBOSE === '1';
    boot = await bootRouterVm({ host, root: vmRoot.root, resultsDir: results, timeoutMs: 6 * 60_000, onConsole: (l) => (show || l.startsWith('x0rvm')) && console.error(l) });
    const file = join(results, 'report.json');
    const read = (f: string) => (existsSync(join(results, f)) ? readFileSync(join(results, f), 'utf8') : `(no ${f})`);
    const diag = `\n--- boot.log\n${read('boot.log')}\n--- check.log\n${read('check.log').slice(-3000)}\n--- messages (syslog: procd, the agent)\n${read('messages').slice(-3000)}\n--- console tail\n${boot.console.slice(-3000)}`;
    if (!existsSync(file)) failure = `the guest wrote no report${boot.timedOut ? ' (VM killed at the deadline)' : ''}${diag}`;
    else report = JSON.parse(readFileSync(file, 'utf8')) as Report;
    console.error(`router VM: ${read('boot.log').split('\n')[0]}; whole run ${(boot.elapsedMs / 1000).toFixed(1)} s; guest phases (uptime s): ${(report.phases ?? []).join(', ')}; results in ${results}`);
    if (report.error) console.error(`guest error: ${report.error}${diag}`);
  });
  test.after(() => vmRoot?.remove());

  test('the VM booted through procd: PID 1 is /sbin/procd, batman-adv loaded, the boot scripts ran', () => {
    if (!have()) return;
    assert.not.ok(boot!.timedOut, 'VM killed at its deadline');
    assert.is(report.pid1.cmdline[0], '/sbin/procd');
    assert.is(report.pid1.comm, 'procd');
    assert.equal(report.modules, ['batman_adv', 'veth', 'nf_tables']);
    assert.match(report.batmanVersion, /^20\d\d\.\d+/);
    assert.ok(report.rcd.includes('S95x0tta6bl4'), `rc.d: ${report.rcd.join(' ')}`);
  });

  test('procd started the agent at boot through ujail; ubus service list shows the instance', () => {
    if (!have()) return;
    assert.ok(report.agent, `no agent process; ${JSON.stringify(report.timeouts)}`);
    const inst = report.serviceList?.x0tta6bl4?.instances?.agent;
    assert.ok(inst?.running, JSON.stringify(report.serviceList));
    assert.is(inst.user, 'x0tta6bl4');
    assert.match(report.agent.parentCmdline, /^\/sbin\/ujail .* -- \/usr\/bin\/node /);
  });

  test('the agent runs as user x0tta6bl4 with only CAP_NET_ADMIN and NoNewPrivs (from /proc)', () => {
    if (!have()) return;
    const m = /^x0tta6bl4:x:(\d+):(\d+):/.exec(report.passwd);
    assert.ok(m, report.passwd);
    assert.equal(report.agent.Uid.split(/\s+/), [m![1], m![1], m![1], m![1]]);
    assert.ok(Number(m![1]) > 0);
    for (const set of ['CapEff', 'CapPrm', 'CapBnd', 'CapAmb']) assert.is(report.agent[set], CAP_NET_ADMIN, set);
    assert.is(report.agent.NoNewPrivs, '1');
  });

  test('the jailed agent reads the real batman-adv over its netlink bridge: n2 in its /status', () => {
    if (!have()) return;
    assert.ok(report.statusSeesPeer, `n2 (${MESH.peerMac}) never showed in the agent's /status: ${JSON.stringify(report.status)}`);
    assert.is(report.status.node.driver, 'batman-adv');
    assert.is(report.status.node.meshIf, 'bat0');
    assert.is(report.status.node.algo, 'BATMAN_IV');
    const privileges = report.status.health.components.find((c: { name: string }) => c.name === 'privileges');
    assert.is(privileges.state, 'ok', privileges.reason);
    // The bridge is the agent's child, as the same user, with CAP_NET_ADMIN (ambient, inherited).
    const bridge = (report.bridges as { ppid: number; Uid?: string; CapEff?: string }[]).find((b) => b.ppid === report.agent.pid);
    assert.ok(bridge, `no netlink bridge under the agent: ${JSON.stringify(report.bridges)}`);
    assert.is(bridge!.Uid, report.agent.Uid);
    assert.is(bridge!.CapEff, CAP_NET_ADMIN);
  });

  test('x0tta6bl4 mesh originators in the guest shows n2 as batctl does', () => {
    if (!have()) return;
    assert.match(report.batctlOriginators, MESH.peerMac);
    assert.match(report.meshOriginators, MESH.peerMac);
    assert.match(report.meshNeighbours, MESH.peerMac);
  });

  test('a dead link on the agent\'s node (nft drops its OGMs): the jailed agent restarts the interface (ip, under CAP_NET_ADMIN)', () => {
    if (!have()) return;
    const r = report.restart;
    assert.ok(r, `no restart-interface in the journal: ${JSON.stringify(report.journalAfter)}; findings ${JSON.stringify(report.findingsAfter)}`);
    assert.match(report.cutRules, /counter packets [1-9]/, 'the nft cut dropped batman-adv frames');
    // Frames still arrive (the counters move): a dead link, not a stuck interface.
    assert.is(r.finding, 'link-dead', `${r.finding}: ${r.reason}`);
    assert.not.match(String(r.state), /failed|interrupted/, `${r.state}: ${r.outcome}`);
    // The kernel saw the interface go down (no UP flag) and come back: the agent's ip, as uid x0tta6bl4, worked.
    const events = report.linkEvents as string[];
    assert.ok(events.some((l) => !/<[^>]*\bUP\b[^>]*>/.test(l)), `ip monitor saw no down of ${MESH.link}: ${events.join('\n')}`);
    assert.ok(events.some((l) => /<[^>]*\bUP\b[^>]*>/.test(l)), `ip monitor saw ${MESH.link} not come up: ${events.join('\n')}`);
    assert.ok(report.peerBack, 'n2 heard again after the link came back');
    const final = report.restartFinal;
    console.error(`heal: link cut at ${report.cutAtUptime} s uptime, restart #${r.id} (${r.finding}: ${r.reason}) seen at ${report.healedAtUptime} s; judged ${final?.state}: ${final?.outcome}`);
    assert.not.match(String(final?.state), /failed|interrupted/);
  });

  test('the instability answer: the jailed agent lowered orig_interval over netlink, batctl reads it', () => {
    if (!have()) return;
    const e = report.origIntervalEntry;
    assert.ok(e, `no orig-interval entry: ${JSON.stringify(report.journalAfter)}`);
    assert.ok(['verifying', 'holding'].includes(e.state), `${e.state}: ${e.outcome}`);
    assert.is(report.origIntervalDuring, String(e.revert.set));
  });
}

test.run();
