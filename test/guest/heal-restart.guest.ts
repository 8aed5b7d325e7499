// Inside the VM, diamond on the real batman-adv: an agent process on n4 is SIGKILLed in the
// middle of an action and a new agent starts on the same journal.
//   1. The victim (this file run again with X0_HEAL_ROLE=victim) lowers orig_interval (an
//      operator's run-action: temporary, open in the journal).
//   2. n3–n4 hangs both ways (netem 100 % loss on both ends): the victim restarts v4-3
//      (interface-stuck, disruptive, when v4-3's counters froze; link-dead when they still
//      moved) and is killed by us the moment `ip monitor` shows v4-3 going down.
//   3. A new agent on the same journal: the journal still holds both entries, v4-3 is up again
//      and orig_interval is back (ip and batctl say so), and with the hang still there the
//      restart is not repeated (no further down in `ip monitor`, the plan says cool-down).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Agent } from '../../src/agent/agent.ts';
import type { AgentConfig } from '../../src/config/schema.ts';
import type { JournalEntry } from '../../src/mapek/journal.ts';
import { inNetns, loadMesh } from './lib/mesh.ts';
import { cutLink, ifaceOf, log, nodeOf, origIntervalOf, sleep, startHealAgent, waitFor } from './lib/heal-node.ts';

const mesh = loadMesh();
const n4 = nodeOf(mesh, 4);
const hung = ifaceOf(mesh, 4, 3);
const configure = (c: AgentConfig) => {
  c.healing.verifyWindowS = 8;
  c.healing.cooldownS = 120;
  c.healing.holdS = 120;
};

if (process.env.X0_HEAL_ROLE === 'victim') {
  // The agent that will be killed: it runs until SIGKILL.
  const agent = await startHealAgent(n4, { journalPath: process.env.X0_HEAL_JOURNAL!, configure });
  const e = await agent.healer!.force('orig-interval', {}, 'operator: run-action orig-interval');
  process.stdout.write(`forced ${e.action} #${e.id}: ${e.state}\n`);
  await new Promise(() => {});
}

const isUp = () => /<[^>]*\bUP\b[^>]*>/.test(inNetns(n4.netns, 'ip', 'link', 'show', 'dev', hung.ifname));
// v4-3 is not n4's primary interface: the restart takes it out of bat0 first (batman-adv purges at once).
const inMesh = () => /\bmaster bat0\b/.test(inNetns(n4.netns, 'ip', 'link', 'show', 'dev', hung.ifname));
const readJournal = (path: string) => (JSON.parse(readFileSync(path, 'utf8')) as { entries: JournalEntry[] }).entries;

/** `ip monitor link` in n4: how often v4-3 was seen going admin-down. */
function watchDowns(onDown: () => void): { count: () => number; stop: () => void } {
  const p = spawn('nsenter', [`--net=/run/netns/${n4.netns}`, 'ip', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let downs = 0;
  let buf = '';
  let wasUp = true;
  p.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      const m = new RegExp(`^\\d+: ${hung.ifname}@\\S+ <([^>]*)>`).exec(l);
      if (!m) continue;
      const up = m[1]!.split(',').includes('UP');
      if (wasUp && !up) {
        downs++;
        onDown();
      }
      wasUp = up;
    }
  });
  return { count: () => downs, stop: () => p.kill() };
}

let victim: ChildProcess | undefined;
let agent: Agent | undefined;
let watch: ReturnType<typeof watchDowns> | undefined;

test.after(async () => {
  watch?.stop();
  victim?.kill('SIGKILL');
  await agent?.stop();
  cutLink(mesh, 3, 4, false);
});

