// Runs inside the VM (bench/heal/kernel.ts starts it): the diamond n1–n2–n4, n1–n3–n4 on the real
// batman-adv, a continuous ping n1 → n4 over bat0, then a fault (netem in the medium) on the path
// the route uses: the far link n3–n4 or the near link n1–n3 dies at once, or fades (loss
// 0 → 100 % in 10 % steps over 20 s, then dead). Each with batman-adv alone (1 s OGMs), with
// batman-adv alone on the agent's fast OGM interval all the time (batman_tuned), and with an
// agent on every node (one process each, as on the routers). Heal = the longest run of
// unanswered pings after the fault; lost = all unanswered pings. OGM airtime: nft counters on
// every node's hard interfaces (ingress, batman-adv packet type 0x00) over the whole run, per node
// per second. Writes {runs, flaps, healthy} to $X0VM_OUT.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Agent } from '../../src/agent/agent.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { defaultConfig } from '../../src/config/index.ts';
import { openBatmanDriver } from '../../src/mesh/batman/open-batman-driver.ts';
import type { JournalEntry } from '../../src/mapek/journal.ts';
import { linkFaultDevices, type MeshInfoFile } from '../../scripts/vm/topology.ts';

const PING_INTERVAL_S = 0.1;
const WINDOW_MS = 40_000;
const FADE_WINDOW_MS = 50_000;
const FAST_ORIG_MS = defaultConfig().healing.fastOrigIntervalS * 1000;
/** Seconds of the healthy run per variant (X0_HEAL_HEALTHY_S; 0: none). */
const HEALTHY_S = Number(process.env.X0_HEAL_HEALTHY_S ?? 0);
const REPEATS = Number(process.env.X0_HEAL_REPEATS ?? 3);
const WARMUP_MS = 35_000;
const log = (m: string) => process.stderr.write(`heal-guest: ${m}\n`);
const sh = (argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns: string, ...argv: string[]) => sh(['ip', 'netns', 'exec', ns, ...argv]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const mesh = JSON.parse(readFileSync(process.env.X0VM_MESH!, 'utf8')) as MeshInfoFile;
const node = (n: number) => mesh.nodes[n - 1]!;
const iface = (a: number, b: number) => node(a).ifaces.find((i) => i.peer === node(b).name)!.ifname;

if (process.env.X0_HEAL_ROLE === 'agent') {
  const agent = await startOne(Number(process.env.X0_HEAL_NODE));
  process.on('SIGTERM', () => {
    void agent.stop().finally(() => {
      const run: AgentRun = { name: agent.name, journal: [...agent.healer!.journal.all()], changes: agent.knowledge.routeChanges(0) };
      writeFileSync(process.env.X0_HEAL_OUT!, JSON.stringify(run));
      process.exit(0);
    });
  });
  process.stdout.write('ready\n');
  await new Promise(() => {});
}

for (let i = 1; i <= 4; i++) {
  inNs(node(i).netns, 'ip', 'addr', 'replace', `10.99.0.${i}/24`, 'dev', 'bat0');
  inNs(node(i).netns, 'ip', 'link', 'set', 'bat0', 'up');
}

// Unequal paths, as in the field (two exactly equal paths switch within an OGM by batman-adv's tie
// rule): the n2 path pays a hop penalty, so traffic takes n1–n3–n4, and the fault hits n3–n4,
// a link that is neither end's primary interface (restarting a primary would change the node's
// originator address).
for (const [a, b] of [[1, 2], [4, 2]] as const) inNs(node(a).netns, 'batctl', 'hardif', iface(a, b), 'hop_penalty', '60');

// The fault: n3–n4 loses everything in the medium between them (kernel.ts builds the mesh with
// one), so n3 and n4 still count what they send, as radios whose link died do.
function netem(on: boolean, link: readonly [number, number] = [3, 4], lossPct = 100): void {
  for (const { netns, dev } of linkFaultDevices(mesh, link[0], link[1])) {
    if (on) inNs(netns, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'netem', 'loss', `${lossPct}%`);
    else {
      try {
        inNs(netns, 'tc', 'qdisc', 'del', 'dev', dev, 'root');
      } catch {
        // not there
      }
    }
  }
}

/** An nft counter of received BATMAN_IV OGM frames on every hard interface of every node (table x0bench). */
function countOgms(): void {
  for (let i = 1; i <= 4; i++) {
    const lines = ['add table netdev x0bench'];
    for (const f of node(i).ifaces) {
      lines.push(`add chain netdev x0bench c-${f.ifname} { type filter hook ingress device "${f.ifname}" priority -600; policy accept; }`,
        `flush chain netdev x0bench c-${f.ifname}`, `add rule netdev x0bench c-${f.ifname} ether type 0x4305 @ll,112,8 0 counter`);
    }
    execFileSync('ip', ['netns', 'exec', node(i).netns, 'nft', '-f', '-'], { input: lines.join('\n') + '\n' });
  }
}

/** OGM frames and bytes received so far, summed over all nodes (each frame on a point-to-point link is received once). */
function ogmTotals(): { frames: number; bytes: number; atMs: number } {
  let frames = 0;
  let bytes = 0;
  for (let i = 1; i <= 4; i++) {
    for (const m of inNs(node(i).netns, 'nft', 'list', 'table', 'netdev', 'x0bench').matchAll(/counter packets (\d+) bytes (\d+)/g)) {
      frames += Number(m[1]);
      bytes += Number(m[2]);
    }
  }
  return { frames, bytes, atMs: Date.now() };
}

const perNode = (a: ReturnType<typeof ogmTotals>, b: ReturnType<typeof ogmTotals>) => {
  const s = (b.atMs - a.atMs) / 1000;
  return { ogmFps: Math.round(((b.frames - a.frames) / s / 4) * 100) / 100, ogmBps: Math.round((b.bytes - a.bytes) / s / 4) };
};

function origInterval(ms: number): void {
  for (let i = 1; i <= 4; i++) inNs(node(i).netns, 'batctl', 'meshif', 'bat0', 'orig_interval', String(ms));
}

function nextHop(from: number, to: number): string {
  const table = inNs(node(from).netns, 'batctl', 'meshif', 'bat0', 'o', '-H');
  // " * <originator> <last-seen>s (<tq>) <next hop> [<iface>]"
  for (const l of table.split('\n')) {
    const m = /\*\s+(\S+)\s+\S+\s+\(\s*\d+\)\s+(\S+)/.exec(l);
    if (m && m[1] === node(to).origAddress) return m[2]!;
  }
  return '?';
}

/** Pings n1 → n4 for durationMs; returns per-seq answered flags and the index of the fault. */
function ping(durationMs: number, faultAtMs: number, fault: () => void): Promise<{ lostRunS: number; lostS: number; answered: number; sent: number }> {
  return new Promise((resolve) => {
    const count = Math.round(durationMs / 1000 / PING_INTERVAL_S);
    const p = spawn('ip', ['netns', 'exec', node(1).netns, 'ping', '-n', '-i', String(PING_INTERVAL_S), '-c', String(count), '-W', '1', '10.99.0.4']);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(fault, faultAtMs);
    p.on('close', () => {
      clearTimeout(timer);
      const ok = new Set<number>();
      for (const m of out.matchAll(/icmp_seq=(\d+)/g)) ok.add(Number(m[1]));
      const faultSeq = Math.floor(faultAtMs / 1000 / PING_INTERVAL_S);
      let run = 0;
      let worst = 0;
      let lost = 0;
      for (let s = faultSeq; s <= count; s++) {
        if (ok.has(s)) run = 0;
        else {
          run++;
          lost++;
          worst = Math.max(worst, run);
        }
      }
      resolve({ lostRunS: Math.round(worst * PING_INTERVAL_S * 10) / 10, lostS: Math.round(lost * PING_INTERVAL_S * 10) / 10, answered: ok.size, sent: count });
    });
  });
}

async function startOne(i: number): Promise<Agent> {
  const config = defaultConfig();
  config.agent.nodeName = node(i).name;
  config.healing.bootGraceS = 0;
  config.healing.startupJitterS = 0;
  // This process runs inside the node's namespace (startAgents): netlink, ip, nft and
  // /sys/class/net counters are the node's own, as on a router.
  const driver = await openBatmanDriver({ meshIfname: 'bat0', timeoutMs: 20_000 });
  const agent = createAgent({
    config, configSource: 'bench', driver, log: createLogger('info', (l) => log(`${node(i).name} ${l}`)), serveStatus: false,
    journalPath: null,
  });
  await agent.start();
  return agent;
}

/** What an agent process reports when it is stopped. */
interface AgentRun {
  name: string;
  journal: JournalEntry[];
  changes: { originator: string; changes: number[] }[];
}

/**
 * One process per agent, as on the routers (each its own event loop): this file again with
 * X0_HEAL_ROLE=agent. stop() sends SIGTERM; the agent stops (undoing temporary changes) and
 * writes its journal and route changes.
 */
async function startAgents(): Promise<{ stop(): Promise<AgentRun[]> }> {
  const procs = await Promise.all([1, 2, 3, 4].map(async (i) => {
    const out = `/tmp/heal-agent-${i}.json`;
    // `ip netns exec` also mounts the namespace's /sys (the agent's interface counters); it
    // execs node, so the signal in stop() reaches the agent itself.
    const p = spawn('ip', ['netns', 'exec', node(i).netns, process.execPath, ...process.execArgv, process.argv[1]!], {
      env: { ...process.env, X0_HEAL_ROLE: 'agent', X0_HEAL_NODE: String(i), X0_HEAL_OUT: out }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      p.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('ready')) resolve();
      });
      p.on('exit', (c) => reject(new Error(`agent ${i} exited ${c} before it was ready`)));
    });
    return { p, out, exited: new Promise((r) => p.on('exit', r)) };
  }));
  return {
    async stop() {
      for (const x of procs) x.p.kill('SIGTERM');
      await Promise.all(procs.map((x) => x.exited));
      return procs.map((x) => JSON.parse(readFileSync(x.out, 'utf8')) as AgentRun);
    },
  };
}

