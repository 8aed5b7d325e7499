// The agent's package on OpenWrt's real userspace (see router.ts): real opkg installs it and
// runs its postinst, real procd starts it through the package's init script and ujail, real
// procd respawns it, reloads it on a config change, and opkg upgrades and removes it.
// Only kmod-batman-adv is a stub (an opkg status entry): a namespace has no kernel module of its
// own, so the agent runs on its simulated mesh driver here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPackages } from '../../scripts/package.mjs';
import { buildIpks, DIST } from '../packaging/build-ipks.ts';
import { agentPids, agentStatus, asAgentUser, procStatus, routerLogs, runningAgent, serviceInstance, startNetifdStandIn, waitFor } from './agent-probe.ts';
import { routerUnavailable, startRouter, type Router } from './router.ts';

/** The operator's change the upgrade must keep. */
const NAME = 'set-through-rpcd';
const CAP_NET_ADMIN = (1n << 12n).toString(16).padStart(16, '0');
const unavailable = routerUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`test:router needs ${unavailable} in CI`);

let r: Router;
let ipks: { agent: string; luci: string; version: string; dir: string };

if (unavailable) {
  test(`OpenWrt userspace lifecycle (skipped outside CI: ${unavailable})`, () => {});
} else {
  test.before(async () => {
    const b = buildIpks();
    ipks = { agent: b.packages[0]!.path, luci: b.packages[1]!.path, version: b.version, dir: b.dir };
    r = await startRouter();
  });
  test.after(async () => {
    await r?.stop();
  });

  test('opkg install from the feed runs the real postinst: user and group created, service enabled', () => {
    r.publish([ipks.agent, ipks.luci]);
    const res = r.exec('opkg update && opkg install x0tta6bl4 luci-app-x0tta6bl4', { timeoutMs: 180_000 });
    const out = res.stdout + res.stderr;
    assert.is(res.status, 0, out);
    assert.not.match(out, /Collected errors|not found/, out);
    assert.match(r.run('opkg list-installed'), new RegExp(`^x0tta6bl4 - ${ipks.version.replace(/\./g, '\\.')}$`, 'm'));
    const user = /^x0tta6bl4:x:(\d+):(\d+):/m.exec(r.run('cat /etc/passwd'));
    assert.ok(user, 'postinst created user x0tta6bl4');
    assert.match(r.run('cat /etc/group'), new RegExp(`^x0tta6bl4:x:${user![2]}:`, 'm'));
    assert.is(r.run('readlink /etc/rc.d/S95x0tta6bl4').trim(), '../init.d/x0tta6bl4');
  });

  test('procd starts the agent through its init script; ubus service list shows it', async () => {
    // No batman-adv kernel module in a namespace: the simulated mesh.
    r.run('uci set x0tta6bl4.agent.mesh_driver=simulator && uci commit x0tta6bl4');
    r.run('/etc/init.d/x0tta6bl4 stop; /etc/init.d/x0tta6bl4 start');
    await runningAgent(r, 'the agent to answer on its status socket').catch((e) => assert.unreachable(`${e}\n${routerLogs(r)}`));
    const inst = serviceInstance(r);
    assert.ok(inst?.running, 'procd reports the instance running');
    assert.is(inst!.user, 'x0tta6bl4');
    assert.is(inst!.capabilities, '/etc/capabilities/x0tta6bl4.json');
    assert.is(agentStatus(r)!.node.driver, 'simulator');
    // procd runs ujail (its instance pid), and ujail runs node.
    assert.match(r.run(`tr '\\0' ' ' < /proc/${inst!.pid}/cmdline`), /^\/sbin\/ujail .* -- \/usr\/bin\/node /);
  });

  test('under ujail: user x0tta6bl4, only CAP_NET_ADMIN, NoNewPrivs', () => {
    const [pid] = agentPids(r);
    const s = procStatus(r, pid!);
    const uid = /^x0tta6bl4:x:(\d+):(\d+):/m.exec(r.run('cat /etc/passwd'))!;
    assert.equal(s.Uid!.split(/\s+/), [uid[1], uid[1], uid[1], uid[1]]);
    assert.equal(s.Gid!.split(/\s+/), [uid[2], uid[2], uid[2], uid[2]]);
    for (const set of ['CapEff', 'CapPrm', 'CapAmb', 'CapBnd']) assert.is(s[set], CAP_NET_ADMIN, set);
    assert.is(s.NoNewPrivs, '1');
  });

  // The agent's repairs that need root go through ubus: its ACL (/usr/share/acl.d/x0tta6bl4.json)
  // lets its user call network reload and system reboot, nothing else. ubusd reads acl.d only
  // when it starts and on SIGHUP, so right after opkg install the ACL must already be loaded.
  test('after install, the agent\'s user may call network reload over ubus (the package ACL), and nothing else', async () => {
    await startNetifdStandIn(r);
    const board = asAgentUser(r, 'ubus call system board');
    assert.is.not(board.status, 0, 'system board is not in the ACL');
    assert.match(board.out, /Permission denied|Not found/);
    const reload = asAgentUser(r, 'ubus call network reload');
    assert.is(reload.status, 0, `network reload refused (ubusd has not loaded /usr/share/acl.d/x0tta6bl4.json): ${reload.out}`);
    assert.is(r.exec('cat /tmp/network-reloaded').stdout, 'yes');
  });

  test('procd respawns the agent after kill -9', async () => {
    const [old] = agentPids(r);
    r.run(`kill -9 ${old}`);
    const pid = await runningAgent(r, 'a respawned agent').catch((e): number => assert.unreachable(`${e}\n${routerLogs(r)}`) as never);
    assert.is.not(pid, old);
    assert.is(procStatus(r, pid).CapEff, CAP_NET_ADMIN);
  });

  test('uci commit + reload_config reloads the agent through procd\'s config trigger', async () => {
    r.run('reload_config'); // records the current configs, as the boot does
    const before = agentPids(r)[0];
    r.run('uci set x0tta6bl4.agent.node_name=reloaded-by-procd && uci commit x0tta6bl4 && reload_config');
    await waitFor('the new node name in /status', () => agentStatus(r)?.node.name === 'reloaded-by-procd', 90).catch((e) =>
      assert.unreachable(`${e}\n${routerLogs(r)}`),
    );
    assert.is.not(agentPids(r)[0], before, 'procd restarted the instance');
  });

  // What LuCI's apply does: rpcd's uci object commits and raises the config.change event itself.
  test('ubus uci set + commit (rpcd, as LuCI applies) reloads the agent', async () => {
    const before = agentPids(r)[0];
    r.run(`ubus call uci set '{"config":"x0tta6bl4","section":"agent","values":{"node_name":"${NAME}"}}' && ubus call uci commit '{"config":"x0tta6bl4"}'`);
    await waitFor('the node name set through rpcd in /status', () => agentStatus(r)?.node.name === NAME, 90).catch((e) => assert.unreachable(`${e}\n${routerLogs(r)}`));
    assert.is.not(agentPids(r)[0], before, 'procd restarted the instance');
  });

  test('opkg upgrade keeps the modified config (new default as -opkg); the agent runs again', async () => {
    const newer = buildPackages({ distDir: DIST, outDir: `${ipks.dir}/newer`, workDir: `${ipks.dir}/newer-work`, epoch: 1_700_000_100, version: '99.0.0-r1' });
    r.publish([newer.packages[0]!.path]);
    const res = r.exec('opkg update && opkg upgrade x0tta6bl4', { timeoutMs: 180_000 });
    assert.is(res.status, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /Upgrading x0tta6bl4 on root from .* to 99\.0\.0-r1/);
    assert.match(r.run('opkg list-installed'), /^x0tta6bl4 - 99\.0\.0-r1$/m);
    assert.is(r.run('uci get x0tta6bl4.agent.node_name').trim(), NAME);
    assert.match(r.run("grep -c \"node_name ''\" /etc/config/x0tta6bl4-opkg"), /^1$/m, 'the new default config landed beside it');
    await runningAgent(r, 'the agent after the upgrade').catch((e) => assert.unreachable(`${e}\n${routerLogs(r)}`));
    assert.is(agentStatus(r)!.node.name, NAME);
  });

  test('opkg remove stops the service and leaves no agent process', async () => {
    const res = r.exec('opkg remove luci-app-x0tta6bl4 x0tta6bl4', { timeoutMs: 120_000 });
    assert.is(res.status, 0, res.stdout + res.stderr);
    await waitFor('no agent process', () => agentPids(r).length === 0, 60).catch((e) => assert.unreachable(`${e}\n${routerLogs(r)}`));
    assert.is(serviceInstance(r), undefined);
    assert.is(r.exec('test -e /etc/rc.d/S95x0tta6bl4').status, 1);
    assert.is(r.exec('test -e /usr/lib/x0tta6bl4/x0tta6bl4.mjs').status, 1);
  });

  // opkg's file lists name no directories, so opkg remove leaves the package's own directories
  // behind unless the package's postrm removes them (issue 16 item 3).
  test('opkg remove leaves none of the packages\' own directories', () => {
    const left = ['/usr/lib/x0tta6bl4', '/usr/share/x0tta6bl4', '/www/luci-static/resources/view/x0tta6bl4'].filter((d) => r.exec(`test -e ${d}`).status === 0);
    assert.equal(left, [], `left behind: ${left.join(', ')}`);
  });
}

test.run();
