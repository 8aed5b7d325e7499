// The plan's safety rules on the simulator: boot grace, start-up delay, dry-run, cool-downs, the
// hourly limit, never two disruptive actions at once, no storm when everything flaps, and a
// restart in the middle of an action (journal intact, temporary changes undone, nothing repeated).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attach, simAgent } from './sim-agent.ts';

test('boot grace: nothing done in the first minutes after boot, the plan says why; then the repair runs', async () => {
  let bootAt = 0;
  const s = await simAgent({ uptimeMs: () => s0() - bootAt, configure: (c) => (c.healing.bootGraceS = 60) });
  const s0 = () => s.world.nowMs;
  bootAt = s.world.nowMs - 10_000; // booted 10 s ago
  s.world.stuckInterface(0, 'mesh1');
  await s.run(20_000);
  assert.equal(s.journal(), []);
  assert.equal(s.host.log, []);
  const step = s.agent.healer!.planned.find((p) => p.action === 'restart-interface')!;
  assert.is(step.status, 'blocked');
  assert.match(step.note, /^boot grace: \d+ s left$/);
  await s.run(35_000);
  assert.ok(s.journal().some((e) => e.action === 'restart-interface'), 'acts once the grace is over');
});

test('random start-up delay: no action before it ends', async () => {
  // random() is 0.5 in the harness: half of 40 s.
  const s = await simAgent({ configure: (c) => (c.healing.startupJitterS = 40) });
  s.world.stuckInterface(0, 'mesh1');
  await s.run(15_000);
  assert.equal(s.journal(), []);
  assert.match(s.agent.healer!.planned.find((p) => p.action === 'restart-interface')!.note, /^start-up delay/);
  await s.run(8000);
  assert.ok(s.journal().some((e) => e.action === 'restart-interface'));
  assert.is(s.agent.status().healing!.startupDelayS, 20);
});

test('dry run: plans and reports, changes nothing', async () => {
  const s = await simAgent({ configure: (c) => (c.agent.dryRun = true) });
  await s.run(2000);
  s.world.killLink(0, 1);
  s.world.stuckInterface(0, 'mesh1');
  await s.run(15_000);
  assert.equal(s.host.log, [], 'no command ran');
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 1000);
  const planned = s.journal();
  assert.ok(planned.length >= 2 && planned.every((e) => e.state === 'dry-run'), JSON.stringify(planned.map((e) => [e.action, e.state])));
  assert.ok(s.events().some((e) => /^dry run: would restart interface mesh1/.test(e.message)));
  const status = s.agent.status().healing!;
  assert.is(status.dryRun, true);
  // Cool-downs hold for planned steps too: the report is not repeated every second.
  assert.is(planned.filter((e) => e.action === 'orig-interval').length, 1);
});

test('never two disruptive actions at once; the hourly limit holds; cool-downs per target', async () => {
  const s = await simAgent({ world: { topology: 'diamond' }, configure: (c) => {
    c.healing.maxDisruptivePerHour = 2;
    c.healing.cooldownS = 30;
  } });
  await s.run(2000);
  s.world.stuckInterface(0, 'mesh0');
  s.world.stuckInterface(0, 'mesh1');
  await s.run(8000);
  const restarts = () => s.journal().filter((e) => e.action === 'restart-interface');
  assert.is(restarts().length, 1, 'one at a time');
  const waiting = s.agent.healer!.planned.find((p) => p.action === 'restart-interface' && p.status === 'blocked');
  assert.ok(waiting, JSON.stringify(s.agent.healer!.planned));
  assert.match(waiting!.note, 'another disruptive action is in progress');
  await s.run(15_000);
  assert.is(restarts().length, 2);
  assert.ok(restarts()[1]!.atMs - restarts()[0]!.atMs >= 10_000, 'the second waited for the first to be verified');
  // The radios keep hanging: no third disruptive action within the hour.
  s.world.stuckInterface(0, 'mesh0');
  await s.run(60_000);
  assert.is(s.journal().filter((e) => e.disruptive).length, 2);
  const blocked = s.agent.healer!.planned.find((p) => p.disruptive && p.status === 'blocked')!;
  assert.match(blocked.note, 'hourly limit of 2 disruptive actions reached (2 in the last hour)');
});

