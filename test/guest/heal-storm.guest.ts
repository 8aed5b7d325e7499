// Inside the VM, diamond on the real batman-adv, an agent on every node, all "just booted":
// every link flaps at once (netem 100 % loss on and off every 3 s on all eight link ends) for
// a minute. Boot grace: nothing is done while it lasts, although the plans want to act. After
// it: the actions stay within the configured limits (action budget, hourly disruptive limit,
// one cool-down per action and target). The count is checked against what the kernel saw:
// `ip monitor` for interfaces taken down, `nft monitor` for quarantine chains, batctl for
// orig_interval changes.
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Agent } from '../../src/agent/agent.ts';
import type { JournalEntry } from '../../src/mapek/journal.ts';
import { loadMesh } from './lib/mesh.ts';
import { countLines, downEdges, log, origIntervalOf, sleep, startHealAgent } from './lib/heal-node.ts';

const mesh = loadMesh();
const GRACE_S = 30;
const COOLDOWN_S = 30;
const MAX_DISRUPTIVE = 2;
const BUDGET = 10; // the planner's default action budget per 10 minutes
const FLAP_CYCLES = 10; // 3 s down + 3 s up each: ~60 s
const agents: Agent[] = [];
const procs: ChildProcess[] = [];
const stops: (() => void)[] = [];

/** Counts lines of a long-running command in a node's namespace (killed after the test). */
function watch(netns: string, argv: string[], count: (line: string) => boolean): () => number {
  const w = countLines(netns, argv, count);
  stops.push(w.stop);
  return w.count;
}

test.after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const stop of stops) stop();
  await Promise.allSettled(agents.map((a) => a.stop())); // a second stop is a no-op
  for (const node of mesh.nodes) {
    for (const i of node.ifaces) spawn('nsenter', [`--net=/run/netns/${node.netns}`, 'tc', 'qdisc', 'del', 'dev', i.ifname, 'root'], { stdio: 'ignore' });
  }
  await sleep(1000);
});

