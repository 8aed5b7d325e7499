// Heal time on the simulator: the same fault on the same seeded mesh, with an agent on every
// node, with batman-adv alone, and with batman-adv alone on the agent's fast OGM interval all
// the time (batman_tuned). "Connected" is ground truth from the world: the best-route chain
// n1→n4 and n4→n1 walks only over links that deliver. Seconds lost = the expected share of a
// continuous ping lost (1 − the delivery probability of the path there and back, summed over
// time); with links that either deliver or not, that is the time without connectivity.
// OGM airtime: frames and bytes every node sent per second over the run (the simulator
// carries only OGMs, so its interface counters count OGMs).
import { fileURLToPath } from 'node:url';
import type { Agent } from '../../src/agent/agent.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import type { Core } from '../../src/core/index.ts';
import { DEFAULT_LINK_MODEL, IDEAL_LINK_MODEL, SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { simulatedHost } from '../../src/mapek/sim-host.ts';
import { predictLink } from '../../src/mapek/predict-link-death.ts';
import { healingConfig, SPLIT_DIAMOND } from '../../test/mapek/sim-agent.ts';

/** dead-link: n1's own next hop towards n4 dies (the near link); far-link: that next hop's link to n4. */
export type Scenario = 'dead-link' | 'flapping-neighbour' | 'stuck-interface' | 'far-link' | 'fade' | 'fade-far';
export const SCENARIOS: Scenario[] = ['dead-link', 'flapping-neighbour', 'stuck-interface', 'far-link', 'fade', 'fade-far'];
/**
 * agent_model: the agent with a stand-in failure model that knows the fault (0.9 on the faulted link from the fault on, 0.05 elsewhere): what steering gives when the model is right.
 * agent_learned: the agent with learning on and UCI initial_model = LEARNED_MODEL (the seed trained on kernel traces), no stand-in.
 */
export type Variant = 'agent' | 'batman' | 'batman_tuned' | 'agent_model' | 'agent_learned';
export const LEARNED_MODEL = fileURLToPath(new URL('./link-model.json', import.meta.url));
const withAgents = (v: Variant) => v === 'agent' || v === 'agent_model' || v === 'agent_learned';

const PROBE_MS = 100;
const WINDOW_MS = 60_000;
/** A fade: loss ramps 0 → 100 % over this long, then the link is dead. */
export const FADE_MS = 20_000;

/** Does n1's traffic reach n4 and back, walking best next hops over links that deliver? */
export function connected(world: SimulatedMesh, a: number, b: number): boolean {
  return delivery(world, a, b) * delivery(world, b, a) >= 0.25;
}

/** The probability that a frame from `from` reaches `to` along the best routes (0 when there is no route). */
export function delivery(world: SimulatedMesh, from: number, to: number): number {
  const dest = world.macOf(to, world.ifnames[world.engine.primary[to]! % world.ifnames.length]!);
  const links = world.links();
  let node = from;
  let p = 1;
  for (let hops = 0; hops < 8; hops++) {
    if (node === to) return p;
    let best;
    try {
      best = world.originatorsOf(node).find((o) => o.originator === dest && o.best);
    } catch {
      return 0; // no primary interface: nothing is routed
    }
    if (!best) return 0;
    const next = world.nodeOfMac(best.nextHop);
    const k = world.ifnames.indexOf(best.hardIfname);
    const l = links.find((x) => x.ifname === world.ifnames[k] && ((x.a === node && x.b === next) || (x.a === next && x.b === node)));
    if (!l) return 0;
    const st = world.interfaceState(node, best.hardIfname);
    const stNext = world.interfaceState(next, best.hardIfname);
    if (!st.adminUp || st.stuck || !stNext.adminUp || stNext.stuck) return 0;
    p *= l.a === node ? l.pdrAB : l.pdrBA;
    node = next;
  }
  return 0;
}

export interface SimRun {
  /** Seconds of ping lost within the window after the fault. */
  outageS: number;
  /** Seconds from the fault to the first moment connectivity was back and stayed 3 s. */
  healS: number;
  actions: string[];
  /** OGM frames and bytes sent per node per second over the whole run. */
  ogmFps: number;
  ogmBps: number;
  /** Fade: seconds from the first steer-neighbour to the death (positive: before it); null without one. */
  leadS: number | null;
  /** agent_learned: the failure model's answers on the faulted link and on the others (each agent, each second), and the faulted link's highest each second before the death. */
  probs?: { faulted: Quantiles | null; others: Quantiles | null; faultedMaxBeforeDeathByS: number[] };
  /** agent_learned, fades: per SURE_SWEEP threshold, seconds before the death the predictor would first have said "dying" on the faulted link. */
  sweepLeadS?: (number | null)[] | undefined;
  /** The same with the mean of the model's last 3 answers. */
  sweepLeadS3?: (number | null)[] | undefined;
}

function newWorld(seed: number, variant: Variant, healthy: boolean, fastOrigMs: number): SimulatedMesh {
  return new SimulatedMesh({
    seed, topology: SPLIT_DIAMOND, nodeNames: ['n1', 'n2', 'n3', 'n4'],
    // A healthy run uses the usual lossy-but-alive links (fading, bursts), with no failures.
    linkModel: healthy ? { ...DEFAULT_LINK_MODEL, failureRatePerHour: 0 } : IDEAL_LINK_MODEL,
    settings: (n) => ({ gwMode: n === 3 ? 'server' : 'client', ...(variant === 'batman_tuned' ? { origIntervalMs: fastOrigMs } : {}) }),
  });
}

async function startAgents(world: SimulatedMesh, core: Core | null, variant: Variant): Promise<Agent[]> {
  const agents: Agent[] = [];
  for (let node = 0; node < 4; node++) {
    const host = simulatedHost(world, node);
    const config = healingConfig((c) => {
      // The shipped defaults, except boot grace and start-up delay (the mesh is already up).
      c.healing.verifyWindowS = 10;
      c.healing.holdS = 120;
      c.healing.quarantineS = 300;
      c.healing.cooldownS = 120;
      if (variant === 'agent_learned') {
        // What the kernel side sets too: learning on (local only, no federation), the seed model.
        c.learning.enabled = true;
        c.learning.initialModel = LEARNED_MODEL;
      }
    });
    config.agent.nodeName = world.nodeName(node);
    const agent = createAgent({
      config, configSource: 'bench', driver: world.driver(node), serveStatus: false, manualLoop: true,
      host, now: () => world.nowMs, uptimeMs: () => 3_600_000 + world.nowMs, random: () => 0.5,
      scoreRoutes: core?.scoreRoutes, journalPath: null, ...(variant === 'agent_learned' ? { core } : {}),
    });
    await agent.start();
    agents.push(agent);
  }
  return agents;
}

function sent(world: SimulatedMesh): { frames: number; bytes: number } {
  let frames = 0;
  let bytes = 0;
  for (let n = 0; n < 4; n++) {
    for (const i of world.ifnames) {
      const c = world.interfaceCounters(n, i);
      frames += c.txPackets;
      bytes += c.txBytes;
    }
  }
  return { frames, bytes };
}

export const FAST_ORIG_MS = healingConfig().healing.fastOrigIntervalS * 1000;

/**
 * Seconds the agents run before the fault: 5 (the rows' history), and LEARNED_WARMUP_MS for
 * agent_learned, whose model answers only once its 30-poll feature windows are full (as on a
 * router that has been up for a minute); run.ts also runs `agent` with that warm-up to compare.
 */
export const LEARNED_WARMUP_MS = 35_000;

export async function runScenario(scenario: Scenario, seed: number, variant: Variant, core: Core | null, warmupMs = variant === 'agent_learned' ? LEARNED_WARMUP_MS : 5000): Promise<SimRun> {
  const world = newWorld(seed, variant, false, FAST_ORIG_MS);
  // Two paths of unequal quality, as in the field: with two exactly equal paths batman-adv's tie
  // rule switches within an OGM or two and there is nothing to heal. The n3 path pays a hop penalty.
  world.setHardIfOf(0, 'mesh1', { hopPenalty: 40 });
  world.setHardIfOf(3, 'mesh0', { hopPenalty: 40 });
  world.step(90_000);
  const agents = withAgents(variant) ? await startAgents(world, core, variant) : [];
  let sample: ((t: number) => void) | null = null;
  const tick = async (ms: number, probe?: (t: number) => void) => {
    for (let t = 0; t < ms; t += PROBE_MS) {
      world.step(PROBE_MS);
      if (world.nowMs % 1000 === 0) {
        for (const a of agents) await a.tick();
        sample?.(t);
      }
      probe?.(t);
    }
  };
  await tick(warmupMs);
  const start = sent(world);
  const startMs = world.nowMs;
  // The fault hits the link n1 uses towards n4 right now (so that it matters), or for the far
  // cases that next hop's link to n4.
  const n4 = world.macOf(3, world.ifnames[world.engine.primary[3]! % world.ifnames.length]!);
  const route = world.originatorsOf(0).find((o) => o.originator === n4 && o.best)!;
  const next = world.nodeOfMac(route.nextHop);
  const far = scenario === 'far-link' || scenario === 'fade-far';
  const [a, b] = far ? [next, 3] : [0, next];
  const faultAt = world.nowMs;
  if (variant === 'agent_model') {
    agents.forEach((agent, me) => {
      const fleet = (agent as unknown as { fleet: { failureProbabilities: () => Map<string, number> } }).fleet;
      const other = me === a ? b : me === b ? a : -1;
      fleet.failureProbabilities = () => new Map(agent.knowledge.linkStatus().map((l) => [`${l.hardIfname}/${l.neighbour}`, world.nodeOfMac(l.neighbour) === other ? 0.9 : 0.05]));
    });
  }
  // The model's answers each second: on the faulted link (both ends) and on every other link.
  const probs = { faulted: [] as number[], others: [] as number[], faultedByS: [] as number[] };
  const sweep = new SureSweep();
  const sweep3 = new SureSweep(3);
  if (variant === 'agent_learned') {
    sample = (t) => {
      let worst = 0;
      agents.forEach((agent, me) => {
        const other = me === a ? b : me === b ? a : -1;
        for (const [key, p] of fleetOf(agent).failureProbabilities()) {
          const isFaulted = world.nodeOfMac(key.slice(key.indexOf('/') + 1)) === other;
          if (isFaulted && t < FADE_MS) worst = Math.max(worst, p);
          (isFaulted ? probs.faulted : probs.others).push(p);
          if (isFaulted && t < FADE_MS) {
            sweep.see(`${me}/${key}`, historyOf(agent, key), p, t);
            sweep3.see(`${me}/${key}`, historyOf(agent, key), p, t);
          }
        }
      });
      if (scenario.startsWith('fade') && t < FADE_MS) probs.faultedByS.push(round2(worst));
    };
  }
  if (scenario === 'dead-link' || scenario === 'far-link') world.killLink(a, b);
  else if (scenario === 'flapping-neighbour') world.flapLink(a, b, { periodMs: 8000, count: 7 });
  else if (scenario === 'stuck-interface') world.stuckInterface(0, route.hardIfname);
  else world.degradeLink(a, b, { lossRatio: 1, rampMs: FADE_MS });
  let lost = 0;
  let lastDownAt = -1;
  await tick(WINDOW_MS, (t) => {
    if (scenario.startsWith('fade') && t === FADE_MS) world.killLink(a, b);
    const p = delivery(world, 0, 3) * delivery(world, 3, 0);
    if (process.env.X0_HEAL_TRACE && t % 1000 === 0) {
      const hop = (from: number, to: number) => world.nodeName(world.nodeOfMac(world.originatorsOf(from).find((o) => o.best && o.originator === world.macOf(to, world.ifnames[world.engine.primary[to]! % world.ifnames.length]!))?.nextHop ?? '00:00:00:00:00:00'));
      process.stderr.write(`t=${t / 1000} p=${p.toFixed(2)} n1→n4 via ${hop(0, 3)} n4→n1 via ${hop(3, 0)} n2→n1 via ${hop(next, 0)}\n`);
    }
    lost += (1 - p) * PROBE_MS;
    if (p < 0.25) lastDownAt = t;
  });
  const end = sent(world);
  const s = (world.nowMs - startMs) / 1000;
  const entries = agents.flatMap((x) => x.healer!.journal.all().map((e) => ({ name: x.name, e })));
  const steers = entries.filter((x) => x.e.action === 'steer-neighbour' && x.e.state !== 'dry-run' && x.e.atMs >= faultAt).map((x) => x.e.atMs);
  const actions = entries.map(({ name, e }) => `${name}:${e.action}:${e.state}@+${((e.atMs - faultAt) / 1000).toFixed(1)}s`);
  for (const x of agents) await x.stop();
  return {
    outageS: Math.round(lost) / 1000, healS: lastDownAt < 0 ? 0 : (lastDownAt + PROBE_MS) / 1000, actions,
    ogmFps: round2((end.frames - start.frames) / s / 4), ogmBps: Math.round((end.bytes - start.bytes) / s / 4),
    leadS: scenario.startsWith('fade') && steers.length ? round2((faultAt + FADE_MS - Math.min(...steers)) / 1000) : null,
    ...(variant === 'agent_learned' ? { probs: { faulted: quantiles(probs.faulted), others: quantiles(probs.others), faultedMaxBeforeDeathByS: probs.faultedByS },
      sweepLeadS: scenario.startsWith('fade') ? sweep.first.map((t) => (t === null ? null : round2((FADE_MS - t) / 1000))) : undefined,
      sweepLeadS3: scenario.startsWith('fade') ? sweep3.first.map((t) => (t === null ? null : round2((FADE_MS - t) / 1000))) : undefined } : {}),
  };
}

/** The link's TQ history as the predictor sees it. */
function historyOf(agent: Agent, key: string): readonly (number | null)[] {
  return agent.knowledge.linkStatus().find((l) => `${l.hardIfname}/${l.neighbour}` === key)?.history ?? [];
}

/**
 * What predict-link-death would say at other values of its modelSure threshold (the branch
 * where the model alone acts while the TQ does not rise): per threshold, how often a link
 * turns "dying" (rising edges) and when it first did. Not gated on routes with detours as the
 * finding is, so an upper bound of the steers it would make.
 */
export const SURE_SWEEP = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95];
class SureSweep {
  readonly edges = SURE_SWEEP.map(() => 0);
  readonly first: (number | null)[] = SURE_SWEEP.map(() => null);
  private readonly was = new Map<string, boolean[]>();
  private readonly recent = new Map<string, number[]>();
  /** smooth: the model's answer is the mean of its last `smooth` answers for the link (1: as the agent uses it). */
  constructor(private readonly smooth = 1) {}
  see(link: string, history: readonly (number | null)[], p: number, t: number): void {
    const was = this.was.get(link) ?? SURE_SWEEP.map(() => false);
    const recent = [...(this.recent.get(link) ?? []), p].slice(-this.smooth);
    this.recent.set(link, recent);
    const q = recent.length < this.smooth ? 0 : recent.reduce((x, y) => x + y, 0) / recent.length;
    SURE_SWEEP.forEach((modelSure, i) => {
      const dying = predictLink(history, q, { modelSure })?.dying ?? false;
      if (dying && !was[i]) {
        this.edges[i]!++;
        this.first[i] ??= t;
      }
      was[i] = dying;
    });
    this.was.set(link, was);
  }
}

