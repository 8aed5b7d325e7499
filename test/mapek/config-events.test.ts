// batman-adv `config` events in the loop (simulator): the agent's own writes are not taken for
// someone else's; a change an operator makes during a hold is noted (event, /status) and is
// never restored over: the temporary change ends as "superseded" and the operator's value stays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { simAgent } from './sim-agent.ts';

test('own writes are not external; an operator change during the hold is kept, not restored over', async () => {
  const s = await simAgent();
  await s.run(2000);
  s.world.killLink(0, 1); // → orig_interval lowered to 100 ms, held
  await s.run(14_000);
  const orig = s.journal().find((e) => e.action === 'orig-interval')!;
  assert.is(orig.state, 'holding', orig.outcome ?? '');
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 100);
  assert.equal(s.agent.status().healing!.externalChanges, [], 'our own change is not someone else\'s');

  // An operator sets orig_interval by hand (batctl / uci) during the hold.
  await s.world.driver(0).setMesh({ origIntervalMs: 600 });
  await s.run(1000);
  const ext = s.agent.status().healing!.externalChanges;
  assert.is(ext.length, 1, JSON.stringify(ext));
  assert.equal([ext[0]!.setting, ext[0]!.from, ext[0]!.to], ['origIntervalMs', 100, 600]);
  assert.ok(s.events().some((e) => e.message === 'setting origIntervalMs changed outside the agent: 100 → 600'));

  await s.run(60_000); // the hold ends
  assert.is(orig.state, 'superseded', `${orig.state}: ${orig.outcome}`);
  assert.match(orig.outcome!, 'orig_interval is 600 ms, set by someone else since');
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 600, 'the operator\'s value stays');
  await s.agent.stop();
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 600, 'not restored at stop either');
});

test('a temporary change the operator did not touch is restored as before; the new baseline is the operator\'s value', async () => {
  const s = await simAgent();
  await s.run(2000);
  await s.world.driver(0).setMesh({ origIntervalMs: 800 }); // operator, before any action
  await s.run(2000);
  assert.is(s.agent.status().healing!.externalChanges.at(-1)!.to, 800);
  s.world.killLink(0, 1);
  await s.run(14_000);
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 100);
  await s.run(60_000);
  const orig = s.journal().find((e) => e.action === 'orig-interval')!;
  assert.is(orig.state, 'restored', orig.outcome ?? '');
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 800, 'back to the operator\'s 800, not the 1000 found at start');
  assert.is(s.agent.status().healing!.externalChanges.length, 1);
});

test('a forced steer whose hop penalty an operator changed during the window is not rolled back over it', async () => {
  const s = await simAgent();
  await s.run(3000);
  s.world.killLink(0, 1);
  await s.run(20_000);
  const e = await s.agent.healer!.force('steer-interface', { ifname: 'mesh1' }, 'test');
  await s.world.driver(0).setHardIf('mesh1', { hopPenalty: 30 }); // operator
  await s.run(11_000);
  assert.is(e.state, 'superseded', `${e.state}: ${e.outcome}`);
  assert.match(e.outcome!, /^worse, not undone: mesh1 hop_penalty is 30/);
  assert.is((await s.world.driver(0).interfaces()).find((i) => i.ifname === 'mesh1')!.hopPenalty, 30);
});

test.run();
