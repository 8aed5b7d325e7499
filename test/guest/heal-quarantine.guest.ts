// Inside the VM, diamond on the real batman-adv: n3 flaps its link to n4 (ip link down/up every
// 3 s). The agent on n4 must quarantine n3 on v4-3: an nftables netdev chain in n4's namespace
// whose counter rises with n3's batman-adv frames (ethertype 0x4305) while the link is up, and
// batctl on n4 stops hearing n3 there. After the quarantine time the chain is gone and n3 is
// heard on v4-3 again.
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Agent } from '../../src/agent/agent.ts';
import { quarantineChain } from '../../src/mapek/actions/quarantine.ts';
import { inNetns, loadMesh } from './lib/mesh.ts';
import { ifaceOf, log, neighbourLastSeen, nodeOf, sleep, startHealAgent, waitFor } from './lib/heal-node.ts';

const mesh = loadMesh();
const n3 = nodeOf(mesh, 3);
const n4 = nodeOf(mesh, 4);
const link = ifaceOf(mesh, 4, 3); // n4's v4-3; its peer is n3's v3-4
const QUARANTINE_S = 15;
const chain = quarantineChain({ ifname: link.ifname, neighbour: link.peerMac });
let agent: Agent | undefined;
let flapper: ReturnType<typeof spawn> | undefined;

/** The quarantine rule's packet counter, read with nft in n4's namespace; null when the chain is absent. */
function dropped(): number | null {
  let out: string;
  try {
    out = inNetns(n4.netns, 'nft', '-j', 'list', 'chain', 'netdev', 'x0tta6bl4', chain);
  } catch {
    return null;
  }
  const doc = JSON.parse(out) as { nftables: { rule?: { expr: Record<string, unknown>[] } }[] };
  const rule = doc.nftables.find((x) => x.rule)?.rule;
  if (!rule) return null;
  const text = JSON.stringify(rule.expr);
  // The rule matches n3's source MAC and batman-adv's ethertype and drops it.
  if (!text.includes(link.peerMac) || !/"drop"/.test(text) || !(text.includes('0x4305') || text.includes('17157'))) throw new Error(`unexpected rule ${text}`);
  const counter = rule.expr.find((e) => 'counter' in e) as { counter: { packets: number } } | undefined;
  return counter?.counter.packets ?? null;
}

const heard = () => neighbourLastSeen(n4.netns).get(`${link.ifname}/${link.peerMac}`) ?? Infinity;

test.after(async () => {
  flapper?.kill('SIGKILL');
  inNetns(n3.netns, 'ip', 'link', 'set', 'dev', link.peerIfname, 'up');
  await agent?.stop();
});

test('a flapping neighbour is quarantined (nft drops its 0x4305 frames), then released after the quarantine time', async () => {
  agent = await startHealAgent(n4, { configure: (c) => {
    c.healing.verifyWindowS = 8;
    c.healing.quarantineS = QUARANTINE_S;
  } });
  await sleep(3000);
  assert.is(dropped(), null, 'no quarantine before the flapping');
  assert.ok(heard() < 2000, `n3 heard on ${link.ifname}`);
  // n3's side of the link goes down 3 s and up 3 s until the quarantine comes (at most ten times).
  flapper = spawn('nsenter', [`--net=/run/netns/${n3.netns}`, 'sh', '-c',
    `for i in 1 2 3 4 5 6 7 8 9 10; do ip link set dev ${link.peerIfname} down; sleep 3; ip link set dev ${link.peerIfname} up; sleep 3; done`], { stdio: 'ignore' });

  // Journalled before it is applied: wait until the nft rule is in (the entry left 'applying').
  const q = await waitFor('a quarantine of n3 on v4-3, applied', () => agent!.healer!.journal.all().find((e) => e.action === 'quarantine' && e.state !== 'applying'), 60_000, 250);
  // From here the link stays up: whatever n4 does not hear of n3 now is the quarantine's doing.
  flapper.kill('SIGKILL');
  inNetns(n3.netns, 'ip', 'link', 'set', 'dev', link.peerIfname, 'up');
  log(`quarantine #${q.id}: ${q.reason}`);
  assert.is(q.finding, 'neighbour-flapping');
  assert.equal(q.target, { ifname: link.ifname, neighbour: link.peerMac });
  assert.ok(Number(q.evidence.outages) >= 3, JSON.stringify(q.evidence));
  assert.not.equal(dropped(), null, 'nft: the chain is in n4 namespace');

  // With the link up, n3 keeps sending; the rule drops it and batman-adv on n4 stops hearing n3 there.
  const firstCount = dropped()!;
  await sleep(4000);
  const laterCount = dropped();
  const silentFor = heard();
  log(`nft counter ${firstCount} → ${laterCount}; batctl n: n3 on ${link.ifname} last seen ${silentFor} ms ago; entry ${q.state}: ${q.outcome}`);
  assert.ok(laterCount !== null && laterCount > firstCount, `dropped packets rise: ${firstCount} → ${laterCount}`);
  assert.ok(silentFor > 3000, `batctl: n3 not heard on ${link.ifname} while quarantined (${silentFor} ms)`);
  assert.ok(['verifying', 'holding'].includes(q.state), `${q.state}: ${q.outcome}`);

  await waitFor('the release', () => q.state !== 'verifying' && q.state !== 'holding', (8 + QUARANTINE_S + 30) * 1000, 500);
  log(`quarantine #${q.id}: ${q.state} after ${((q.updatedMs - q.atMs) / 1000).toFixed(1)} s: ${q.outcome}`);
  assert.is(q.state, 'restored', q.outcome ?? '');
  assert.match(q.outcome ?? '', 'hold ended');
  assert.ok((q.updatedMs - q.atMs) / 1000 >= QUARANTINE_S, 'held for the quarantine time');
  assert.is(dropped(), null, 'nft: the chain is gone');
  await waitFor('n3 heard again on v4-3', () => heard() < 2000, 15_000, 500);
  // The cool-down keeps it from being quarantined again at once for the same old outages.
  await sleep(3000);
  assert.is(agent.healer!.journal.all().filter((e) => e.action === 'quarantine').length, 1);
  assert.is(dropped(), null);
});

test.run();
