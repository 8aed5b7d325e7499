// Inside the VM, diamond on the real batman-adv: the link n3–n4 dies one way only (netem 100 %
// loss on n4's v4-3: n3 hears nothing from n4, n4 still hears n3), with agents on n3 and n4 and a
// ping n3 → n4 as traffic. Neither v3-4 nor v4-3 is its node's primary interface. n3 finds the
// link dead (traffic stopped, the echo unanswered), purges it out of bat0 and back, never taking
// it down, and tells n4 over the way that still works that it hears nothing; n4 asks n3 over the
// echo, gets no answer, finds the link dead one way and purges its side too. Both ends then route
// around it at once, where batman-adv on n4 would keep sending over the dead way until its echo
// of n3's OGMs ran dry, and no interface goes down (a down/up on the deaf end made both ends
// restart their interfaces in turn on the bench's equal diamond). ip monitor, batctl and ping are
// the oracle. The agents run as processes in their nodes' namespaces (bench/heal/agent-processes.ts):
// the link echo's socket must be the node's own.
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serveAgentRole, startAgents } from '../../bench/heal/agent-processes.ts';
import { inNetns, loadMesh } from './lib/mesh.ts';
import { countLines, downEdges, ifaceOf, liftNetem, log, neighbourLastSeen, nodeOf, pingAnswered, sleep, waitFor } from './lib/heal-node.ts';

if (process.env.X0_HEAL_ROLE === 'agent') await serveAgentRole((c) => (c.healing.verifyWindowS = 8), log);

const mesh = loadMesh();
const n3 = nodeOf(mesh, 3);
const n4 = nodeOf(mesh, 4);
const deaf = ifaceOf(mesh, 3, 4); // n3's v3-4: n3 hears nothing here once the fault is on
const cut = ifaceOf(mesh, 4, 3); // n4's v4-3: its egress loses everything
const stops: (() => void)[] = [];
let pinger: ChildProcess | undefined;
let agents: Awaited<ReturnType<typeof startAgents>> | undefined;

const heardOnDeaf = () => neighbourLastSeen(n3.netns).get(`${deaf.ifname}/${deaf.peerMac}`);
const inBat0 = (netns: string, ifname: string) => /\bmaster bat0\b/.test(inNetns(netns, 'ip', 'link', 'show', 'dev', ifname));

const ping = (count: number) => pingAnswered(n3.netns, '10.99.0.4', count);

test.after(async () => {
  pinger?.kill('SIGKILL');
  for (const stop of stops) stop();
  await agents?.stop().catch(() => {});
  liftNetem(n4.netns, cut.ifname);
});

test('a link dead one way between two non-primary interfaces: both ends purge it out of bat0 and back, no interface taken down', async () => {
  for (const [n, i] of [[n3, 3], [n4, 4]] as const) inNetns(n.netns, 'ip', 'addr', 'replace', `10.99.0.${i}/24`, 'dev', 'bat0');
  for (const [n, i] of [[n3, deaf], [n4, cut]] as const) assert.not.equal(n.origAddress, i.mac, `${i.ifname} is not ${n.name}'s primary interface`);
  await waitFor('n3 hears n4 on v3-4 and ping n3 → n4 answers', () => ping(3) === 3 && heardOnDeaf() !== undefined, 60_000, 500);
  const downs = [n3, n4].map((n) => countLines(n.netns, ['ip', 'monitor', 'link'], downEdges()));
  stops.push(...downs.map((d) => d.stop));
  agents = await startAgents([n3, n4], 'agent');
  // Traffic the agents watch: 10 pings a second for the whole test.
  pinger = spawn('nsenter', [`--net=/run/netns/${n3.netns}`, 'ping', '-n', '-q', '-i', '0.1', '10.99.0.4'], { stdio: 'ignore' });
  // The agents learn their links (and that the other end answers the echo) first.
  await sleep(15_000);

  const faultAt = Date.now();
  inNetns(n4.netns, 'tc', 'qdisc', 'replace', 'dev', cut.ifname, 'root', 'netem', 'loss', '100%');
  await sleep(10_000);
  // n4 is forgotten on v3-4 and stays so while n3 hears nothing from it; n3 and n4 reach each other via n1 and n2.
  const listed = heardOnDeaf();
  const routes = (netns: string, to: string) => inNetns(netns, 'batctl', 'meshif', 'bat0', 'o', '-H').split('\n').filter((l) => l.includes(to) && l.includes('*')).join(' | ');
  const answered = ping(10);
  log(`fault on 10 s: ${answered}/10 pings n3 → n4 answered; n3 → n4: ${routes(n3.netns, n4.origAddress)}; n4 → n3: ${routes(n4.netns, n3.origAddress)}; n4 listed on v3-4: ${listed}`);
  await sleep(5_000);
  const [r3, r4] = await agents.stop();
  agents = undefined;
  const show = (r: typeof r3) => r!.journal.map((e) => `${e.action}:${e.target.ifname ?? ''}:${e.state}@${((e.atMs - faultAt) / 1000).toFixed(2)}s[${e.finding}] ${e.reason}`);
  log(`journals:\n n3 ${show(r3).join('\n    ')}\n n4 ${show(r4).join('\n    ')}\nip monitor downs n3, n4: ${downs.map((d) => d.count())}`);

  const purge = (r: typeof r3, ifname: string) => r!.journal.find((e) => e.action === 'purge-neighbours' && e.target.ifname === ifname && e.atMs >= faultAt);
  const near = purge(r3, deaf.ifname);
  const far = purge(r4, cut.ifname);
  assert.ok(near, 'n3 purged v3-4');
  assert.ok(far, 'n4 purged v4-3');
  for (const e of [near, far]) {
    assert.is(e.finding, 'link-dead');
    assert.not.ok(['failed', 'rolled-back'].includes(e.state), `${e.state}: ${e.outcome}`);
  }
  assert.match(far.reason, 'dead one way', 'n4 still hears n3: the one-way finding');
  assert.equal(downs.map((d) => d.count()), [0, 0], 'ip monitor: no hard interface taken down on n3 or n4');
  for (const r of [r3, r4]) assert.not.ok(r!.journal.some((e) => e.action === 'restart-interface'), `no restart: ${show(r)}`);
  assert.ok(inBat0(n3.netns, deaf.ifname) && inBat0(n4.netns, cut.ifname), 'ip: both interfaces in bat0');
  assert.is(listed, undefined, `batctl n: n4 not listed on ${deaf.ifname} after the purge`);
  assert.ok(answered >= 8, `ping n3 → n4 with the fault on, after the purges: ${answered}/10`);

  inNetns(n4.netns, 'tc', 'qdisc', 'del', 'dev', cut.ifname, 'root');
  await waitFor('n3 hears n4 on v3-4 again', () => (heardOnDeaf() ?? Infinity) < 2000, 20_000, 500);
});

test.run();