async function settle(): Promise<void> {
  // Long enough for every ring of the previous run to refill and the penalised path to lose again.
  for (let t = 0; t < 60; t++) {
    if (nextHop(1, 4) === node(3).ifaces.find((x) => x.peer === 'n1')!.mac && nextHop(4, 1) === node(3).ifaces.find((x) => x.peer === 'n4')!.mac) return;
    await sleep(1000);
  }
  log(`not settled on the n3 path: n1→n4 via ${nextHop(1, 4)}, n4→n1 via ${nextHop(4, 1)}`);
}

type Scenario = 'far-link' | 'near-link' | 'fade';
type Variant = 'batman' | 'batman_tuned' | 'agent';
interface Run { scenario: Scenario; variant: Variant; healS: number; lostS: number; answered: number; sent: number; actions: string[]; firstActionS?: number | null; switchS?: { n1: number | null; n4: number | null }; ogmFps?: number; ogmBps?: number; leadS?: number | null }
const SCENARIOS: Scenario[] = ['far-link', 'near-link', 'fade'];
const VARIANTS: Variant[] = ['batman', 'batman_tuned', 'agent'];
const only = process.env.X0_HEAL_SCENARIOS?.split(',');
countOgms();
const runs: Run[] = [];
for (let r = 0; r < REPEATS; r++) {
  for (const scenario of SCENARIOS.filter((x) => !only || only.includes(x))) {
    // far: n3–n4 (neither end's primary interface); near and fade: n1–n3, the pinging node's own next hop.
    const link = scenario === 'far-link' ? ([3, 4] as const) : ([1, 3] as const);
    for (const variant of VARIANTS) {
      netem(false, [3, 4]);
      netem(false, [1, 3]);
      origInterval(variant === 'batman_tuned' ? FAST_ORIG_MS : 1000);
      await settle();
      const agents = variant === 'agent' ? await startAgents() : null;
      // Agents run a while on the mesh before the fault, as on a router (where they run for days):
      // long enough to know which links are clean (analyze.ts, link-late).
      if (agents) await sleep(WARMUP_MS);
      log(`run ${r} ${scenario} ${variant}: n1→n4 via ${nextHop(1, 4)}; fault on n${link[0]}–n${link[1]}`);
      let faultAt = 0;
      const steps: NodeJS.Timeout[] = [];
      const before = ogmTotals();
      const res = await ping(scenario === 'fade' ? FADE_WINDOW_MS : WINDOW_MS, 5000, () => {
        faultAt = Date.now();
        if (scenario !== 'fade') return netem(true, link);
        // 10 % more loss every 2 s: 10 % at once … 100 % at 18 s, dead from 20 s on.
        for (let k = 1; k <= 10; k++) steps.push(setTimeout(() => netem(true, link, Math.min(100, k * 10)), (k - 1) * 2000));
      });
      const after = ogmTotals();
      for (const t of steps) clearTimeout(t);
      const done = agents ? await agents.stop() : [];
      const actions = done.flatMap((a) => a.journal.map((e) => `${a.name}:${e.action}:${e.state}@+${((e.atMs - faultAt) / 1000).toFixed(2)}s[${e.finding}]: ${e.outcome ?? ''}`));
      const first = done.flatMap((a) => a.journal.filter((e) => e.atMs >= faultAt).map((e) => e.atMs - faultAt));
      const steers = done.flatMap((a) => a.journal.filter((e) => e.action === 'steer-neighbour' && e.atMs >= faultAt).map((e) => e.atMs - faultAt));
      // When n1's route to n4 and n4's to n1 left the dead path, as the agents' polls saw it.
      const switched = (a: AgentRun | undefined, to: number) => {
        const t = a?.changes.find((x) => x.originator === node(to).origAddress)?.changes.find((c) => c >= faultAt);
        return t === undefined ? null : Math.round((t - faultAt) / 10) / 100;
      };
      const switchS = { n1: switched(done[0], 4), n4: switched(done[3], 1) };
      const firstActionS = first.length ? Math.round(Math.min(...first) / 10) / 100 : null;
      const leadS = scenario === 'fade' && steers.length ? Math.round((20_000 - Math.min(...steers)) / 10) / 100 : null;
      runs.push({ scenario, variant, healS: res.lostRunS, lostS: res.lostS, answered: res.answered, sent: res.sent, actions, firstActionS, switchS, ...perNode(before, after), leadS });
      log(`run ${r} ${scenario} ${variant}: heal ${res.lostRunS} s, lost ${res.lostS} s, ${res.answered}/${res.sent} answered, OGM ${JSON.stringify(perNode(before, after))}, first action +${firstActionS} s, routes switched ${JSON.stringify(switchS)}; ${actions.join(', ')}`);
    }
  }
}
netem(false, [1, 3]);
origInterval(1000);
// A flapping link: n3–n4 down 4 s, up 4 s, for the whole window. Lost ping seconds in total.
const FLAP_WINDOW_MS = 64_000;
const flaps: Run[] = [];
for (const variant of process.env.X0_HEAL_FLAPS === '0' ? [] : (['batman', 'agent'] as const)) {
  netem(false);
  await settle();
  const agents = variant === 'agent' ? await startAgents() : null;
  if (agents) await sleep(WARMUP_MS);
  let down = false;
  let timer: NodeJS.Timeout | undefined;
  const res = await ping(FLAP_WINDOW_MS, 4000, () => {
    const toggle = () => {
      down = !down;
      netem(down);
    };
    toggle();
    timer = setInterval(toggle, 4000);
  });
  clearInterval(timer);
  netem(false);
  // Stopping the agents releases their quarantines (nft chains deleted): checked below.
  const done = agents ? await agents.stop() : [];
  const actions = done.flatMap((a) => a.journal.map((e) => `${a.name}:${e.action}:${e.state}: ${e.outcome ?? ''}`));
  const leftover = [3, 4].map((i) => inNs(node(i).netns, 'nft', 'list', 'ruleset')).join('').includes('q-v');
  flaps.push({ scenario: 'far-link', variant, healS: res.lostRunS, lostS: res.lostS, answered: res.answered, sent: res.sent, actions: leftover ? [...actions, 'LEFTOVER nft chain'] : actions });
  log(`flapping ${variant}: lost ${res.lostS} s (longest gap ${res.lostRunS} s), ${res.answered}/${res.sent}; ${actions.join(', ')}${leftover ? ' LEFTOVER' : ''}`);
}
netem(false);
// Healthy: no fault, 10 % loss in the medium on every link (lossy but alive), HEALTHY_S seconds per
// variant: OGM airtime, and the agents' actions (every one a false alarm; steer-neighbour counted apart).
const healthy: { variant: Variant; seconds: number; ogmFps: number; ogmBps: number; actions: string[]; steers: number }[] = [];
// X0_HEAL_HEALTHY_VARIANTS=agent narrows the healthy run (e.g. to re-measure false alarms alone).
const healthyOnly = process.env.X0_HEAL_HEALTHY_VARIANTS?.split(',');
for (const variant of HEALTHY_S > 0 ? VARIANTS.filter((v) => !healthyOnly || healthyOnly.includes(v)) : []) {
  origInterval(variant === 'batman_tuned' ? FAST_ORIG_MS : 1000);
  for (const l of mesh.topology.links) netem(true, l, 10);
  await sleep(5000);
  const agents = variant === 'agent' ? await startAgents() : null;
  const before = ogmTotals();
  await sleep(HEALTHY_S * 1000);
  const after = ogmTotals();
  const done = agents ? await agents.stop() : [];
  for (const l of mesh.topology.links) netem(false, l);
  const entries = done.flatMap((a) => a.journal.map((e) => ({ name: a.name, e })));
  healthy.push({ variant, seconds: HEALTHY_S, ...perNode(before, after), actions: entries.map(({ name, e }) => `${name}:${e.action}:${e.state}[${e.finding}]`), steers: entries.filter((x) => x.e.action === 'steer-neighbour').length });
  log(`healthy ${variant} ${HEALTHY_S} s: OGM ${JSON.stringify(perNode(before, after))}; ${entries.length} actions: ${entries.map(({ name, e }) => `${name}:${e.action}[${e.finding}]`).join(', ')}`);
}
origInterval(1000);
writeFileSync(process.env.X0VM_OUT!, JSON.stringify({ runs, flaps, healthy, kernel: sh(['uname', '-r']).trim() }));
