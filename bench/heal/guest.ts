// Runs inside the VM (bench/heal/kernel.ts starts it): the diamond n1–n2–n4, n1–n3–n4 on the real
// batman-adv, a continuous ping n1 → n4 over bat0, then a fault (netem in the medium) on the path
// the route uses at that moment: its far link (next hop–n4) or near link (n1–next hop) dies at
// once, or the near link fades (loss 0 → 100 % in 10 % steps over 20 s, then dead), or the far
// link flaps (4 s down, 4 s up). The matrix, each axis narrowed by an environment variable:
// - diamond (X0_HEAL_DIAMONDS=unequal,equal; default unequal): `unequal` gives the n2 path a hop
//   penalty (TQ about 222 vs 170), so traffic takes n3; `equal` leaves both paths alike and
//   batman-adv picks either;
// - direction (X0_HEAL_DIRECTIONS=both,out,in; default both): the fault loses frames both ways,
//   only those leaving the faulted link's end nearer n1 (`out`), or only those towards it (`in`);
//   an `in` fault is put on the path the replies take (n4's route back to n1), an `out` or
//   both-ways one on the path the requests take: on the equal diamond the two may differ, and a
//   one-way fault off the path its direction uses would measure nothing;
// - scenario (X0_HEAL_SCENARIOS=far-link,near-link,fade,flapping; flapping also unless
//   X0_HEAL_FLAPS=0, as before);
// - variant (X0_HEAL_VARIANTS; VARIANT_SPECS below): batman-adv alone (1 s OGMs), batman-adv
//   alone on the agent's fast OGM interval all the time (batman_tuned), an agent on every node
//   (one process each, as on the routers).
// X0_HEAL_REPEATS repeats the whole selected matrix. Heal = the longest run of unanswered pings
// after the fault; lost = all unanswered pings. OGM airtime: nft counters on every node's hard
// interfaces (ingress, batman-adv packet type 0x00) over the whole run, per node per second.
// Writes {runs, healthy, kernel, complete} to $X0VM_OUT after every run (a run that dies half-way
// still leaves what finished) and one line per run to stderr and the VM console (seen live).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { defaultConfig, type AgentConfig } from '../../src/config/index.ts';
import { linkFaultDevices, type MeshInfoFile } from '../../scripts/vm/topology.ts';
import { LOSS_RATED_MS, serveAgentRole, startAgents, type AgentRun } from './agent-processes.ts';
import { pingWindow } from './ping-window.ts';

/** The link echo's UDP port (healing.link_echo_port): the bench counts its frames as airtime. */
const ECHO_PORT = defaultConfig().healing.linkEchoPort;

