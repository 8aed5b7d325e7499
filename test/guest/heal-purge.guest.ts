// Inside the VM, diamond on the real batman-adv: the link n1–n3 dies one way only (netem 100 %
// loss on n3's v3-1: n1 hears nothing from n3, n3 still hears n1), with agents on n1 and n3 and a
// ping n1 → n3 as traffic. v1-3 is not n1's primary interface, so n1's agent must answer the
// dead link with purge-neighbours: v1-3 out of bat0 and back in, never taken down, so that n3
// keeps hearing n1 and does not find the link dead in turn (a down/up on n1 made both ends
// restart their interfaces on the bench's equal diamond). ip monitor, batctl and ping are the
// oracle.
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Agent } from '../../src/agent/agent.ts';
import type { AgentConfig } from '../../src/config/schema.ts';
import { inNetns, loadMesh } from './lib/mesh.ts';
import { countLines, downEdges, ifaceOf, log, neighbourLastSeen, nodeOf, sleep, startHealAgent, waitFor } from './lib/heal-node.ts';

const mesh = loadMesh();
const n1 = nodeOf(mesh, 1);
const n3 = nodeOf(mesh, 3);
const deaf = ifaceOf(mesh, 1, 3); // n1's v1-3: n1 hears nothing here once the fault is on
const cut = ifaceOf(mesh, 3, 1); // n3's v3-1: its egress loses everything
const agents: Agent[] = [];
const stops: (() => void)[] = [];
let pinger: ChildProcess | undefined;

const heardOnDeaf = () => neighbourLastSeen(n1.netns).get(`${deaf.ifname}/${deaf.peerMac}`);
const inBat0 = () => /\bmaster bat0\b/.test(inNetns(n1.netns, 'ip', 'link', 'show', 'dev', deaf.ifname));
const received = (out: string) => Number(/(\d+) received/.exec(out)?.[1] ?? 0);

function ping(count: number): number {
  try {
    return received(inNetns(n1.netns, 'ping', '-n', '-q', '-i', '0.2', '-c', String(count), '-W', '1', '10.99.0.3'));
  } catch (e) {
    return received(String((e as { stdout?: string }).stdout));
  }
}

test.after(async () => {
  pinger?.kill('SIGKILL');
  for (const stop of stops) stop();
  await Promise.allSettled(agents.map((a) => a.stop()));
  try {
    inNetns(n3.netns, 'tc', 'qdisc', 'del', 'dev', cut.ifname, 'root');
  } catch {
    // already lifted
  }
});

test('a link dead one way on a non-primary interface: purged out of bat0 and back, no interface taken down at either end', async () => {
  for (const [n, i] of [[n1, 1], [n3, 3]] as const) inNetns(n.netns, 'ip', 'addr', 'replace', `10.99.0.${i}/24`, 'dev', 'bat0');
  assert.is(mesh.nodes[0]!.origAddress, ifaceOf(mesh, 1, 2).mac, 'n1 primary interface is v1-2, v1-3 is not');
  const configure = (c: AgentConfig) => {
    c.healing.verifyWindowS = 8;
  };
  agents.push(...(await Promise.all([n1, n3].map((n) => startHealAgent(n, { configure })))));
  const downs = [n1, n3].map((n) => countLines(n.netns, ['ip', 'monitor', 'link'], downEdges()));
  stops.push(...downs.map((d) => d.stop));
  await waitFor('n1 routes to n3 over v1-3 and ping answers', () => ping(3) === 3 && heardOnDeaf() !== undefined, 60_000, 500);
  // Traffic the agents watch: 10 pings a second for the whole test.
  pinger = spawn('nsenter', [`--net=/run/netns/${n1.netns}`, 'ping', '-n', '-q', '-i', '0.1', '10.99.0.3'], { stdio: 'ignore' });
  // The links' windows fill and the agents learn their links first.
  await sleep(15_000);
  // (n3's route to n2 churns between the two equal paths: bonding may come, which touches no interface.)
  const onInterfaces = () => agents.map((a) => a.healer!.journal.all().filter((e) => e.target.ifname !== undefined).length);
  assert.equal(onInterfaces(), [0, 0], 'no action on an interface before the fault');

  const faultAt = Date.now();
  inNetns(n3.netns, 'tc', 'qdisc', 'replace', 'dev', cut.ifname, 'root', 'netem', 'loss', '100%');
  const purge = await waitFor('n1 purges v1-3, applied', () => agents[0]!.healer!.journal.all().find((e) => e.action === 'purge-neighbours' && e.state !== 'applying'), 30_000, 100);
  log(`purge #${purge.id} ${((purge.atMs - faultAt) / 1000).toFixed(2)} s after the fault: ${purge.state}; ${purge.reason}`);
  assert.is(purge.finding, 'link-dead');
  assert.equal(purge.target, { ifname: deaf.ifname });
  assert.ok(['verifying', 'kept'].includes(purge.state), `${purge.state}: ${purge.outcome}`);
  assert.ok(inBat0(), `ip: ${deaf.ifname} back in bat0`);
  // n3 is forgotten on v1-3 and stays so while n1 hears nothing from it; n1 reaches n3 via n2 and n4.
  await sleep(1000);
  assert.is(heardOnDeaf(), undefined, `batctl n: n3 not listed on ${deaf.ifname} after the purge`);
  const answered = ping(10);
  log(`after the purge: ${answered}/10 pings n1 → n3 answered; n1 routes: ${inNetns(n1.netns, 'batctl', 'meshif', 'bat0', 'o', '-H').split('\n').filter((l) => l.includes(n3.origAddress) && l.includes('*')).join(' | ')}`);
  assert.ok(answered >= 8, `ping n1 → n3 after the purge: ${answered}/10`);

  // The far end keeps hearing n1 (the way that still works was never interrupted): 20 s more, then lift the fault.
  await sleep(20_000);
  const journals = agents.map((a) => a.healer!.journal.all().map((e) => `${e.action}:${e.target.ifname ?? ''}:${e.state}[${e.finding}]`));
  log(`journals n1, n3: ${JSON.stringify(journals)}; ip monitor downs n1, n3: ${downs.map((d) => d.count())}`);
  assert.equal(downs.map((d) => d.count()), [0, 0], 'ip monitor: no hard interface taken down on n1 or n3');
  for (const j of journals) assert.not.ok(j.some((x) => x.startsWith('restart-interface')), `no restart: ${j}`);
  inNetns(n3.netns, 'tc', 'qdisc', 'del', 'dev', cut.ifname, 'root');
  await waitFor('n1 hears n3 on v1-3 again', () => (heardOnDeaf() ?? Infinity) < 2000, 20_000, 500);
});

test.run();
