// Inside the VM, diamond on the real batman-adv: the link n1–n2 dies one way only (netem 100 %
// loss on n2's v2-1: n1 hears nothing from n2, n2 still hears n1), with agents on n1 and n2 and a
// ping n1 → n2 as traffic. Both ends are their node's primary interface: taking one down would
// stop every OGM of that node on every interface (batman-adv emits none of its own while the
// primary is down), and every route towards it would wait for the next (on the bench's equal
// diamond that made the agent slower than batman-adv alone). So neither end goes down: n1, which
// hears nothing, leaves the reroute to batman-adv; n2, told by n1 over the way that still works
// and unanswered when it asks back, quarantines n1 on v2-1 (nftables drops its frames), so that
// batman-adv stops routing over the dead way instead of waiting ~16 s for its echo of n2's OGMs
// to run dry. ip monitor, nft, batctl and ping are the oracle; the agents run as processes in
// their nodes' namespaces (bench/heal/agent-processes.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serveAgentRole, startAgents } from '../../bench/heal/agent-processes.ts';
import { quarantineChain, NFT_TABLE } from '../../src/mapek/actions/quarantine.ts';
import { inNetns, loadMesh } from './lib/mesh.ts';
import { countLines, downEdges, ifaceOf, liftNetem, log, neighbourLastSeen, nodeOf, pingAnswered, sleep, waitFor } from './lib/heal-node.ts';

if (process.env.X0_HEAL_ROLE === 'agent') await serveAgentRole((c) => (c.healing.verifyWindowS = 8), log);

const mesh = loadMesh();
const n1 = nodeOf(mesh, 1);
const n2 = nodeOf(mesh, 2);
const deaf = ifaceOf(mesh, 1, 2); // n1's v1-2: n1 hears nothing here once the fault is on
const cut = ifaceOf(mesh, 2, 1); // n2's v2-1: its egress loses everything
const chain = quarantineChain({ ifname: cut.ifname, neighbour: cut.peerMac });
const stops: (() => void)[] = [];
let pinger: ChildProcess | undefined;
let agents: Awaited<ReturnType<typeof startAgents>> | undefined;

const heardOnDeaf = () => neighbourLastSeen(n1.netns).get(`${deaf.ifname}/${deaf.peerMac}`);
const quarantined = () => {
  try {
    return inNetns(n2.netns, 'nft', 'list', 'chain', 'netdev', NFT_TABLE, chain).includes(cut.peerMac);
  } catch {
    return false;
  }
};

const ping = (count: number) => pingAnswered(n1.netns, '10.99.0.2', count);

test.after(async () => {
  pinger?.kill('SIGKILL');
  for (const stop of stops) stop();
  await agents?.stop().catch(() => {});
  liftNetem(n2.netns, cut.ifname);
});

test('a link dead one way between two primary interfaces: no interface taken down; the end still hearing quarantines the deaf one', async () => {
  for (const [n, i] of [[n1, 1], [n2, 2]] as const) inNetns(n.netns, 'ip', 'addr', 'replace', `10.99.0.${i}/24`, 'dev', 'bat0');
  for (const [n, i] of [[n1, deaf], [n2, cut]] as const) assert.is(n.origAddress, i.mac, `${i.ifname} is ${n.name}'s primary interface`);
  await waitFor('n1 hears n2 on v1-2 and ping n1 → n2 answers', () => ping(3) === 3 && heardOnDeaf() !== undefined, 60_000, 500);
  const downs = [n1, n2].map((n) => countLines(n.netns, ['ip', 'monitor', 'link'], downEdges()));
  stops.push(...downs.map((d) => d.stop));
  agents = await startAgents([n1, n2], 'agent');
  pinger = spawn('nsenter', [`--net=/run/netns/${n1.netns}`, 'ping', '-n', '-q', '-i', '0.1', '10.99.0.2'], { stdio: 'ignore' });
  await sleep(15_000);

  const faultAt = Date.now();
  inNetns(n2.netns, 'tc', 'qdisc', 'replace', 'dev', cut.ifname, 'root', 'netem', 'loss', '100%');
  await sleep(10_000);
  const routes = (netns: string, to: string) => inNetns(netns, 'batctl', 'meshif', 'bat0', 'o', '-H').split('\n').filter((l) => l.includes(to) && l.includes('*')).join(' | ');
  const during = quarantined();
  const answered = ping(10);
  log(`fault on 10 s: ${answered}/10 pings n1 → n2 answered; n1 → n2: ${routes(n1.netns, n2.origAddress)}; n2 → n1: ${routes(n2.netns, n1.origAddress)}; quarantine chain on n2: ${during}`);
  await sleep(3_000);
  const [r1, r2] = await agents.stop();
  agents = undefined;
  const show = (r: typeof r1) => r!.journal.map((e) => `${e.action}:${e.target.ifname ?? ''}/${e.target.neighbour ?? ''}:${e.state}@${((e.atMs - faultAt) / 1000).toFixed(2)}s[${e.finding}] ${e.reason}`);
  log(`journals:\n n1 ${show(r1).join('\n    ')}\n n2 ${show(r2).join('\n    ')}\nip monitor downs n1, n2: ${downs.map((d) => d.count())}`);

  const q = r2!.journal.find((e) => e.action === 'quarantine' && e.atMs >= faultAt);
  assert.ok(q, 'n2 quarantined the neighbour it still hears');
  assert.equal([q.target.ifname, q.target.neighbour], [cut.ifname, cut.peerMac]);
  assert.is(q.finding, 'link-dead');
  assert.match(q.reason, 'dead one way', 'n2 still hears n1: the one-way finding');
  assert.not.ok(['failed', 'rolled-back'].includes(q.state), `${q.state}: ${q.outcome}`);
  assert.ok(during, `nft: chain ${chain} drops n1's frames on n2 while the fault is on`);
  assert.equal(downs.map((d) => d.count()), [0, 0], 'ip monitor: no hard interface taken down on n1 or n2');
  for (const r of [r1, r2]) assert.not.ok(r!.journal.some((e) => e.action === 'restart-interface' || e.action === 'purge-neighbours'), `no restart or purge: ${show(r)}`);
  assert.not.ok(r1!.journal.some((e) => e.action === 'quarantine'), 'n1, which hears nothing, quarantines nothing');
  assert.ok(answered >= 8, `ping n1 → n2 with the fault on, rerouted by batman-adv: ${answered}/10`);
  // The names stay: the primary interfaces' MACs are still the originator addresses.
  for (const [n, to] of [[n1, n2], [n2, n1]] as const) assert.ok(routes(n.netns, to.origAddress), `batctl o on ${n.name}: a route to ${to.origAddress}`);
  assert.not.ok(quarantined(), 'nft: the quarantine released when the agent stopped');

  inNetns(n2.netns, 'tc', 'qdisc', 'del', 'dev', cut.ifname, 'root');
  await waitFor('n1 hears n2 on v1-2 again', () => (heardOnDeaf() ?? Infinity) < 2000, 20_000, 500);
});

test.run();
