// Runs inside the VM (bench/heal/wifi.ts starts it, as a step with no mesh built): the heal
// bench's diamond n1–n2–n4, n1–n3–n4 on real mac80211 radios (mac80211_hwsim, one per node
// namespace, 802.11s mesh point NOHT on 2412 MHz with mesh forwarding off, bat0 on top) through
// the test bed's radio medium (test/guest/lib/hwsim-medium.ts) in a process of its own. A 10/s
// ping n1 → n4 over bat0, then a fault on the path in use: the near link (n1–next hop) fades
// (loss 0 → 1 and -55 → -95 dBm linearly over 20 s, both ways, then dead: `fade`) or dies at once
// (`near-link`), or the far link (next hop–n4) dies at once (`far-link`). Unlike the veth bench,
// mac80211 sees the fade: unicast retries and fails, the signal falls, per station.
// Environment as guest.ts: X0_HEAL_SCENARIOS (fade,near-link,far-link), X0_HEAL_VARIANTS
// (batman, batman_tuned, agent), X0_HEAL_REPEATS, X0_HEAL_HEALTHY_S, X0_HEAL_HEALTHY_VARIANTS.
// Measures as guest.ts does (heal = longest ping gap after the fault, lost = all unanswered ping
// time, OGM and link-echo frames from nft ingress counters, the agents' journals), plus the
// faulted link's nearer end's station statistics for the other end once a second, the medium's
// frame counts, and once the ping RTT of a radio hop with and without the medium (its cost).
// Writes {runs, healthy, kernel, complete, radio} to $X0VM_OUT after every run.
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { defaultConfig, type AgentConfig } from '../../src/config/index.ts';
import { openBridge, type BridgeTransport } from '../../src/netlink/bridge-transport.ts';
import { Nl80211Client } from '../../src/netlink/nl80211-client.ts';
import { HwsimMediumClient, serveHwsimMedium } from '../../test/guest/lib/hwsim-medium-process.ts';
import type { MediumStats, PathState } from '../../test/guest/lib/hwsim-medium.ts';
import { LOSS_RATED_MS, serveAgentRole, startAgents, type AgentRun } from './agent-processes.ts';
import { pingWindow } from './ping-window.ts';

const ECHO_PORT = defaultConfig().healing.linkEchoPort;
const FAST_ORIG_MS = defaultConfig().healing.fastOrigIntervalS * 1000;
const FAULT_AT_MS = 5000;
const WINDOW_MS = 40_000;
const FADE_WINDOW_MS = 50_000;
const FADE_S = 20;
const WARMUP_MS = 35_000;
const HEALTHY_S = Number(process.env.X0_HEAL_HEALTHY_S ?? 0);
const REPEATS = Number(process.env.X0_HEAL_REPEATS ?? 3);
/**
 * n2's mesh-wide hop penalty (batman-adv's default 30), so both ends prefer n3. With one radio
 * per node an interface penalty would hit both neighbours on it alike. On Wi-Fi batman-adv
 * charges a forwarder its penalty twice (once more for sending on the interface it heard on:
 * half duplex), so 60 gives TQ about 147 vs 194 at n1 (measured), the veth diamond's ratio (170 vs 222).
 */
const N2_HOP_PENALTY = 60;
const CLEAN: PathState = { loss: 0, signalDbm: -55 };
const FADED: PathState = { loss: 1, signalDbm: -95 };
const OUT_OF_RANGE: PathState = { loss: 1, signalDbm: -100 };
/** The healthy run's links: lossy but alive, at a steady, middling signal. */
const HEALTHY_LINK: PathState = { loss: 0.1, signalDbm: -70 };
const IN_RANGE = [[1, 2], [1, 3], [2, 4], [3, 4]] as const;
const APART = [[1, 4], [2, 3]] as const;

const VARIANTS = ['batman', 'batman_tuned', 'agent'] as const;
type Variant = (typeof VARIANTS)[number];
const VARIANT_SPECS: Record<Variant, { origIntervalMs: number; agents: null | ((c: AgentConfig) => void) }> = {
  batman: { origIntervalMs: 1000, agents: null },
  batman_tuned: { origIntervalMs: FAST_ORIG_MS, agents: null },
  agent: { origIntervalMs: 1000, agents: () => {} },
};
const SCENARIOS = ['fade', 'near-link', 'far-link'] as const;
type Scenario = (typeof SCENARIOS)[number];