test('no action storm when every link flaps at once', async () => {
  const s = await simAgent({ world: { topology: 'diamond' } });
  await s.run(2000);
  for (const [a, b] of [[0, 1], [0, 2], [1, 3], [2, 3]] as const) s.world.flapLink(a, b, { periodMs: 6000, count: 30 });
  await s.run(180_000);
  const j = s.journal();
  // Bounded by cool-downs and one step per finding at a time: a handful, not one per poll.
  assert.ok(j.length <= 12, `${j.length} actions: ${JSON.stringify(j.map((e) => [e.atMs, e.action, e.state]))}`);
  assert.ok(j.filter((e) => e.disruptive).length <= 3);
  // n1 is never cut off by its own quarantines for longer than a verify window.
  assert.not.ok(j.some((e) => e.action === 'quarantine' && e.state === 'holding' && e.after!.reachable === 0));
});

test('killed in the middle of an action: journal intact, temporary settings restored, the disruptive action not repeated', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'x0-heal-'));
  const journalPath = join(dir, 'journal.json');
  const a = await simAgent({ journalPath, configure: (c) => (c.healing.cooldownS = 600) });
  await a.run(2000);
  a.world.killLink(0, 1); // → orig_interval lowered (temporary), and mesh0 flushed
  await a.run(12_000);
  assert.is(a.journal().find((e) => e.action === 'orig-interval')!.state, 'holding');
  a.world.stuckInterface(0, 'mesh1'); // → a disruptive restart of mesh1
  // The agent hangs in `ip link set dev mesh1 up`, and is killed there.
  const run = a.host.run;
  let entered!: () => void;
  const hangs = new Promise<boolean>((r) => (entered = () => r(true)));
  a.host.run = (argv, o) => {
    if (argv.join(' ') !== 'ip link set dev mesh1 up') return run(argv, o);
    entered();
    return new Promise(() => {});
  };
  let hung = false;
  for (let i = 0; i < 15 && !hung; i++) {
    a.world.step(1000);
    hung = await Promise.race([a.agent.tick().then(() => false), hangs]);
  }
  assert.ok(hung, 'the agent hung in the action');
  assert.is((await a.world.driver(0).settings()).origIntervalMs, 100);
  assert.is(a.world.interfaceState(0, 'mesh1').adminUp, false, 'killed with mesh1 down');
  const onDisk = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { action: string; state: string }[] };
  assert.ok(onDisk.entries.some((e) => e.action === 'restart-interface' && e.state === 'applying'), 'written before the action ran');

  // A new agent on the same router and journal.
  const b = await attach(a.world, { journalPath, configure: (c) => (c.healing.cooldownS = 600) });
  assert.is((await b.world.driver(0).settings()).origIntervalMs, 1000, 'orig_interval restored');
  assert.is(b.world.interfaceState(0, 'mesh1').adminUp, true, 'mesh1 brought back up');
  const entries = b.journal();
  const restart = entries.find((e) => e.action === 'restart-interface' && e.target.ifname === 'mesh1')!;
  assert.is(restart.state, 'interrupted');
  assert.match(restart.outcome!, 'agent restarted; undone');
  assert.is(entries.find((e) => e.action === 'orig-interval')!.state, 'restored');
  b.world.stuckInterface(0, 'mesh1'); // hangs again at once
  await b.run(20_000);
  assert.is(b.journal().filter((e) => e.action === 'restart-interface' && e.target.ifname === 'mesh1').length, 1, 'not repeated within its cool-down');
  assert.match(b.agent.healer!.planned.find((p) => p.target.ifname === 'mesh1')!.note, 'cool-down');
  await b.agent.stop();
});

test.run();
