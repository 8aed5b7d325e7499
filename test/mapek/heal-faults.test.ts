// The healing loop against the simulator, one fault kind per test: the agent detects it (with
// evidence), acts, verifies after the window, and keeps, rolls back or escalates. Virtual time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCore } from '../../src/core/index.ts';
import { simAgent } from './sim-agent.ts';

const core = await loadCore();
const score = core.scoreRoutes;
const n = (mac: string, s: { world: { describeMac(m: string): string } }) => s.world.describeMac(mac);

test('dead link (one interface per link): the stale neighbour is flushed by restarting its now-empty interface; orig_interval lowered, then restored', async () => {
  const s = await simAgent({ score });
  await s.run(5000);
  assert.equal(s.journal(), [], 'a healthy mesh: no action');
  s.world.killLink(0, 1);
  await s.run(4000);
  const dead = s.agent.healer!.findings.find((f) => f.kind === 'link-dead') ?? s.journal().find((e) => e.finding === 'link-dead');
  assert.ok(dead, 'link-dead found');
  const restart = s.journal().find((e) => e.action === 'restart-interface')!;
  assert.ok(restart, JSON.stringify(s.journal()));
  assert.equal(restart.target, { ifname: 'mesh0' });
  assert.is(restart.disruptive, false, 'nobody else is heard on mesh0');
  assert.is(restart.evidence.liveOnInterface, 0);
  assert.equal(s.host.log.slice(0, 2), [['ip', 'link', 'set', 'dev', 'mesh0', 'down'], ['ip', 'link', 'set', 'dev', 'mesh0', 'up']]);
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 100, 'orig_interval lowered');
  await s.run(12_000);
  assert.is(restart.state, 'kept', restart.outcome ?? '');
  assert.ok(!s.agent.healer!.findings.some((f) => f.kind === 'link-dead'), 'finding cleared');
  // n1 reaches n4 through n3 now.
  const n4 = s.world.macOf(3, 'mesh0');
  const route = s.agent.knowledge.mesh.originators.find((o) => o.originator === n4 && o.best)!;
  assert.is(n(route.nextHop, s).split('/')[0], 'n3');
  await s.run(60_000);
  const orig = s.journal().find((e) => e.action === 'orig-interval')!;
  assert.is(orig.state, 'restored', orig.outcome ?? '');
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 1000, 'orig_interval back to what it was');
});

test('healing.fast_orig_interval sets what orig_interval is lowered to', async () => {
  const s = await simAgent({ score, configure: (c) => (c.healing.fastOrigIntervalS = 0.25) });
  s.world.killLink(0, 1);
  await s.run(4000);
  assert.ok(s.journal().some((e) => e.action === 'orig-interval'), 'lowered');
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 250);
});