const log = (m: string) => process.stderr.write(`wifi-heal: ${m}\n`);
/** A result line: also to the VM console, which the host prints as it arrives. */
function say(m: string): void {
  log(m);
  try {
    writeFileSync('/dev/console', `wifi-heal: ${m.replace(/→/g, '->').replace(/–/g, '-').replace(/[^\x20-\x7e]/g, '?')}\n`, { flag: 'a' });
  } catch {
    // not in the VM: stderr has it
  }
}

// Roles: this script again as one node's agent, or as the radio medium (its own event loop).
if (process.env.X0_HEAL_ROLE === 'agent') {
  const spec = VARIANT_SPECS[process.env.X0_HEAL_VARIANT as Variant];
  if (!spec?.agents) throw new Error(`X0_HEAL_VARIANT=${process.env.X0_HEAL_VARIANT}: not an agent variant`);
  await serveAgentRole(spec.agents, log);
}
if (process.env.X0_HEAL_ROLE === 'medium') {
  await serveHwsimMedium(process.argv.slice(2));
  process.exit(0);
}

function envList<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): T[] {
  const v = process.env[name];
  if (!v) return [...fallback];
  const xs = v.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = xs.filter((x) => !(allowed as readonly string[]).includes(x));
  if (bad.length) throw new Error(`${name}: unknown ${bad.join(', ')} (allowed: ${allowed.join(', ')})`);
  return xs as T[];
}

// A guest that locks up (seen once here: both CPUs spinning in softirq for good) panics after
// ~20 s with every CPU's stack on the console (warnings and worse shown), and the VM ends,
// instead of spinning out its whole budget; the host then reads the runs that finished from $X0VM_OUT.
for (const [k, v] of [['kernel/softlockup_panic', '1'], ['kernel/softlockup_all_cpu_backtrace', '1'], ['kernel/printk', '5']] as const) {
  try {
    writeFileSync(`/proc/sys/${k}`, v);
  } catch {
    // not in the VM
  }
}

