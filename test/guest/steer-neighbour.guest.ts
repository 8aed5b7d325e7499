// Inside the VM, on the real batman-adv: the steer-neighbour action on a shared medium. n1 has
// one interface (w1) on a bridge it shares with n2 and n3 (one Wi-Fi channel, three radios);
// n2 and n3 each reach n4 over a link of their own. n1's route to n4 goes via n2 (n3 pays a
// hop penalty). Steering n2 on w1 (nft drops 75 % of n2's OGMs, packet type 0x00, only) must
// move the route to n3 by batman-adv's own choice, while n3 stays a neighbour on the same w1,
// n2 stays heard and reachable (its unicast data frames pass), and revert deletes the chain and
// the route comes back. The step builds this mesh itself (the harness's topologies are
// point-to-point). Kernel, nft and batctl are the oracle.
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { steerNeighbour, steerChain } from '../../src/mapek/actions/steer-neighbour.ts';
import type { ActionContext } from '../../src/mapek/actions/index.ts';
import { NFT_TABLE } from '../../src/mapek/actions/quarantine.ts';
import type { BatmanDriver } from '../../src/mesh/batman/batman-driver.ts';
import { openBatmanDriver } from '../../src/mesh/batman/open-batman-driver.ts';
import { bestRoutes, log, neighbourLastSeen, netnsRunner, sleep, waitFor } from './lib/heal-node.ts';
import { GUEST_TIMEOUT_MS, inNetns } from './lib/mesh.ts';

const ORIG_MS = 200;
const mac = (a: number, b: number) => `02:00:00:00:0${a}:0${b}`;
const W = (n: number) => mac(n, 0); // n's interface on the shared medium
const ipb = (ns: string, lines: string[]) => execFileSync('ip', ['-n', ns, '-batch', '-'], { input: lines.map((l) => `${l}\n`).join(''), stdio: ['pipe', 'pipe', 'pipe'] });

function build(): void {
  execFileSync('ip', ['-batch', '-'], { input: ['n1', 'n2', 'n3', 'n4', 'air'].map((n) => `netns add ${n}\n`).join('') });
  const lines = new Map<string, string[]>([['n1', []], ['n2', []], ['n3', []], ['n4', []]]);
  // The medium: w1, w2, w3 joined by one bridge (a broadcast domain, like a channel).
  for (const n of [1, 2, 3]) lines.get(`n${n}`)!.push(`link add w${n} address ${W(n)} type veth peer name a${n} netns air`);
  // Point-to-point: n2–n4 and n3–n4.
  for (const n of [2, 3]) lines.get(`n${n}`)!.push(`link add p${n}4 address ${mac(n, 4)} type veth peer name p4${n} address ${mac(4, n)} netns n4`);
  for (const [ns, l] of lines) ipb(ns, ['link set lo up', ...l]);
  ipb('air', ['link add br0 type bridge stp_state 0', 'link set a1 master br0', 'link set a2 master br0', 'link set a3 master br0', 'link set a1 up', 'link set a2 up', 'link set a3 up', 'link set br0 up']);
  const ifs: Record<string, string[]> = { n1: ['w1'], n2: ['w2', 'p24'], n3: ['w3', 'p34'], n4: ['p42', 'p43'] };
  for (const [ns, list] of Object.entries(ifs)) {
    ipb(ns, ['link add bat0 type batadv', ...list.flatMap((i) => [`link set ${i} master bat0`, `link set ${i} up`]), 'link set bat0 up', `addr add 10.98.0.${ns[1]}/24 dev bat0`]);
    inNetns(ns, 'batctl', 'meshif', 'bat0', 'orig_interval', String(ORIG_MS));
    inNetns(ns, 'batctl', 'meshif', 'bat0', 'bridge_loop_avoidance', '0');
  }
  // n3's path pays a hop penalty (on both its interfaces, whichever way the kernel applies it):
  // n1 prefers n2 towards n4.
  for (const i of ['w3', 'p34']) inNetns('n3', 'batctl', 'hardif', i, 'hop_penalty', '60');
}

const via = (to: string) => bestRoutes('n1').get(to)?.nextHop ?? null;
const target = { ifname: 'w1', neighbour: W(2) };
let driver: BatmanDriver | undefined;

/** The steering rule's packet counter in n1's namespace; null when the chain is absent. */
function dropped(): number | null {
  let out: string;
  try {
    out = inNetns('n1', 'nft', 'list', 'chain', 'netdev', NFT_TABLE, steerChain(target));
  } catch {
    return null;
  }
  const m = /counter packets (\d+)/.exec(out);
  return m ? Number(m[1]) : null;
}