function fleetOf(agent: Agent): { failureProbabilities: () => Map<string, number> } {
  return (agent as unknown as { fleet: { failureProbabilities: () => Map<string, number> } }).fleet;
}

export interface Quantiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Share at or above 0.85 (predict-link-death's modelSure). */
  sure: number;
}

function quantiles(xs: number[]): Quantiles | null {
  if (!xs.length) return null;
  const s = [...xs].sort((x, y) => x - y);
  const q = (f: number) => round3(s[Math.min(s.length - 1, Math.floor(f * s.length))]!);
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: round3(s.at(-1)!), sure: round3(s.filter((x) => x >= 0.85).length / s.length) };
}

export interface HealthyRun {
  hours: number;
  ogmFps: number;
  ogmBps: number;
  /** steer-neighbour actions (not dry runs) per node per hour; no link died in the run. */
  steersPerNodeHour: number;
  actionsPerNodeHour: number;
  actions: string[];
  /** agent_learned: the failure model's answers on these links that did not die (each agent, each second). */
  probs?: Quantiles | null;
  /** agent_learned: per SURE_SWEEP threshold, links turning "dying" per node-hour (false alarms the predictor would raise). */
  sweepPerNodeHour?: number[];
  /** The same with the mean of the model's last 3 answers. */
  sweepPerNodeHour3?: number[];
}