const WINDOW_MS = 40_000;
const FADE_WINDOW_MS = 50_000;
const FLAP_WINDOW_MS = 64_000;
const FAST_ORIG_MS = defaultConfig().healing.fastOrigIntervalS * 1000;
/** Seconds of the healthy run per variant (X0_HEAL_HEALTHY_S; 0: none). */
const HEALTHY_S = Number(process.env.X0_HEAL_HEALTHY_S ?? 0);
const REPEATS = Number(process.env.X0_HEAL_REPEATS ?? 3);
const WARMUP_MS = 35_000;
/** On the equal diamond: the two paths' TQs (at n1 towards n4, at n4 towards n1) this close count as settled. */
const EQUAL_TQ_TOLERANCE = 15;
const log = (m: string) => process.stderr.write(`heal-guest: ${m}\n`);
/** A result line: also to the VM console, which the host prints as it arrives (survives a VM killed at its deadline). */
function say(m: string): void {
  log(m);
  try {
    // ASCII only: the serial console splits multi-byte characters.
    writeFileSync('/dev/console', `heal-guest: ${m.replace(/→/g, '->').replace(/–/g, '-').replace(/[^\x20-\x7e]/g, '?')}\n`, { flag: 'a' });
  } catch {
    // no console (not in the VM): stderr has it
  }
}
const sh = (argv: string[], input?: string) => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
const inNs = (ns: string, ...argv: string[]) => sh(['ip', 'netns', 'exec', ns, ...argv]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The variants: the OGM interval batman-adv runs on, and whether an agent runs on every node
 * (`agents`: null for none, else what that variant changes in the agent's default config). One
 * more agent variant is one more name here and one more entry below.
 */
const VARIANTS = ['batman', 'batman_tuned', 'agent', 'agent_learned'] as const;
type Variant = (typeof VARIANTS)[number];
interface VariantSpec {
  origIntervalMs: number;
  agents: null | ((config: AgentConfig) => void);
}
const VARIANT_SPECS: Record<Variant, VariantSpec> = {
  batman: { origIntervalMs: 1000, agents: null },
  batman_tuned: { origIntervalMs: FAST_ORIG_MS, agents: null },
  agent: { origIntervalMs: 1000, agents: () => {} },
  // Learning on (local only, no federation), starting from the seed trained on kernel traces
  // (bench/heal/link-model.json, its path from kernel.ts in X0_HEAL_MODEL).
  agent_learned: {
    origIntervalMs: 1000,
    agents: (c) => {
      c.learning.enabled = true;
      c.learning.initialModel = process.env.X0_HEAL_MODEL ?? '';
    },
  },
};

const SCENARIOS = ['far-link', 'near-link', 'fade', 'flapping'] as const;
type Scenario = (typeof SCENARIOS)[number];
const DIAMONDS = ['unequal', 'equal'] as const;
type Diamond = (typeof DIAMONDS)[number];
const DIRECTIONS = ['both', 'out', 'in'] as const;
type Direction = (typeof DIRECTIONS)[number];

/** A comma list from the environment, each value checked against the allowed ones. */
function envList<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): T[] {
  const v = process.env[name];
  if (!v) return [...fallback];
  const xs = v.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = xs.filter((x) => !(allowed as readonly string[]).includes(x));
  if (bad.length) throw new Error(`${name}: unknown ${bad.join(', ')} (allowed: ${allowed.join(', ')})`);
  return xs as T[];
}

const mesh = JSON.parse(readFileSync(process.env.X0VM_MESH!, 'utf8')) as MeshInfoFile;
const node = (n: number) => mesh.nodes[n - 1]!;
/** The four nodes, for their agent processes (agent-processes.ts). */
const benchNodes = [1, 2, 3, 4].map((i) => ({ name: node(i).name, netns: node(i).netns }));
const iface = (a: number, b: number) => node(a).ifaces.find((i) => i.peer === node(b).name)!.ifname;
/** The node (1-based) one of whose interfaces has this MAC, or null. */
const nodeOfMac = (mac: string) => {
  const i = mesh.nodes.findIndex((n) => n.ifaces.some((f) => f.mac === mac));
  return i < 0 ? null : i + 1;
};

if (process.env.X0_HEAL_ROLE === 'agent') {
  const spec = VARIANT_SPECS[process.env.X0_HEAL_VARIANT as Variant];
  if (!spec?.agents) throw new Error(`X0_HEAL_VARIANT=${process.env.X0_HEAL_VARIANT}: not an agent variant`);
  await serveAgentRole(spec.agents, log);
}

for (let i = 1; i <= 4; i++) {
  inNs(node(i).netns, 'ip', 'addr', 'replace', `10.99.0.${i}/24`, 'dev', 'bat0');
  inNs(node(i).netns, 'ip', 'link', 'set', 'bat0', 'up');
}

// The unequal diamond, as in the field (two exactly equal paths switch within an OGM by
// batman-adv's tie rule): the n2 path pays a hop penalty on n1's and n4's interfaces to n2, so
// traffic takes n1–n3–n4. The equal diamond puts those interfaces back on batman-adv's default,
// read here before anything changed it.
const PENALISED = [[1, 2], [4, 2]] as const;
const defaultPenalty = PENALISED.map(([a, b]) => {
  const out = inNs(node(a).netns, 'batctl', 'hardif', iface(a, b), 'hop_penalty').trim();
  if (!/^\d+$/.test(out)) throw new Error(`batctl hardif ${iface(a, b)} hop_penalty printed '${out}', not a number`);
  return out;
});
function useDiamond(d: Diamond): void {
  PENALISED.forEach(([a, b], k) => inNs(node(a).netns, 'batctl', 'hardif', iface(a, b), 'hop_penalty', d === 'unequal' ? '60' : defaultPenalty[k]!));
}

// Faults are netem qdiscs in the medium (kernel.ts builds the mesh with one): the nodes still
// count what they send, as radios whose link died do. Each link's medium has one device facing
// each node; a qdisc there loses what travels towards that node, so one device loses one direction.
type Device = { netns: string; dev: string };
/** link: [the end nearer n1, the other end]. */
function faultDevices(link: readonly [number, number], dir: Direction): Device[] {
  const [towardsNear, towardsFar] = linkFaultDevices(mesh, link[0], link[1]);
  return dir === 'both' ? [towardsNear!, towardsFar!] : dir === 'out' ? [towardsFar!] : [towardsNear!];
}
const allDevices = () => mesh.topology.links.flatMap((l) => faultDevices(l, 'both'));

/** One tc exec per namespace (each exec costs ~0.2 s under TCG): a fade step must be quick. */
function setLoss(devs: Device[], lossPct: number): void {
  for (const ns of new Set(devs.map((d) => d.netns))) {
    sh(['ip', 'netns', 'exec', ns, 'tc', '-batch', '-'], devs.filter((d) => d.netns === ns).map((d) => `qdisc replace dev ${d.dev} root netem loss ${lossPct}%\n`).join(''));
  }
}
function clearLoss(devs: Device[] = allDevices()): void {
  for (const ns of new Set(devs.map((d) => d.netns))) {
    try {
      // -force: go on past devices that have no qdisc (tc then exits 1, which is fine here).
      sh(['ip', 'netns', 'exec', ns, 'tc', '-force', '-batch', '-'], devs.filter((d) => d.netns === ns).map((d) => `qdisc del dev ${d.dev} root\n`).join(''));
    } catch {
      // some were not there
    }
  }
}

/** An nft counter of received BATMAN_IV OGM frames on every hard interface of every node (table x0bench). */
function countOgms(): void {
  for (let i = 1; i <= 4; i++) {
    const lines = ['add table netdev x0bench'];
    for (const f of node(i).ifaces) {
      lines.push(`add chain netdev x0bench c-${f.ifname} { type filter hook ingress device "${f.ifname}" priority -600; policy accept; }`,
        `flush chain netdev x0bench c-${f.ifname}`, `add rule netdev x0bench c-${f.ifname} ether type 0x4305 @ll,112,8 0 counter`,
        // The link echo's requests and replies, and the neighbour discovery they need: its airtime.
        `add rule netdev x0bench c-${f.ifname} ether type ip6 udp dport ${ECHO_PORT} counter`, `add rule netdev x0bench c-${f.ifname} ether type ip6 udp sport ${ECHO_PORT} counter`,
        `add rule netdev x0bench c-${f.ifname} ether type ip6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } counter`);
    }
    execFileSync('ip', ['netns', 'exec', node(i).netns, 'nft', '-f', '-'], { input: lines.join('\n') + '\n' });
  }
}

/** OGM frames and bytes, and link echo frames, received so far, summed over all nodes (each frame on a point-to-point link is received once). */
function ogmTotals(): { frames: number; bytes: number; echoFrames: number; atMs: number } {
  let frames = 0;
  let bytes = 0;
  let echoFrames = 0;
  for (let i = 1; i <= 4; i++) {
    for (const m of inNs(node(i).netns, 'nft', 'list', 'table', 'netdev', 'x0bench').matchAll(/^(.*) counter packets (\d+) bytes (\d+)/gm)) {
      if (/0x4305|@ll,112,8/.test(m[1]!)) {
        frames += Number(m[2]);
        bytes += Number(m[3]);
      } else echoFrames += Number(m[2]);
    }
  }
  return { frames, bytes, echoFrames, atMs: Date.now() };
}

const perNode = (a: ReturnType<typeof ogmTotals>, b: ReturnType<typeof ogmTotals>) => {
  const s = (b.atMs - a.atMs) / 1000;
  return { ogmFps: Math.round(((b.frames - a.frames) / s / 4) * 100) / 100, ogmBps: Math.round((b.bytes - a.bytes) / s / 4), echoFps: Math.round(((b.echoFrames - a.echoFrames) / s / 4) * 1000) / 1000 };
};

function origInterval(ms: number): void {
  for (let i = 1; i <= 4; i++) inNs(node(i).netns, 'batctl', 'meshif', 'bat0', 'orig_interval', String(ms));
}

/** The routes node `from` knows towards node `to`: one per neighbour it heard `to` through, the best marked. */
function routes(from: number, to: number): { best: boolean; tq: number; via: number | null }[] {
  let table: string;
  try {
    table = inNs(node(from).netns, 'batctl', 'meshif', 'bat0', 'o', '-H');
  } catch {
    return []; // batctl fails now and then under load: "no route known" for this poll
  }
  // "[*] <originator> <last-seen>s (<tq>) <next hop> [<iface>]"
  const out: { best: boolean; tq: number; via: number | null }[] = [];
  for (const l of table.split('\n')) {
    const m = /^\s*(\*)?\s*(\S+)\s+\S+\s+\(\s*(\d+)\)\s+(\S+)/.exec(l);
    if (m && m[2] === node(to).origAddress) out.push({ best: m[1] === '*', tq: Number(m[3]), via: nodeOfMac(m[4]!) });
  }
  return out;
}
/** The middle node n1's (or n4's) best route to the other end goes through, or null. */
const via = (from: number, to: number) => routes(from, to).find((r) => r.best)?.via ?? null;

/**
 * Waits until the previous run's fault has worn off; returns what it saw, for the log.
 * unequal: until both ends route over n3 again (every ring refilled enough for the penalised
 * path to lose), at most 60 s. equal: until both ends hear the other over both middle nodes with
 * TQs within EQUAL_TQ_TOLERANCE (the faulted path has recovered: 45–60 s after a fade), and for
 * up to 10 s after that was first seen until both ends use the same middle node (batman-adv keeps
 * a route on a tie, so an asymmetric pair may never resolve by itself); at most 90 s in all.
 * Which path each end uses at the fault is chance on the equal diamond: each run records it.
 */
async function settle(diamond: Diamond): Promise<string> {
  const t0 = Date.now();
  const show = (both = [routes(1, 4), routes(4, 1)]) => both.map((rs) => rs.map((r) => `${r.best ? '*' : ''}n${r.via}:${r.tq}`).join('/')).join(' | ');
  let close = -1;
  // A link that was dead for half a minute needs about that long again before its windows refill.
  const capMs = diamond === 'unequal' ? 60_000 : 90_000;
  while (Date.now() - t0 < capMs) {
    if (diamond === 'unequal') {
      if (via(1, 4) === 3 && via(4, 1) === 3) return `on n3 after ${Math.round((Date.now() - t0) / 1000)} s`;
    } else {
      const [a, b] = [routes(1, 4), routes(4, 1)];
      const near = (rs: typeof a) => rs.length === 2 && Math.abs(rs[0]!.tq - rs[1]!.tq) <= EQUAL_TQ_TOLERANCE;
      if (near(a) && near(b)) {
        if (close < 0) close = Date.now();
        const sym = a.find((r) => r.best)?.via === b.find((r) => r.best)?.via;
        if (sym || Date.now() - close >= 10_000) return `${sym ? 'symmetric' : 'ASYMMETRIC'} after ${Math.round((Date.now() - t0) / 1000)} s (${show([a, b])})`;
      }
    }
    await sleep(1000);
  }
  const s = `NOT settled after ${capMs / 1000} s (n1→n4, n4→n1: ${show()})`;
  log(s);
  return s;
}

/** The row name: today's names for the unequal diamond with faults both ways. */
const BASE: Record<Scenario, string> = { 'far-link': 'dead-link', 'near-link': 'near-link', fade: 'fade', flapping: 'flapping-neighbour' };
const caseName = (d: Diamond, s: Scenario, dir: Direction) => `kernel/${d === 'equal' ? 'equal/' : ''}${BASE[s]}${dir === 'both' ? '' : `/${dir}`}`;

interface Run {
  case: string; repeat: number; diamond: Diamond; scenario: Scenario; direction: Direction; variant: Variant;
  /** The faulted link, "n1–n3" (the end nearer n1 first), and how settled the mesh was before. */
  link: string; settled: string;
  /** The middle node n4's route back to n1 took just after the fault (on the equal diamond it may differ from the path out). */
  back: string;
  healS: number; lostS: number; answered: number; sent: number; actions: string[]; firstActionS: number | null;
  switchS: { n1: number | null; n4: number | null }; ogmFps: number; ogmBps: number; echoFps: number; leadS: number | null;
  /** Wall seconds of the whole run (settling, warm-up, window, stopping the agents). */
  seconds: number;
}

async function runOne(repeat: number, diamond: Diamond, scenario: Scenario, direction: Direction, variant: Variant): Promise<Run> {
  const started = Date.now();
  const spec = VARIANT_SPECS[variant];
  const name = caseName(diamond, scenario, direction);
  clearLoss();
  origInterval(spec.origIntervalMs);
  const settled = await settle(diamond);
  const agents = spec.agents ? await startAgents(benchNodes, variant) : null;
  // Agents run a while on the mesh before the fault, as on a router (where they run for days):
  // long enough to know which links are clean (analyze.ts, link-late).
  if (agents) await sleep(WARMUP_MS);
  let faultAt = 0;
  let link: readonly [number, number] = [0, 0];
  let back = '?';
  const timers: NodeJS.Timeout[] = [];
  const faultErrors: string[] = [];
  const before = ogmTotals();
  const windowMs = scenario === 'fade' ? FADE_WINDOW_MS : scenario === 'flapping' ? FLAP_WINDOW_MS : WINDOW_MS;
  const res = await pingWindow(['ip', 'netns', 'exec', node(1).netns], '10.99.0.4', windowMs, scenario === 'flapping' ? 4000 : 5000, () => {
    // The middle node of the path the faulted direction carries right now: the replies' (n4 → n1)
    // for `in`, else the requests' (on the equal diamond either middle node; n3 if none is known).
    const hop = (direction === 'in' ? via(4, 1) : via(1, 4)) ?? 3;
    link = scenario === 'near-link' || scenario === 'fade' ? [1, hop] : [hop, 4];
    const devs = faultDevices(link, direction);
    // A tc that fails under load must not kill the whole matrix: the run says so instead.
    const apply = (f: () => void) => {
      try {
        f();
      } catch (e) {
        faultErrors.push((e as Error).message.split('\n')[0]!);
      }
    };
    faultAt = Date.now();
    if (scenario === 'fade') {
      // 10 % more loss every 2 s: 10 % at once … 100 % at 18 s, dead from 20 s on.
      for (let k = 1; k <= 10; k++) timers.push(setTimeout(() => apply(() => setLoss(devs, Math.min(100, k * 10))), (k - 1) * 2000));
    } else if (scenario === 'flapping') {
      // Down 4 s, up 4 s, for the whole window.
      let down = false;
      const toggle = () => {
        down = !down;
        apply(() => (down ? setLoss(devs, 100) : clearLoss(devs)));
      };
      toggle();
      timers.push(setInterval(toggle, 4000));
    } else apply(() => setLoss(devs, 100));
    // Read after the fault is on (each batctl exec takes a while): batman-adv moves no route within that.
    back = `n${via(4, 1)}`;
  });
  const after = ogmTotals();
  for (const t of timers) clearTimeout(t);
  clearLoss();
  // Stopping the agents releases their quarantines and steering (nft chains deleted): checked below.
  const done = agents ? await agents.stop() : [];
  const actions = done.flatMap((a) => a.journal.map((e) => `${a.name}:${e.action}:${e.state}@+${((e.atMs - faultAt) / 1000).toFixed(2)}s[${e.finding}]: ${e.outcome ?? ''}`));
  for (const e of faultErrors) actions.push(`FAULT NOT APPLIED: ${e}`);
  if (agents) {
    const leftover = [1, 2, 3, 4].map((i) => inNs(node(i).netns, 'nft', 'list', 'ruleset')).join('');
    if (/chain [qs]-v/.test(leftover)) actions.push('LEFTOVER nft chain');
  }
  const first = done.flatMap((a) => a.journal.filter((e) => e.atMs >= faultAt).map((e) => e.atMs - faultAt));
  const steers = done.flatMap((a) => a.journal.filter((e) => e.action === 'steer-neighbour' && e.atMs >= faultAt).map((e) => e.atMs - faultAt));
  // When n1's route to n4 and n4's to n1 left the faulted path, as the agents' polls saw it.
  const switched = (a: AgentRun | undefined, to: number) => {
    const t = a?.changes.find((x) => x.originator === node(to).origAddress)?.changes.find((c) => c >= faultAt);
    return t === undefined ? null : Math.round((t - faultAt) / 10) / 100;
  };
  const run: Run = {
    case: name, repeat, diamond, scenario, direction, variant, link: `n${link[0]}–n${link[1]}`, settled, back,
    healS: res.lostRunS, lostS: res.lostS, answered: res.answered, sent: res.sent, actions,
    firstActionS: first.length ? Math.round(Math.min(...first) / 10) / 100 : null,
    switchS: { n1: switched(done[0], 4), n4: switched(done[3], 1) },
    ...perNode(before, after),
    leadS: scenario === 'fade' && steers.length ? Math.round((20_000 - Math.min(...steers)) / 10) / 100 : null,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  say(`run ${repeat} ${name} ${variant}: fault on ${run.link} (${direction}, back via ${back}), heal ${run.healS} s, lost ${run.lostS} s, ${run.answered}/${run.sent} answered, OGM ${JSON.stringify(perNode(before, after))}, first action +${run.firstActionS} s, routes switched ${JSON.stringify(run.switchS)}, ${run.seconds} s wall; settled ${settled}`);
  if (actions.length) log(`run ${repeat} ${name} ${variant} actions: ${actions.join(', ')}`);
  return run;
}

const diamonds = envList('X0_HEAL_DIAMONDS', DIAMONDS, ['unequal']);
const directions = envList('X0_HEAL_DIRECTIONS', DIRECTIONS, ['both']);
// agent_learned only when asked for (X0_HEAL_VARIANTS): it needs its own warm-up reasoning (docs/heal.md).
const variants = envList('X0_HEAL_VARIANTS', VARIANTS, ['batman', 'batman_tuned', 'agent']);
// Flapping runs unless X0_HEAL_FLAPS=0, whatever X0_HEAL_SCENARIOS lists (as before this matrix).
const scenarios: Scenario[] = envList('X0_HEAL_SCENARIOS', SCENARIOS, ['far-link', 'near-link', 'fade']).filter((s) => s !== 'flapping');
if (process.env.X0_HEAL_FLAPS !== '0') scenarios.push('flapping');

interface Healthy { variant: Variant; seconds: number; ogmFps: number; ogmBps: number; echoFps: number; actions: string[]; steers: number; evidence: string[] }
const runs: Run[] = [];
const healthy: Healthy[] = [];
const kernelRelease = sh(['uname', '-r']).trim();
const write = (complete: boolean) => writeFileSync(process.env.X0VM_OUT!, JSON.stringify({ runs, healthy, kernel: kernelRelease, complete }));

/**
 * batman-adv's TQs keep rising for about a minute after the mesh forms (its 64-OGM windows fill):
 * the first run waits until n1's best TQ towards n4 stops rising, at most 70 s.
 */
async function warmUpMesh(): Promise<void> {
  const t0 = Date.now();
  let last = -1;
  let tq = 0;
  while (Date.now() - t0 < 70_000) {
    tq = Math.max(0, ...routes(1, 4).map((r) => r.tq));
    if (last >= 0 && tq - last < 3) break;
    last = tq;
    await sleep(5000);
  }
  say(`mesh warmed up after ${Math.round((Date.now() - t0) / 1000)} s: n1's best TQ towards n4 ${tq}`);
}

countOgms();
await warmUpMesh();
for (let r = 0; r < REPEATS; r++) {
  for (const diamond of diamonds) {
    useDiamond(diamond);
    for (const scenario of scenarios) {
      for (const direction of directions) {
        for (const variant of variants) {
          runs.push(await runOne(r, diamond, scenario, direction, variant));
          write(false);
        }
      }
    }
  }
}
clearLoss();
// Healthy: no fault, 10 % loss in the medium on every link (lossy but alive), HEALTHY_S seconds per
// variant, on the unequal diamond: OGM airtime, and the agents' actions (every one a false alarm;
// steer-neighbour counted apart). X0_HEAL_HEALTHY_VARIANTS narrows it (e.g. to re-measure false alarms alone).
const healthyVariants = envList('X0_HEAL_HEALTHY_VARIANTS', VARIANTS, variants);
useDiamond('unequal');
for (const variant of HEALTHY_S > 0 ? healthyVariants : []) {
  const spec = VARIANT_SPECS[variant];
  origInterval(spec.origIntervalMs);
  setLoss(allDevices(), 10);
  await sleep(spec.agents ? LOSS_RATED_MS : 5000);
  const agents = spec.agents ? await startAgents(benchNodes, variant) : null;
  const before = ogmTotals();
  const startedAt = Date.now();
  await sleep(HEALTHY_S * 1000);
  const after = ogmTotals();
  const done = agents ? await agents.stop() : [];
  clearLoss();
  const entries = done.flatMap((a) => a.journal.map((e) => ({ name: a.name, e })));
  healthy.push({ variant, seconds: HEALTHY_S, ...perNode(before, after), actions: entries.map(({ name, e }) => `${name}:${e.action}:${e.state}[${e.finding}]`), steers: entries.filter((x) => x.e.action === 'steer-neighbour').length,
    // Every action here is a false alarm: what the agent saw, to tell which rule fired.
    evidence: entries.map(({ name, e }) => `${name}:${e.action}@+${((e.atMs - startedAt) / 1000).toFixed(1)}s[${e.finding}] ${e.reason} ${JSON.stringify(e.evidence)}`) });
  say(`healthy ${variant} ${HEALTHY_S} s: OGM ${JSON.stringify(perNode(before, after))}; ${entries.length} actions: ${entries.map(({ name, e }) => `${name}:${e.action}[${e.finding}]`).join(', ')}`);
  write(false);
}
origInterval(1000);
write(true);