test('every link flaps at once: nothing during the boot grace, then no more than the limits allow', async () => {
  // "Boot" is when the storm starts (the agents' start-up under TCG takes a while, calm mesh).
  let t0 = Date.now();
  agents.push(...await Promise.all(mesh.nodes.map((node) => startHealAgent(node, { quiet: true, uptimeMs: () => Date.now() - t0, configure: (c) => {
    c.healing.bootGraceS = GRACE_S;
    c.healing.cooldownS = COOLDOWN_S;
    c.healing.maxDisruptivePerHour = MAX_DISRUPTIVE;
    c.healing.verifyWindowS = 8;
  } }))));
  // Kernel-side witnesses, one set per node. A hard interface going admin-down can only be an
  // agent's restart: the test's fault is netem, which leaves the interfaces up.
  const downs = mesh.nodes.map((n) => watch(n.netns, ['ip', 'monitor', 'link'], downEdges()));
  // Only a quarantine adds a rule to a q- chain (a release adds the chain only to delete it).
  const chains = mesh.nodes.map((n) => watch(n.netns, ['nft', 'monitor'], (l) => /^add rule netdev x0tta6bl4 q-/.test(l)));
  const intervals = mesh.nodes.map((n) => [origIntervalOf(n.netns)]);
  const startedAt = Date.now();
  t0 = startedAt;
  for (const node of mesh.nodes) {
    const cmds = node.ifaces.map((i) => i.ifname);
    const on = cmds.map((d) => `tc qdisc replace dev ${d} root netem loss 100%`).join('; ');
    const off = cmds.map((d) => `tc qdisc del dev ${d} root`).join('; ');
    procs.push(spawn('nsenter', [`--net=/run/netns/${node.netns}`, 'sh', '-c', `for i in $(seq ${FLAP_CYCLES}); do ${on}; sleep 3; ${off}; sleep 3; done`], { stdio: 'ignore' }));
  }

  // Boot grace: findings pile up, plans are blocked, nothing runs.
  let sawGraceBlock = false;
  // Plans are a snapshot of the last poll: look often (a blocked plan may last one poll only
  // between flaps); the kernel is read every 2 s.
  for (let k = 0; Date.now() - t0 < (GRACE_S - 3) * 1000; k++) {
    await sleep(250);
    sawGraceBlock ||= agents.some((a) => a.healer!.planned.some((p) => /^boot grace/.test(p.note)));
    if (k % 8 === 7) mesh.nodes.forEach((n, i) => intervals[i]!.push(origIntervalOf(n.netns)));
  }
  const duringGrace = agents.map((a) => a.healer!.journal.all().length);
  const kernelDuringGrace = { downs: downs.map((d) => d()), chains: chains.map((c) => c()), intervals: intervals.map((x) => [...new Set(x)]) };
  log(`during the grace: journals ${duringGrace}, kernel ${JSON.stringify(kernelDuringGrace)}`);
  assert.ok(sawGraceBlock, 'the plans wanted to act and were held by the boot grace');
  assert.equal(duringGrace, [0, 0, 0, 0]);
  assert.equal(kernelDuringGrace.downs, [0, 0, 0, 0], 'ip monitor: no interface restarted');
  assert.equal(kernelDuringGrace.chains, [0, 0, 0, 0], 'nft monitor: no quarantine');
  for (const x of kernelDuringGrace.intervals) assert.equal(x, [mesh.origIntervalMs], 'batctl: orig_interval untouched');

  // The rest of the storm; then the agents stop (an action under way finishes first) and the
  // kernel's witnesses get a moment to report.
  while (Date.now() - startedAt < FLAP_CYCLES * 6000 + 3000) await sleep(2000);
  await Promise.all(agents.map((a) => a.stop()));
  await sleep(1500);
  const summary = agents.map((a, i) => {
    const j = a.healer!.journal.all();
    return { node: mesh.nodes[i]!.name, actions: j.map((e) => `${e.action}${e.target.ifname ? `:${e.target.ifname}` : ''}:${e.state}@${((e.atMs - t0) / 1000).toFixed(0)}s`), downs: downs[i]!(), chains: chains[i]!() };
  });
  log(`after the storm: ${JSON.stringify(summary, null, 1)}`);
  agents.forEach((a, i) => {
    const j: readonly JournalEntry[] = a.healer!.journal.all();
    const name = mesh.nodes[i]!.name;
    assert.ok(j.every((e) => e.atMs - t0 >= GRACE_S * 1000), `${name}: acted inside the boot grace`);
    assert.ok(j.length <= BUDGET, `${name}: ${j.length} actions > budget ${BUDGET}`);
    assert.ok(j.filter((e) => e.disruptive).length <= MAX_DISRUPTIVE, `${name}: disruptive actions over the hourly limit`);
    // One cool-down per action and target: no repeat sooner.
    for (const e of j) {
      const again = j.find((x) => x.id > e.id && x.action === e.action && (x.target.ifname ?? '') === (e.target.ifname ?? '') && (x.target.neighbour ?? '') === (e.target.neighbour ?? ''));
      if (again) assert.ok(again.atMs - e.atMs >= COOLDOWN_S * 1000, `${name}: ${e.action} repeated after ${(again.atMs - e.atMs) / 1000} s`);
    }
    // What the kernel saw matches the journal: every restart is one admin-down, every quarantine one chain.
    // (An attempt refused before it changed anything is journaled as "not applicable".)
    const ran = (kind: string) => j.filter((e) => e.action === kind && !(e.outcome ?? '').startsWith('not applicable')).length;
    assert.is(downs[i]!(), ran('restart-interface'), `${name}: ip monitor downs vs journal`);
    assert.is(chains[i]!(), ran('quarantine'), `${name}: nft monitor quarantine rules vs journal`);
  });
  const total = agents.reduce((a, x) => a + x.healer!.journal.all().length, 0);
  log(`total actions on 4 nodes in ${((Date.now() - startedAt) / 1000).toFixed(0)} s of flapping: ${total}`);
});

test.run();