function pings(to: string, count: number): number {
  try {
    const out = inNetns('n1', 'ping', '-n', '-q', '-i', '0.2', '-c', String(count), '-W', '1', to);
    return Number(/(\d+) received/.exec(out)?.[1] ?? 0);
  } catch (e) {
    return Number(/(\d+) received/.exec(String((e as { stdout?: string }).stdout))?.[1] ?? 0);
  }
}

test.after(async () => {
  await driver?.close();
});

test('steering n2 on the shared w1 moves n1→n4 to n3; n3 stays on w1, n2 stays reachable; revert restores and leaves no chain', async () => {
  build();
  const n4 = mac(4, 2); // n4's originator address: its first interface
  await waitFor('n1 routes to n4 via n2', () => via(n4) === W(2), 90_000, 500);
  // The medium's windows (64 OGMs) fill first; then the route must hold still via n2.
  await sleep(15_000);
  log(`n1's routes to n4 before:\n${inNetns('n1', 'batctl', 'meshif', 'bat0', 'o', '-H').split('\n').filter((l) => l.includes(n4)).join('\n')}`);
  await waitFor('n1→n4 via n2 for 5 s', async () => {
    for (let i = 0; i < 10; i++) {
      if (via(n4) !== W(2)) return false;
      await sleep(500);
    }
    return true;
  }, 60_000, 0);
  driver = await openBatmanDriver({ meshIfname: 'bat0', netns: 'n1', timeoutMs: GUEST_TIMEOUT_MS });
  const ctx: ActionContext = { driver, run: netnsRunner('n1'), baseline: await driver.settings(), sleep: async (ms) => { await sleep(ms); }, fastOrigIntervalMs: 100 };

  const state = await steerNeighbour.prepare(ctx, target);
  const t0 = Date.now();
  await steerNeighbour.apply(ctx, target);
  assert.is(await steerNeighbour.check(ctx, target, state), null, 'the rule reads back');
  const moved = await waitFor('n1→n4 leaves n2', () => (via(n4) === W(3) ? Date.now() - t0 : 0), 60_000, 200);
  const seen = neighbourLastSeen('n1');
  const nDropped = dropped()!;
  log(`route n1→n4 moved to n3 ${(moved / 1000).toFixed(1)} s after the steering (orig_interval ${ORIG_MS} ms); nft dropped ${nDropped} OGM frames; n1 last heard n2 ${seen.get(`w1/${W(2)}`)} ms, n3 ${seen.get(`w1/${W(3)}`)} ms ago`);
  assert.ok(nDropped > 0, 'the rule dropped OGMs');
  // The other neighbour on the same interface stays, and so does the steered one (only some OGMs are dropped).
  assert.ok((seen.get(`w1/${W(3)}`) ?? Infinity) < 2000, `n3 still heard on w1: ${seen.get(`w1/${W(3)}`)}`);
  assert.ok((seen.get(`w1/${W(2)}`) ?? Infinity) < 5000, `n2 still heard on w1: ${seen.get(`w1/${W(2)}`)}`);
  assert.is(bestRoutes('n1').get(W(3))?.nextHop, W(3), 'n1 reaches n3 directly');
  // Data frames (unicast 0x40) are not dropped: n2 answers over the steered link, and n4 over n3.
  const toN2 = pings('10.98.0.2', 20);
  const toN4 = pings('10.98.0.4', 20);
  log(`while steered: ${toN2}/20 pings to n2, ${toN4}/20 to n4; n1→n2 via ${via(W(2))}`);
  assert.ok(toN2 >= 18, `n2 answers while steered: ${toN2}/20`);
  assert.ok(toN4 >= 18, `n4 answers while steered: ${toN4}/20`);

  await steerNeighbour.revert!(ctx, target, state!);
  assert.is(dropped(), null, 'chain gone after revert');
  const r = await ctx.run(['nft', 'list', 'table', 'netdev', NFT_TABLE]);
  assert.not.ok(r.stdout.includes(steerChain(target)), `no steering chain left: ${r.stdout}`);
  const back = await waitFor('n1→n4 back via n2', () => (via(n4) === W(2) ? Date.now() - t0 : 0), 90_000, 250);
  log(`after revert the route came back via n2 (${((back - moved) / 1000).toFixed(1)} s after it had moved)`);
  // Reverting what is already gone is not an error (after a reboot, or twice).
  await steerNeighbour.revert!(ctx, target, state!);
});

test.run();