const sh = (argv: string[], input?: string) => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
/** nsenter joins only the network namespace: cheaper under TCG than `ip netns exec` (agents use that, for /sys). */
const inNs = (ns: string, ...argv: string[]) => sh(['nsenter', `--net=/run/netns/${ns}`, ...argv]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Radio { node: number; name: string; netns: string; phy: string; ifname: string; mac: string; ifindex: number }

/** hwsim's radios, one per namespace n1..n4, each a mesh point interface (not yet joined). */
function buildRadios(): Radio[] {
  sh(['modprobe', 'mac80211_hwsim', 'radios=4']);
  const phys = readdirSync('/sys/class/ieee80211').sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  if (phys.length !== 4) throw new Error(`hwsim made ${phys.length} radios, expected 4`);
  return phys.map((phy, i) => {
    const ifname = readdirSync(`/sys/class/ieee80211/${phy}/device/net`)[0]!;
    const mac = sh(['cat', `/sys/class/net/${ifname}/address`]).trim();
    const name = `n${i + 1}`;
    sh(['ip', 'netns', 'add', name]);
    sh(['iw', 'phy', phy, 'set', 'netns', 'name', name]);
    inNs(name, 'ip', 'link', 'set', 'lo', 'up');
    inNs(name, 'iw', 'dev', ifname, 'set', 'type', 'mp');
    inNs(name, 'ip', 'link', 'set', ifname, 'up');
    const ifindex = Number(/^(\d+):/.exec(inNs(name, 'ip', '-o', 'link', 'show', 'dev', ifname))?.[1]);
    return { node: i + 1, name, netns: name, phy, ifname, mac, ifindex };
  });
}

function joinMesh(r: Radio): void {
  // NOHT: with HT, minstrel_ht aggregates, and mac80211 counts no retries for aggregated frames
  // whose status the medium reports frame by frame (wifi-stations.guest.ts).
  inNs(r.netns, 'iw', 'dev', r.ifname, 'mesh', 'join', 'x0mesh', 'freq', '2412', 'NOHT');
  // batman-adv routes: 802.11s forwarding off, as on OpenWrt's batman-adv meshes.
  inNs(r.netns, 'iw', 'dev', r.ifname, 'set', 'mesh_param', 'mesh_fwding', '0');
}

const radios = buildRadios();
const radio = (n: number) => radios[n - 1]!;
const nodeOfMac = (mac: string) => radios.find((r) => r.mac === mac)?.node ?? null;
log(`radios: ${radios.map((r) => `${r.name}/${r.ifname} ${r.mac}`).join(', ')}`);

/** Round-trip times of `count` pings, ms; null when none came back. */
async function rtt(from: Radio, argv: string[], count = 20): Promise<{ minMs: number; avgMs: number; maxMs: number; answered: number; sent: number } | null> {
  const out = await new Promise<string>((resolve) => execFile('nsenter', [`--net=/run/netns/${from.netns}`, 'ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '2', ...argv], (_e, stdout) => resolve(stdout)));
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(out);
  const got = /(\d+) packets transmitted, (\d+) received/.exec(out);
  return m ? { minMs: Number(m[1]), avgMs: Number(m[2]), maxMs: Number(m[3]), answered: Number(got?.[2] ?? 0), sent: Number(got?.[1] ?? count) } : null;
}

/** Pings `to`'s IPv6 link-local address on the radio itself (no batman-adv), once the peers answer. */
async function radioRtt(from: Radio, to: Radio): Promise<Awaited<ReturnType<typeof rtt>>> {
  const ll = /inet6 (fe80::[0-9a-f:]+)\//.exec(inNs(to.netns, 'ip', '-6', '-o', 'addr', 'show', 'dev', to.ifname, 'scope', 'link'))?.[1];
  if (!ll) throw new Error(`${to.name}/${to.ifname} has no IPv6 link-local address`);
  const target = ['-6', '-I', from.ifname, ll];
  // Peering (open mesh), DAD and the first path discovery take a few seconds under TCG.
  for (let i = 0; i < 60; i++) {
    if ((await rtt(from, target, 1))?.answered) break;
    await sleep(1000);
  }
  return rtt(from, target);
}

// The medium's cost per frame: the radio hop n1–n2 first on hwsim's own in-kernel medium (every
// radio hears every other), then through ours. Leaving the mesh purges those stations, so
// batman-adv never sees the all-in-range layout.
for (const r of radios) joinMesh(r);
const rttNoMedium = await radioRtt(radio(1), radio(2));
for (const r of radios) inNs(r.netns, 'iw', 'dev', r.ifname, 'mesh', 'leave');
say(`radio n1->n2 without the medium: ${JSON.stringify(rttNoMedium)}`);

const medium = await HwsimMediumClient.start(radios.map((r) => r.mac), {
  command: [process.execPath, ...process.execArgv, process.argv[1]!], env: { ...process.env, X0_HEAL_ROLE: 'medium' },
});
let mediumClosing = false;
void medium.exited.then(() => mediumClosing || say('THE MEDIUM PROCESS EXITED: every frame is lost from now on'));
/** Every in-range pair to `state`, the others out of range. */
async function setLinks(state: PathState): Promise<void> {
  for (const [a, b] of IN_RANGE) await medium.set(radio(a).mac, radio(b).mac, state);
  for (const [a, b] of APART) await medium.set(radio(a).mac, radio(b).mac, OUT_OF_RANGE);
}
await setLinks(CLEAN);
for (const r of radios) joinMesh(r);

// batman-adv on the radios (BATMAN_IV for new bat interfaces, as the VM runner sets it).
writeFileSync('/sys/module/batman_adv/parameters/routing_algo', 'BATMAN_IV');
for (const r of radios) {
  sh(['ip', '-n', r.netns, '-batch', '-'], ['link add bat0 type batadv', `link set ${r.ifname} master bat0`, 'link set bat0 up', `addr add 10.99.0.${r.node}/24 dev bat0`].join('\n') + '\n');
  inNs(r.netns, 'batctl', 'meshif', 'bat0', 'bridge_loop_avoidance', '0');
}
inNs(radio(2).netns, 'batctl', 'meshif', 'bat0', 'hop_penalty', String(N2_HOP_PENALTY));
const rttMedium = await radioRtt(radio(1), radio(2));
say(`radio n1->n2 through the medium: ${JSON.stringify(rttMedium)}`);

/** nft counters on every radio interface: received BATMAN_IV OGMs, and the link echo's frames. */
function countOgms(): void {
  for (const r of radios) {
    const c = `c-${r.ifname}`;
    const lines = ['add table netdev x0bench', `add chain netdev x0bench ${c} { type filter hook ingress device "${r.ifname}" priority -600; policy accept; }`, `flush chain netdev x0bench ${c}`,
      `add rule netdev x0bench ${c} ether type 0x4305 @ll,112,8 0 counter`,
      `add rule netdev x0bench ${c} ether type ip6 udp dport ${ECHO_PORT} counter`, `add rule netdev x0bench ${c} ether type ip6 udp sport ${ECHO_PORT} counter`,
      `add rule netdev x0bench ${c} ether type ip6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } counter`];
    sh(['nsenter', `--net=/run/netns/${r.netns}`, 'nft', '-f', '-'], lines.join('\n') + '\n');
  }
}
function ogmTotals(): { frames: number; bytes: number; echoFrames: number; atMs: number } {
  let frames = 0;
  let bytes = 0;
  let echoFrames = 0;
  for (const r of radios) {
    for (const m of inNs(r.netns, 'nft', 'list', 'table', 'netdev', 'x0bench').matchAll(/^(.*) counter packets (\d+) bytes (\d+)/gm)) {
      if (/0x4305|@ll,112,8/.test(m[1]!)) {
        frames += Number(m[2]);
        bytes += Number(m[3]);
      } else echoFrames += Number(m[2]);
    }
  }
  return { frames, bytes, echoFrames, atMs: Date.now() };
}
/** Per node per second. A broadcast OGM is received by each radio in range: two here, as on the veth diamond. */
const perNode = (a: ReturnType<typeof ogmTotals>, b: ReturnType<typeof ogmTotals>) => {
  const s = (b.atMs - a.atMs) / 1000;
  return { ogmFps: Math.round(((b.frames - a.frames) / s / 4) * 100) / 100, ogmBps: Math.round((b.bytes - a.bytes) / s / 4), echoFps: Math.round(((b.echoFrames - a.echoFrames) / s / 4) * 1000) / 1000 };
};

function origInterval(ms: number): void {
  for (const r of radios) inNs(r.netns, 'batctl', 'meshif', 'bat0', 'orig_interval', String(ms));
}

function routes(from: number, to: number): { best: boolean; tq: number; via: number | null }[] {
  let table: string;
  try {
    table = inNs(radio(from).netns, 'batctl', 'meshif', 'bat0', 'o', '-H');
  } catch {
    return []; // batctl fails now and then under load: "no route known" for this poll
  }
  const out: { best: boolean; tq: number; via: number | null }[] = [];
  for (const l of table.split('\n')) {
    const m = /^\s*(\*)?\s*(\S+)\s+\S+\s+\(\s*(\d+)\)\s+(\S+)/.exec(l);
    if (m && m[2] === radio(to).mac) out.push({ best: m[1] === '*', tq: Number(m[3]), via: nodeOfMac(m[4]!) });
  }
  return out;
}
const via = (from: number, to: number) => routes(from, to).find((r) => r.best)?.via ?? null;
const showRoutes = () => [routes(1, 4), routes(4, 1)].map((rs) => rs.map((r) => `${r.best ? '*' : ''}n${r.via}:${r.tq}`).join('/')).join(' | ');

/** n1's station statistics, one reading per namespace's nl80211 (a bridge each, opened once). */
const nl = new Map<string, { bridge: BridgeTransport; client: Nl80211Client }>();
for (const r of radios) {
  const bridge = await openBridge({ protocol: 'generic', families: ['nl80211'], netns: r.netns });
  nl.set(r.netns, { bridge, client: await Nl80211Client.open(bridge, { timeoutMs: 20_000, portId: () => bridge.ready.portId }) });
}
/** [s since the fault, signal, signal avg, tx packets, tx retries, tx failed, inactive ms] of `at`'s station `peer`; null when gone. */
async function stationSample(at: Radio, peer: Radio, t0: number): Promise<(number | null)[] | null> {
  try {
    const s = (await nl.get(at.netns)!.client.stations(at.ifindex)).find((x) => x.mac === peer.mac);
    return s ? [Math.round((Date.now() - t0) / 100) / 10, s.signalDbm, s.signalAvgDbm, s.txPackets, s.txRetries, s.txFailed, s.inactiveMs] : null;
  } catch {
    return null;
  }
}

/** Until both ends route over n3 again (every ring refilled enough for n2's path to lose), at most 60 s. */
async function settle(): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000) {
    if (via(1, 4) === 3 && via(4, 1) === 3) return `on n3 after ${Math.round((Date.now() - t0) / 1000)} s`;
    await sleep(1000);
  }
  const s = `NOT settled after 60 s (n1→n4, n4→n1: ${showRoutes()})`;
  log(s);
  return s;
}

/** Until both ends have a route to each other and n1's best TQ stops rising (batman-adv's windows fill), at most 150 s. */
async function warmUpMesh(): Promise<string> {
  const t0 = Date.now();
  let last = -1;
  let tq = 0;
  while (Date.now() - t0 < 150_000) {
    await sleep(5000);
    if (via(1, 4) === null || via(4, 1) === null) continue;
    tq = Math.max(0, ...routes(1, 4).map((r) => r.tq));
    if (last >= 0 && tq - last < 3) break;
    last = tq;
  }
  const s = `mesh warmed up after ${Math.round((Date.now() - t0) / 1000)} s: routes n1→n4 | n4→n1 ${showRoutes()}`;
  say(s);
  return s;
}

const mediumStats = async (): Promise<MediumStats & { atMs: number }> => ({ ...(await medium.stats()).stats, atMs: Date.now() });
/** Frames through the medium (beacons, OGMs, data, management; all radios) per second, unicast frames delivered and acknowledged, and frames lost to a slow medium. */
const mediumRate = (a: MediumStats & { atMs: number }, b: MediumStats & { atMs: number }) => ({
  framesPerS: Math.round(((b.frames - a.frames) / ((b.atMs - a.atMs) / 1000)) * 10) / 10,
  unicastDelivered: b.delivered - a.delivered, unicastAcked: b.acked - a.acked, overruns: b.overruns - a.overruns,
});

interface JournalLine { node: string; action: string; state: string; atS: number; finding: string; reason: string; evidence: unknown; outcome: string | null }
const journalOf = (done: AgentRun[], t0: number): JournalLine[] => done.flatMap((a) => a.journal.map((e) => ({
  node: a.name, action: e.action, state: e.state, atS: Math.round((e.atMs - t0) / 10) / 100, finding: e.finding, reason: e.reason, evidence: e.evidence, outcome: e.outcome,
})));

interface Run {
  case: string; repeat: number; diamond: 'unequal'; direction: 'both'; scenario: Scenario; variant: Variant;
  /** The faulted link, "n1–n3" (the end nearer n1 first), and how settled the mesh was before. */
  link: string; settled: string;
  /** The middle node n4's route back to n1 took just after the fault. */
  back: string;
  healS: number; lostS: number; answered: number; sent: number; actions: string[]; journal: JournalLine[]; firstActionS: number | null;
  switchS: { n1: number | null; n4: number | null }; ogmFps: number; ogmBps: number; echoFps: number; leadS: number | null;
  /** The faulted link's nearer end's station statistics for the other end, about once a second from the fault on (stationColumns). */
  station: { of: string; samples: (number | null)[][] };
  medium: ReturnType<typeof mediumRate>;
  seconds: number;
}

async function runOne(repeat: number, scenario: Scenario, variant: Variant): Promise<Run> {
  const started = Date.now();
  const spec = VARIANT_SPECS[variant];
  await setLinks(CLEAN);
  origInterval(spec.origIntervalMs);
  const settled = await settle();
  const agents = spec.agents ? await startAgents(radios, variant) : null;
  // Agents run a while on the mesh before the fault, as on a router (they run for days there).
  if (agents) await sleep(WARMUP_MS);
  let faultAt = 0;
  let link: [number, number] = [0, 0];
  let back = '?';
  const faultErrors: string[] = [];
  const samples: (number | null)[][] = [];
  let sampling: NodeJS.Timeout | undefined;
  let applied: Promise<void> = Promise.resolve();
  const before = ogmTotals();
  const mediumBefore = await mediumStats();
  const windowMs = scenario === 'fade' ? FADE_WINDOW_MS : WINDOW_MS;
  const res = await pingWindow(['nsenter', `--net=/run/netns/${radio(1).netns}`], '10.99.0.4', windowMs, FAULT_AT_MS, () => {
    const hop = via(1, 4) ?? 3;
    link = scenario === 'far-link' ? [hop, 4] : [1, hop];
    const [a, b] = [radio(link[0]), radio(link[1])];
    faultAt = Date.now();
    applied = (scenario === 'fade' ? medium.ramp(a.mac, b.mac, CLEAN, FADED, FADE_S) : medium.set(a.mac, b.mac, OUT_OF_RANGE))
      .then((r) => void (faultAt = r.atMs), (e: Error) => void faultErrors.push(e.message));
    const sample = () => void stationSample(a, b, faultAt).then((s) => s && samples.push(s));
    sample();
    sampling = setInterval(sample, 1000);
    // Read after the fault is on (each batctl exec takes a while): batman-adv moves no route within that.
    back = `n${via(4, 1)}`;
  });
  clearInterval(sampling);
  await applied;
  const after = ogmTotals();
  const mediumAfter = await mediumStats();
  await setLinks(CLEAN);
  const done = agents ? await agents.stop() : [];
  const journal = journalOf(done, faultAt);
  const actions = journal.map((e) => `${e.node}:${e.action}:${e.state}@+${e.atS.toFixed(2)}s[${e.finding}]: ${e.outcome ?? ''}`);
  for (const e of faultErrors) actions.push(`FAULT NOT APPLIED: ${e}`);
  if (agents && /chain [qs]-/.test(radios.map((r) => inNs(r.netns, 'nft', 'list', 'ruleset')).join(''))) actions.push('LEFTOVER nft chain');
  const first = journal.filter((e) => e.atS >= 0).map((e) => e.atS);
  const steers = journal.filter((e) => e.action === 'steer-neighbour' && e.atS >= 0).map((e) => e.atS);
  const switched = (a: AgentRun | undefined, to: number) => {
    const t = a?.changes.find((x) => x.originator === radio(to).mac)?.changes.find((c) => c >= faultAt);
    return t === undefined ? null : Math.round((t - faultAt) / 10) / 100;
  };
  const run: Run = {
    case: `wifi/${scenario}`, repeat, diamond: 'unequal', direction: 'both', scenario, variant, link: `n${link[0]}–n${link[1]}`, settled, back,
    healS: res.lostRunS, lostS: res.lostS, answered: res.answered, sent: res.sent, actions, journal,
    firstActionS: first.length ? Math.min(...first) : null,
    switchS: { n1: switched(done[0], 4), n4: switched(done[3], 1) },
    ...perNode(before, after),
    leadS: scenario === 'fade' && steers.length ? Math.round((FADE_S - Math.min(...steers)) * 100) / 100 : null,
    station: { of: `n${link[0]} -> n${link[1]}`, samples },
    medium: mediumRate(mediumBefore, mediumAfter),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  say(`run ${repeat} wifi/${scenario} ${variant}: fault on ${run.link} (back via ${back}), heal ${run.healS} s, lost ${run.lostS} s, ${run.answered}/${run.sent} answered, OGM ${JSON.stringify(perNode(before, after))}, medium ${JSON.stringify(run.medium)}, first action +${run.firstActionS} s, routes switched ${JSON.stringify(run.switchS)}, ${run.seconds} s wall; settled ${settled}`);
  if (actions.length) log(`run ${repeat} wifi/${scenario} ${variant} actions: ${actions.join(', ')}`);
  log(`run ${repeat} wifi/${scenario} ${variant} station ${run.station.of} [s, signal, avg, tx, retries, failed, inactive ms]: ${samples.map((s) => JSON.stringify(s)).join(' ')}`);
  return run;
}

const variants = envList('X0_HEAL_VARIANTS', VARIANTS, VARIANTS);
const scenarios = envList('X0_HEAL_SCENARIOS', SCENARIOS, SCENARIOS);
const healthyVariants = envList('X0_HEAL_HEALTHY_VARIANTS', VARIANTS, variants);

interface Healthy { variant: Variant; seconds: number; ogmFps: number; ogmBps: number; echoFps: number; actions: string[]; steers: number; evidence: string[]; journal: JournalLine[]; medium: ReturnType<typeof mediumRate> }
const runs: Run[] = [];
const healthy: Healthy[] = [];
const radioInfo: Record<string, unknown> = {
  radios: radios.map((r) => ({ node: r.name, ifname: r.ifname, mac: r.mac })),
  links: { inRange: IN_RANGE.map(([a, b]) => `n${a}–n${b}`), apart: APART.map(([a, b]) => `n${a}–n${b}`), clean: CLEAN, faded: FADED, outOfRange: OUT_OF_RANGE, healthy: HEALTHY_LINK, fadeS: FADE_S },
  n2HopPenalty: N2_HOP_PENALTY,
  stationColumns: ['s since the fault', 'signal dBm', 'signal avg dBm', 'tx packets', 'tx retries', 'tx failed', 'inactive ms'],
  rttRadioNoMediumMs: rttNoMedium,
  rttRadioMediumMs: rttMedium,
};
const kernelRelease = sh(['uname', '-r']).trim();
const write = (complete: boolean) => writeFileSync(process.env.X0VM_OUT!, JSON.stringify({ runs, healthy, kernel: kernelRelease, complete, radio: radioInfo }));

countOgms();
radioInfo.warmUp = await warmUpMesh();
// The same 20 pings over bat0 (one hop, and n1 → n4 over two), through the medium.
radioInfo.rttBat0MediumMs = { n2: await rtt(radio(1), ['10.99.0.2']), n4: await rtt(radio(1), ['10.99.0.4']) };
say(`bat0 through the medium: ${JSON.stringify(radioInfo.rttBat0MediumMs)}`);
write(false);
for (let r = 0; r < REPEATS; r++) {
  for (const scenario of scenarios) {
    for (const variant of variants) {
      runs.push(await runOne(r, scenario, variant));
      write(false);
    }
  }
}
// Healthy: no fault, every in-range link at 10 % loss with a steady signal, HEALTHY_S seconds per
// variant: OGM airtime, and the agents' actions (every one a false alarm).
for (const variant of HEALTHY_S > 0 ? healthyVariants : []) {
  const spec = VARIANT_SPECS[variant];
  origInterval(spec.origIntervalMs);
  await setLinks(HEALTHY_LINK);
  await sleep(spec.agents ? LOSS_RATED_MS : 5000);
  const agents = spec.agents ? await startAgents(radios, variant) : null;
  const before = ogmTotals();
  const mediumBefore = await mediumStats();
  const startedAt = Date.now();
  await sleep(HEALTHY_S * 1000);
  const after = ogmTotals();
  const mediumAfter = await mediumStats();
  const done = agents ? await agents.stop() : [];
  await setLinks(CLEAN);
  const journal = journalOf(done, startedAt);
  healthy.push({
    variant, seconds: HEALTHY_S, ...perNode(before, after), actions: journal.map((e) => `${e.node}:${e.action}:${e.state}[${e.finding}]`), steers: journal.filter((e) => e.action === 'steer-neighbour').length,
    evidence: journal.map((e) => `${e.node}:${e.action}@+${e.atS.toFixed(1)}s[${e.finding}] ${e.reason} ${JSON.stringify(e.evidence)}`), journal, medium: mediumRate(mediumBefore, mediumAfter),
  });
  say(`healthy ${variant} ${HEALTHY_S} s: OGM ${JSON.stringify(perNode(before, after))}; ${journal.length} actions: ${journal.map((e) => `${e.node}:${e.action}[${e.finding}]`).join(', ')}`);
  write(false);
}
origInterval(1000);
// Without our medium hwsim delivers everything again: the same bat0 hop n1 → n2, for the medium's cost.
mediumClosing = true;
await medium.close();
radioInfo.rttBat0NoMediumMs = { n2: await rtt(radio(1), ['10.99.0.2']) };
say(`bat0 n1->n2 without the medium (end): ${JSON.stringify(radioInfo.rttBat0NoMediumMs)}`);
for (const { bridge, client } of nl.values()) {
  client.close();
  await bridge.close();
}
write(true);
process.exit(0);
