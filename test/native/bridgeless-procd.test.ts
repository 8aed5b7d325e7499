// The installed package under OpenWrt's real procd (test/router's test bed: real opkg, procd,
// ujail, ubus) on a router whose package has no netlink bridge for its CPU: the bridge files
// are deleted after `opkg install`, as on a big-endian MIPS router. The agent, started by the
// init script, prints its one line and stays up serving its status socket with the mesh down
// and the reason; procd keeps the same instance (no respawn, nothing for its crash-loop limit
// to stop), and `x0tta6bl4 mesh` says the same in one line with exit 1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildIpks } from '../packaging/build-ipks.ts';
import { agentPids, routerLogs, runningAgent, serviceInstance } from '../router/agent-probe.ts';
import { routerUnavailable, startRouter, type Router } from '../router/router.ts';

const unavailable = routerUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`this test needs the router test bed (${unavailable}) in CI`);

let r: Router;
const PREFIX = "x0tta6bl4: mesh_driver 'batman-adv' cannot start, the agent cannot watch the mesh: ";

interface Health {
  overall: string;
  components: { name: string; state: string; reason: string }[];
}

function health(): Health {
  const res = r.exec('x0tta6bl4 status --json', { timeoutMs: 30_000 });
  return JSON.parse(res.stdout).health;
}

if (unavailable) {
  test(`bridgeless agent under procd (skipped outside CI: ${unavailable})`, () => {});
} else {
  test.before(async () => {
    const b = buildIpks();
    r = await startRouter();
    r.publish([b.packages[0]!.path]);
    const res = r.exec('opkg update && opkg install x0tta6bl4', { timeoutMs: 180_000 });
    assert.is(res.status, 0, res.stdout + res.stderr);
  });
  test.after(async () => {
    await r?.stop();
  });

  test('procd starts the agent without a bridge: one line in syslog, /health says the mesh is down and why', async () => {
    r.run('/etc/init.d/x0tta6bl4 stop; rm -f /usr/lib/x0tta6bl4/native/x0tta6bl4-nlbridge-* /usr/lib/x0tta6bl4/x0tta6bl4-nlbridge*');
    assert.is(r.run('uci get x0tta6bl4.agent.mesh_driver').trim(), 'batman-adv');
    r.run('/etc/init.d/x0tta6bl4 start');
    await runningAgent(r, 'the agent to answer on its status socket').catch((e) => assert.unreachable(`${e}\n${routerLogs(r)}`));
    const h = health();
    const mesh = h.components.find((c) => c.name === 'mesh');
    assert.is(mesh?.state, 'down', JSON.stringify(h));
    assert.ok(mesh!.reason.startsWith(`no netlink bridge for ${process.arch}; looked in: /usr/lib/x0tta6bl4/native/x0tta6bl4-nlbridge-${process.arch}`), mesh!.reason);
    assert.is(h.overall, 'down');
    assert.is(h.components.find((c) => c.name === 'loop')?.state, 'down');
    const log = r.exec('cat /tmp/log/messages').stdout;
    assert.is(log.split('\n').filter((l) => l.includes(PREFIX)).length, 1, log);
    assert.not.match(log, /internal error|\n\S*\s+at /);
  });

  test('procd keeps that one instance: no exit, no respawn, no crash loop', async () => {
    const before = serviceInstance(r);
    assert.ok(before?.running, routerLogs(r));
    const [pid] = agentPids(r);
    // Longer than procd's respawn delay (10 s): an agent that exited would be back with a new pid.
    await new Promise((res) => setTimeout(res, 15_000));
    const after = serviceInstance(r);
    assert.ok(after?.running, routerLogs(r));
    assert.is(after!.pid, before!.pid);
    assert.equal(agentPids(r), [pid!]);
    assert.not.match(r.exec('cat /tmp/log/messages /tmp/log/procd.log').stdout, /crash loop/);
  });

  test('`x0tta6bl4 mesh originators` on that router: the same reason in one line, exit 1', () => {
    const res = r.exec('x0tta6bl4 mesh originators');
    assert.is(res.status, 1, res.stdout + res.stderr);
    const lines = res.stderr.trim().split('\n');
    assert.is(lines.length, 1, res.stderr);
    assert.ok(lines[0]!.startsWith(`x0tta6bl4: no netlink bridge for ${process.arch}; looked in: `), lines[0]);
  });
}

test.run();