/** A run with no fault on lossy-but-alive links: OGM airtime, and the predictive actions taken (all false alarms). */
export async function runHealthy(seed: number, variant: Variant, hours: number, core: Core | null): Promise<HealthyRun> {
  const world = newWorld(seed, variant, true, FAST_ORIG_MS);
  world.step(90_000);
  const agents = withAgents(variant) ? await startAgents(world, core, variant) : [];
  const start = sent(world);
  const startMs = world.nowMs;
  const probs: number[] = [];
  const sweep = new SureSweep();
  const sweep3 = new SureSweep(3);
  for (let t = 0; t < hours * 3_600_000; t += 1000) {
    world.step(1000);
    for (const a of agents) await a.tick();
    if (variant !== 'agent_learned') continue;
    for (const a of agents) {
      for (const [key, p] of fleetOf(a).failureProbabilities()) {
        probs.push(p);
        sweep.see(`${a.name}/${key}`, historyOf(a, key), p, t);
        sweep3.see(`${a.name}/${key}`, historyOf(a, key), p, t);
      }
    }
  }
  const end = sent(world);
  const s = (world.nowMs - startMs) / 1000;
  const entries = agents.flatMap((x) => x.healer!.journal.all().filter((e) => e.state !== 'dry-run').map((e) => ({ name: x.name, e })));
  for (const x of agents) await x.stop();
  const nodeHours = 4 * hours;
  return {
    hours, ogmFps: round2((end.frames - start.frames) / s / 4), ogmBps: Math.round((end.bytes - start.bytes) / s / 4),
    steersPerNodeHour: round2(entries.filter((x) => x.e.action === 'steer-neighbour').length / nodeHours),
    actionsPerNodeHour: round2(entries.length / nodeHours),
    ...(variant === 'agent_learned' ? { probs: quantiles(probs), sweepPerNodeHour: sweep.edges.map((e) => round2(e / nodeHours)), sweepPerNodeHour3: sweep3.edges.map((e) => round2(e / nodeHours)) } : {}),
    actions: entries.map(({ name, e }) => `${name}:${e.action}:${e.state}@${((e.atMs - startMs) / 1000).toFixed(0)}s${e.action === "steer-neighbour" ? ` (${e.reason}; ${JSON.stringify(e.evidence)})` : ""}`),
  };
}

const round2 = (v: number) => Math.round(v * 100) / 100;
const round3 = (v: number) => Math.round(v * 1000) / 1000;
