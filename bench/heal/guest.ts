// Runs inside the VM (bench/heal/kernel.ts starts it): the diamond n1–n2–n4, n1–n3–n4 on the real
// batman-adv, a continuous ping n1 → n4 over bat0, then 100 % loss (netem) on the link the route
// uses, once with batman-adv alone and once with an agent on every node (one process each, as
// on the routers). Heal = the longest run
// of unanswered pings after the fault. Writes {runs: [...]} to $X0VM_OUT.
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
function netem(on: boolean): void {
  for (const { netns, dev } of linkFaultDevices(mesh, 3, 4)) {
    if (on) inNs(netns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'loss', '100%');
    else {
      try {
        inNs(netns, 'tc', 'qdisc', 'del', 'dev', dev, 'root');
      } catch {
        // not there
      }
    }
  }
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

const runs: { variant: 'agent' | 'batman'; healS: number; lostS: number; answered: number; sent: number; actions: string[]; firstActionS?: number | null; switchS?: { n1: number | null; n4: number | null } }[] = [];
for (let r = 0; r < REPEATS; r++) {
  for (const variant of ['batman', 'agent'] as const) {
    netem(false);
    await settle();
    const agents = variant === 'agent' ? await startAgents() : null;
    // Agents run a while on the mesh before the fault, as on a router (where they run for days):
    // long enough to know which links are clean (analyze.ts, link-late).
    if (agents) await sleep(WARMUP_MS);
    log(`run ${r} ${variant}: n1→n4 via ${nextHop(1, 4)}; fault on n3–n4`);
    let faultAt = 0;
    const res = await ping(WINDOW_MS, 5000, () => {
      faultAt = Date.now();
      netem(true);
    });
    const done = agents ? await agents.stop() : [];
    const actions = done.flatMap((a) => a.journal.map((e) => `${a.name}:${e.action}:${e.state}@+${((e.atMs - faultAt) / 1000).toFixed(2)}s[${e.finding}]: ${e.outcome ?? ''}`));
    const first = done.flatMap((a) => a.journal.filter((e) => e.atMs >= faultAt).map((e) => e.atMs - faultAt));
    // When n1's route to n4 and n4's to n1 left the dead path, as the agents' polls saw it.
    const switched = (a: AgentRun | undefined, to: number) => {
      const t = a?.changes.find((x) => x.originator === node(to).origAddress)?.changes.find((c) => c >= faultAt);
      return t === undefined ? null : Math.round((t - faultAt) / 10) / 100;
    };
    const switchS = { n1: switched(done[0], 4), n4: switched(done[3], 1) };
    const firstActionS = first.length ? Math.round(Math.min(...first) / 10) / 100 : null;
    runs.push({ variant, healS: res.lostRunS, lostS: res.lostS, answered: res.answered, sent: res.sent, actions, firstActionS, switchS });
    log(`run ${r} ${variant}: heal ${res.lostRunS} s, lost ${res.lostS} s, ${res.answered}/${res.sent} answered, first action +${firstActionS} s, routes switched ${JSON.stringify(switchS)}; ${actions.join(', ')}`);
  }
}
// A flapping link: n3–n4 down 4 s, up 4 s, for the whole window. Lost ping seconds in total.
const FLAP_WINDOW_MS = 64_000;
const flaps: typeof runs = [];
for (const variant of ['batman', 'agent'] as const) {
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
  flaps.push({ variant, healS: res.lostRunS, lostS: res.lostS, answered: res.answered, sent: res.sent, actions: leftover ? [...actions, 'LEFTOVER nft chain'] : actions });
  log(`flapping ${variant}: lost ${res.lostS} s (longest gap ${res.lostRunS} s), ${res.answered}/${res.sent}; ${actions.join(', ')}${leftover ? ' LEFTOVER' : ''}`);
}
netem(false);
writeFileSync(process.env.X0VM_OUT!, JSON.stringify({ runs, flaps, kernel: sh(['uname', '-r']).trim() }));