test('flapping neighbour: quarantined with nftables (ethertype 0x4305), kept while it helps, released after the hold', async () => {
  const s = await simAgent({ score });
  await s.run(3000);
  s.world.flapLink(0, 1, { periodMs: 8000, count: 6 });
  await s.run(30_000);
  const q = s.journal().find((e) => e.action === 'quarantine')!;
  assert.ok(q, JSON.stringify(s.journal().map((e) => [e.action, e.state, e.reason])));
  assert.is(q.finding, 'neighbour-flapping');
  assert.ok(Number(q.evidence.outages) >= 3);
  assert.is(n(q.target.neighbour!, s), 'n2/mesh0');
  const script = s.host.log.find((c) => c[0] === 'nft' && c[1] === '-f');
  assert.ok(script, 'nft ran');
  await s.run(12_000);
  assert.is(q.state, 'holding', q.outcome ?? '');
  // The quarantined neighbour is silent by our doing: no finding about it.
  assert.not.ok(s.agent.healer!.findings.some((f) => f.subject.neighbour === q.target.neighbour));
  await s.run(60_000);
  assert.is(q.state, 'restored', q.outcome ?? '');
  assert.ok(s.host.log.some((c) => c[0] === 'nft' && c[1] === 'list'), 'the effect was checked with nft list');
  assert.ok(s.events().some((e) => e.kind === 'action' && /quarantine #\d+ undone: hold ended/.test(e.message)));
});

test('quarantining the only path makes things worse: rolled back within the verify window', async () => {
  // A chain n1-n2-n3: n2 is n1's only neighbour, so its quarantine cuts n1 off.
  const s = await simAgent({ score, world: { topology: { links: [{ a: 0, b: 1, bands: [0] }, { a: 1, b: 2, bands: [0] }] }, nodeNames: ['n1', 'n2', 'n3'], settings: () => ({}) } });
  await s.run(3000);
  s.world.flapLink(0, 1, { periodMs: 8000, count: 4 });
  await s.run(40_000);
  const q = s.journal().find((e) => e.action === 'quarantine')!;
  assert.ok(q, JSON.stringify(s.journal().map((e) => [e.action, e.state])));
  assert.is(q.state, 'rolled-back', q.outcome ?? '');
  // Judged against what the flapping link gave while it was up, not the instant it was down.
  assert.ok(q.after!.reachable < q.before!.recentReachable, `${q.before!.recentReachable} → ${q.after!.reachable}`);
  assert.ok(s.events().some((e) => e.kind === 'rollback' && /quarantine #\d+ made things worse/.test(e.message)));
  const deletes = s.host.log.filter((c) => c[0] === 'nft' && c[1] === '-f').length;
  assert.ok(deletes >= 2, 'the release ran');
});

test('stuck interface (counters frozen while up): restarted, counters move again', async () => {
  const s = await simAgent({ score });
  await s.run(3000);
  s.world.stuckInterface(0, 'mesh1');
  await s.run(8000);
  const r = s.journal().find((e) => e.action === 'restart-interface')!;
  assert.ok(r, JSON.stringify(s.journal().map((e) => [e.action, e.finding, e.state])));
  // Its neighbours went silent too, but the frozen counters name the cause.
  assert.is(r.finding, 'interface-stuck');
  assert.not.ok(s.journal().some((e) => e.finding === 'link-dead' && e.action === 'restart-interface'));
  assert.is(r.disruptive, true);
  assert.ok(Number(r.evidence.frozenS) >= 4);
  assert.is(s.world.interfaceState(0, 'mesh1').stuck, false, 'the restart cleared the hang');
  await s.run(12_000);
  assert.is(r.state, 'kept', r.outcome ?? '');
  assert.not.ok(s.agent.healer!.findings.some((f) => f.kind === 'interface-stuck'));
});

test('lost gateway: detected after its tolerance, re-election tried; no effect → ladder exhausted, nothing repeated', async () => {
  const s = await simAgent({ score });
  await s.run(3000);
  s.world.partition([3], [0, 1, 2]);
  await s.run(60_000);
  const g = s.journal().find((e) => e.action === 'gateway-reselect')!;
  assert.ok(g, JSON.stringify(s.journal().map((e) => [e.action, e.finding, e.state])));
  assert.is(g.finding, 'gateway-lost');
  assert.ok(g.atMs - 93_000 >= 10_000, 'waited for the tolerance');
  assert.is(g.state, 'no-effect', g.outcome ?? '');
  assert.is(s.journal().filter((e) => e.action === 'gateway-reselect').length, 1);
  const step = s.agent.healer!.planned.find((p) => p.finding?.kind === 'gateway-lost' && p.findingKey !== 'instability')!;
  assert.is(step.status, 'exhausted');
});

test('partition (nobody heard): wifi reload after 30 s, no effect; reboot stays off by default', async () => {
  const s = await simAgent({ score });
  await s.run(3000);
  s.world.partition([0], [1, 2, 3]);
  await s.run(60_000);
  const w = s.journal().find((e) => e.action === 'restart-service')!;
  assert.ok(w, JSON.stringify(s.journal().map((e) => [e.action, e.finding, e.state])));
  assert.is(w.finding, 'partition');
  assert.ok(s.host.log.some((c) => c.join(' ') === '/sbin/wifi reload'));
  assert.is(w.state, 'no-effect');
  const reboot = s.agent.healer!.planned.find((p) => p.action === 'reboot')!;
  assert.is(reboot.status, 'blocked');
  assert.match(reboot.note, 'allow_reboot');
  assert.is(s.host.reboots, 0);
});

test('a forced action that makes things worse (steering onto the dead path) is rolled back within the window', async () => {
  const s = await simAgent({ score });
  await s.run(3000);
  s.world.killLink(0, 1);
  await s.run(20_000); // the agent reroutes over n3 (mesh1)
  const e = await s.agent.healer!.force('steer-interface', { ifname: 'mesh1' }, 'test: steer off the only good path');
  assert.is(e.state, 'verifying');
  assert.is((await s.world.driver(0).interfaces()).find((i) => i.ifname === 'mesh1')!.hopPenalty, 200);
  await s.run(11_000);
  assert.is(e.state, 'rolled-back', `${e.state}: ${e.outcome}`);
  assert.ok(e.after!.quality < e.before!.quality - 0.1, `${e.before!.quality} → ${e.after!.quality}`);
  assert.is((await s.world.driver(0).interfaces()).find((i) => i.ifname === 'mesh1')!.hopPenalty, 0, 'hop penalty restored');
  assert.ok(s.events().some((x) => x.kind === 'rollback'));
});

test.run();