test('SIGKILL in the middle of a restart: journal intact, temporary settings restored, the disruptive action not repeated', async () => {
  const journalPath = join(mkdtempSync(join(tmpdir(), 'heal-kill-')), 'journal.json');
  const originalInterval = origIntervalOf(n4.netns);
  assert.ok(isUp(), `${hung.ifname} up to begin with`);

  let killedAt = 0;
  watch = watchDowns(() => {
    if (killedAt || !victim) return;
    victim.kill('SIGKILL');
    killedAt = Date.now();
  });
  let output = '';
  victim = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: { ...process.env, X0_HEAL_ROLE: 'victim', X0_HEAL_JOURNAL: journalPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  victim.stdout!.on('data', (d) => (output += d));
  victim.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<string | null>((r) => victim!.on('exit', (_c, s) => r(s)));
  try {
    await waitFor('the victim to lower orig_interval', () => origIntervalOf(n4.netns) < originalInterval, 90_000, 500);
    cutLink(mesh, 3, 4, true);
    const signal = await Promise.race([exited, sleep(60_000).then(() => 'still running')]);
    assert.is(signal, 'SIGKILL', `victim: ${signal}\n${output.slice(-3000)}`);
  } finally {
    log(`victim output:\n${output.slice(-4000)}`);
  }
  assert.ok(killedAt > 0, 'killed when v4-3 went down');

  // What the kill left behind, read from the kernel and from the journal on disk.
  assert.not.ok(isUp(), `${hung.ifname} left down by the killed agent`);
  assert.not.ok(inMesh(), `${hung.ifname} left out of bat0 by the killed agent`);
  assert.is(origIntervalOf(n4.netns), 100, 'batctl: orig_interval still lowered');
  const onDisk = readJournal(journalPath);
  const restartBefore = onDisk.find((e) => e.action === 'restart-interface' && e.target.ifname === hung.ifname);
  assert.ok(restartBefore, JSON.stringify(onDisk.map((e) => [e.id, e.action, e.state])));
  assert.is(restartBefore.state, 'applying', 'journaled before the interface went down');
  // A hung link on veth+netem reads as a hung interface (counters frozen: disruptive restart)
  // or, when its counters still moved, as a dead link with nobody else on v4-3 (the same
  // restart, not disruptive to anyone else): both are the restart the kill must interrupt.
  assert.ok(['interface-stuck', 'link-dead'].includes(restartBefore.finding), restartBefore.finding);
  assert.is(restartBefore.disruptive, restartBefore.finding === 'interface-stuck');
  log(`killed during restart #${restartBefore.id} (${restartBefore.finding}, ${restartBefore.disruptive ? 'disruptive' : 'not disruptive'}): ${restartBefore.reason}`);
  const origBefore = onDisk.find((e) => e.action === 'orig-interval')!;
  assert.ok(origBefore, 'the orig_interval change is in the journal');

  // The restart: a new agent on the same journal.
  const downsBefore = watch!.count();
  agent = await startHealAgent(n4, { journalPath, configure });
  assert.ok(isUp(), `ip: ${hung.ifname} brought back up`);
  assert.ok(inMesh(), `ip: ${hung.ifname} back in bat0`);
  assert.is(origIntervalOf(n4.netns), originalInterval, 'batctl: orig_interval restored');
  const entries = agent.healer!.journal.all();
  for (const e of onDisk) assert.ok(entries.some((x) => x.id === e.id && x.action === e.action && x.atMs === e.atMs), `entry #${e.id} kept`);
  const restart = entries.find((e) => e.id === restartBefore.id)!;
  assert.is(restart.state, 'interrupted');
  assert.match(restart.outcome ?? '', 'agent restarted; undone');
  assert.ok(['restored', 'interrupted'].includes(entries.find((e) => e.id === origBefore.id)!.state));

  // The hang is still there: the new agent finds it again but must not restart v4-3 again.
  await waitFor('the new agent to find the hang again', () => agent!.healer!.findings.some((f) => (f.kind === 'interface-stuck' || f.kind === 'link-dead') && f.subject.ifname === hung.ifname), 30_000);
  await sleep(6000);
  const step = agent.healer!.planned.find((p) => p.action === 'restart-interface' && p.target.ifname === hung.ifname);
  log(`after restart: plan ${JSON.stringify(agent.healer!.planned.map((p) => [p.action, p.status, p.note]))}`);
  watch!.stop();
  assert.is(watch!.count() - downsBefore, 0, 'ip monitor: v4-3 not taken down again');
  assert.is(agent.healer!.journal.all().filter((e) => e.action === 'restart-interface').length, 1);
  assert.ok(step, 'the restart is still wanted');
  assert.match(step.note, 'cool-down');
  assert.is(step.status, 'blocked');
});

test.run();
