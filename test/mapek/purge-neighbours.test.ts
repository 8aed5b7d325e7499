// A dead link alone on its interface (src/mapek/policies.ts, actions/purge-neighbours.ts): where
// the interface can be taken out of bat0 and put back (real kernel, not the primary one), the plan
// purges its neighbours that way and never takes it down; elsewhere it restarts the interface as
// before. The driver and the command runner are stand-ins recording what would run (the real
// commands run in the VM: test/guest/heal-purge.guest.ts). And what follows a purge on a link
// dead one way: its TQ sinks with no route on it, which asks for no steering.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { purgeNeighbours } from '../../src/mapek/actions/purge-neighbours.ts';
import { ActionError } from '../../src/mapek/actions/action.ts';
import { standInContext } from './action-stand-in.ts';
import type { Finding } from '../../src/mapek/findings.ts';
import { ladderFor } from '../../src/mapek/policies.ts';

const dead = (liveOnInterface: number): Finding => ({
  kind: 'link-dead', key: 'link-dead:eth1', subject: { ifname: 'eth1', neighbour: '02:00:00:00:02:01' }, sinceMs: 0,
  message: 'dead', evidence: { liveOnInterface },
});

test('a dead link alone on an interface other than the primary: purge-neighbours; in the simulator restart-interface; with others live: nothing', () => {
  assert.equal(ladderFor(dead(0), new Set(['eth0']), 'eth0').map((s) => [s.action, s.target.ifname, s.disruptive]), [['purge-neighbours', 'eth1', false]]);
  assert.equal(ladderFor(dead(0), new Set(['eth0']), null).map((s) => [s.action, s.target.ifname, s.disruptive]), [['restart-interface', 'eth1', false]]);
  assert.equal(ladderFor(dead(1), new Set(['eth1']), 'eth0'), []);
});

// The primary's down silences the whole node (batman-adv sends no OGM of its own while it is down):
// seen on the kernel's equal diamond, where every route towards a node restarting its primary
// waited 2–3 s for its next OGM (bench:heal, kernel_purge_oneway_equal_2x).
test('a dead link on the primary interface with another live: no restart; dead one way: quarantine of that neighbour', () => {
  const oneWay: Finding = { ...dead(0), evidence: { liveOnInterface: 0, oneWayMsAgo: 200 } };
  const steps = (f: Finding, live: string[]) => ladderFor(f, new Set(live), 'eth1').map((s) => [s.action, s.target.ifname, s.target.neighbour]);
  assert.equal(steps(dead(0), ['eth0']), []);
  assert.equal(steps(dead(0), ['eth0', 'eth1']), []);
  assert.equal(steps(oneWay, ['eth0', 'eth1']), [['quarantine', 'eth1', '02:00:00:00:02:01']]);
  // The primary alone: nobody else hears this node's OGMs anyway, and the down/up purges.
  assert.equal(steps(dead(0), []), [['restart-interface', 'eth1', undefined]]);
  assert.equal(steps(oneWay, ['eth1']), [['restart-interface', 'eth1', undefined]]);
  // Another interface than the primary: purged as before.
  assert.equal(ladderFor(oneWay, new Set(['eth0', 'eth1']), 'eth0').map((s) => s.action), ['purge-neighbours']);
});

// The echo of a purge on a link dead one way: the neighbour is heard again, its TQ sinks (our OGMs
// do not reach it), and no route uses the link any more (seen on the kernel, bench:heal near/out).
test('a degrading link that carries no route: no steer-interface; one that carries routes: steered', () => {
  const degrading = (routesVia: number): Finding => ({ kind: 'link-degrading', key: 'link-degrading:eth1', subject: { ifname: 'eth1', neighbour: '02:00:00:00:02:01' }, sinceMs: 0,
    message: 'degrading', evidence: { tqNow: 0, tqMax: 255, routesVia } });
  assert.equal(ladderFor(degrading(0), new Set(['eth0', 'eth1']), 'eth0'), []);
  assert.equal(ladderFor(degrading(2), new Set(['eth0', 'eth1']), 'eth0').map((s) => s.action), ['steer-interface']);
});

const context = (kind: 'batman-adv' | 'simulator', fail = '') => standInContext({
  kind, fail,
  hardifs: [{ ifname: 'eth0', active: true, hopPenalty: 0 }, { ifname: 'eth1', active: true, hopPenalty: 30 }, { ifname: 'eth2', active: false, hopPenalty: 0 }],
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, ActionError);
    return (e as Error).message;
  }
  return assert.unreachable('should refuse') as never;
}

test('purge: out of bat0 and back in, never down; the settings kept; revert puts it back into bat0', async () => {
  const { ctx, ran } = context('batman-adv');
  const state = await purgeNeighbours.prepare(ctx, { ifname: 'eth1' });
  assert.equal(state, { master: 'bat0', hopPenalty: 30 });
  await purgeNeighbours.apply(ctx, { ifname: 'eth1' });
  assert.equal(ran, ['ip link set dev eth1 nomaster', 'ip link set dev eth1 master bat0']);
  assert.is(await purgeNeighbours.check(ctx, { ifname: 'eth1' }, state), null);
  ran.length = 0;
  await purgeNeighbours.revert!(ctx, { ifname: 'eth1' }, state!);
  assert.equal(ran, ['ip link set dev eth1 master bat0']);
});

test('purge refused, nothing run: the primary interface, an inactive or unknown one, a bad name, the simulator', async () => {
  const { ctx, ran } = context('batman-adv');
  assert.match(await refusal(purgeNeighbours.prepare(ctx, { ifname: 'eth0' })), /cannot be taken out of the mesh/);
  assert.match(await refusal(purgeNeighbours.prepare(ctx, { ifname: 'eth2' })), /eth2 is down/);
  assert.match(await refusal(purgeNeighbours.prepare(ctx, { ifname: 'eth9' })), /no hard interface eth9/);
  assert.match(await refusal(purgeNeighbours.prepare(ctx, { ifname: 'eth1;reboot' })), /not an interface name/);
  const sim = context('simulator');
  assert.match(await refusal(purgeNeighbours.prepare(sim.ctx, { ifname: 'eth1' })), /cannot be taken out of the mesh/);
  assert.equal([...ran, ...sim.ran], []);
});

test('a failing ip command is an ActionError with what it said', async () => {
  const { ctx } = context('batman-adv', 'ip link set dev eth1 master bat0');
  assert.match(await refusal(purgeNeighbours.apply(ctx, { ifname: 'eth1' })), /Operation not permitted/);
});

test.run();
