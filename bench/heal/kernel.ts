// The kernel substrate of bench:heal: boots the QEMU harness (scripts/vm/, Debian's batman-adv)
// and runs bench/heal/guest.ts in it (the matrix, its environment variables and its rows are
// described there). One row per case (diamond × scenario × fault direction), each with every
// variant's mean, min and max over the repeats.
import { runInVm } from '../../scripts/vm/run-in-vm.ts';
import { findVmHost } from '../../scripts/vm/kernel.ts';
import { diamond } from '../../scripts/vm/topology.ts';
import { LEARNED_MODEL } from './sim.ts';

/** What the guest accepts in each list variable (checked here too, so a typo fails before a VM boots). */
const ALLOWED: Record<string, readonly string[]> = {
  X0_HEAL_DIAMONDS: ['unequal', 'equal'],
  X0_HEAL_DIRECTIONS: ['both', 'out', 'in'],
  X0_HEAL_SCENARIOS: ['far-link', 'near-link', 'fade', 'flapping'],
  X0_HEAL_VARIANTS: ['batman', 'batman_tuned', 'agent', 'agent_learned'],
  X0_HEAL_HEALTHY_VARIANTS: ['batman', 'batman_tuned', 'agent', 'agent_learned'],
};
/** Row keys for a variant's airtime: ogm_fps_agent, ogm_fps_batman, ogm_fps_tuned, … */
const short = (v: string) => (v === 'batman_tuned' ? 'tuned' : v);
/** The order of a row's variants; variants not listed here follow in the order they ran. */
const ORDER = ['agent', 'batman', 'batman_tuned'];

type Run = {
  case: string; scenario: string; diamond: string; direction: string; variant: string; link: string; back: string; healS: number; lostS: number;
  actions: string[]; firstActionS: number | null; ogmFps: number; ogmBps: number; echoFps?: number; leadS: number | null; seconds: number;
};
type Healthy = { variant: string; seconds: number; ogmFps: number; ogmBps: number; echoFps?: number; actions: string[]; steers: number };

export async function runKernelBench() {
  for (const [k, allowed] of Object.entries(ALLOWED)) {
    const bad = (process.env[k] ?? '').split(',').map((x) => x.trim()).filter((x) => x && !allowed.includes(x));
    if (bad.length) throw new Error(`${k}: unknown ${bad.join(', ')} (allowed: ${allowed.join(', ')})`);
  }
  for (const k of ['X0_HEAL_REPEATS', 'X0_HEAL_HEALTHY_S', 'X0_HEAL_VM_MINUTES']) {
    if (process.env[k] !== undefined && !(Number(process.env[k]) >= 0)) throw new Error(`${k}=${process.env[k]}: not a number ≥ 0`);
  }
  findVmHost(); // throws VmUnavailableError with the reason
  const healthyS = process.env.X0_HEAL_HEALTHY_S ?? '0';
  const env: Record<string, string> = { X0_HEAL_REPEATS: process.env.X0_HEAL_REPEATS ?? '2', X0_HEAL_HEALTHY_S: healthyS };
  for (const k of [...Object.keys(ALLOWED), 'X0_HEAL_FLAPS']) if (process.env[k]) env[k] = process.env[k]!;
  // agent_learned's seed: the guest sees the host's root read-only at the same paths.
  env.X0_HEAL_MODEL = LEARNED_MODEL;
  const budgetMs = Number(process.env.X0_HEAL_VM_MINUTES ?? 40) * 60_000;
  const run = await runInVm(
    [{ name: 'heal-iv', topology: diamond(), mesh: { algo: 'BATMAN_IV', origIntervalMs: 1000, medium: true }, scripts: [{ path: 'bench/heal/guest.ts', timeoutMs: budgetMs - 120_000, env }] }],
    { timeoutMs: budgetMs, onConsole: (l) => process.stderr.write(`${l}\n`) },
  );
  const step = run.results.steps[0]!;
  const script = step.scripts[0];
  process.stderr.write(`--- guest output (tail) ---\n${script?.output.slice(-8000) ?? ''}\n`);
  // The guest writes its results after every run: a guest killed at its deadline still leaves the runs that finished (complete: false).
  const json = script?.json as GuestJson | undefined;
  if (!json) throw new Error(`guest bench produced no result: ${step.error ?? script?.output.slice(-2000) ?? 'no script ran'}`);
  return kernelRows(json, healthyS, run.boot.bootSeconds);
}

/** What the guest writes to $X0VM_OUT (bench/heal/wifi-guest.ts writes the same shape). */
export type GuestJson = { runs: Run[]; healthy: Healthy[]; kernel: string; complete?: boolean };

/** The rows and summary from the guest's results (also the wifi substrate's, bench/heal/wifi.ts). */
export function kernelRows(json: GuestJson, healthyS: string, bootSeconds: number | undefined) {
  const round = (v: number) => Math.round(v * 100) / 100;
  const of = (c: string, v: string) => json.runs.filter((r) => r.case === c && r.variant === v);
  const stat = (c: string, v: string, k: 'healS' | 'lostS' | 'ogmFps' | 'ogmBps' | 'echoFps') => {
    const xs = of(c, v).map((r) => r[k] ?? 0);
    return xs.length ? { mean: round(xs.reduce((a, b) => a + b, 0) / xs.length), min: Math.min(...xs), max: Math.max(...xs) } : null;
  };
  const ran = [...new Set(json.runs.map((r) => r.variant))];
  const variants = [...ORDER.filter((v) => ran.includes(v)), ...ran.filter((v) => !ORDER.includes(v))];
  const per = (c: string, k: 'healS' | 'lostS' | 'ogmFps' | 'ogmBps', f: 'mean' | 'min' | 'max') =>
    Object.fromEntries(variants.filter((v) => stat(c, v, k)).map((v) => [v, stat(c, v, k)![f]]));
  const row = (c: string) => {
    const scenario = json.runs.find((r) => r.case === c)!.scenario;
    // Sudden deaths: the longest gap; fades and flapping: all ping time lost.
    const k = scenario === 'far-link' || scenario === 'near-link' ? 'healS' : 'lostS';
    return {
      case: c,
      variants: per(c, k, 'mean'),
      measure: k === 'healS' ? 'longest ping gap, s' : 'ping seconds lost, s',
      min: per(c, k, 'min'),
      max: per(c, k, 'max'),
      lostS: per(c, 'lostS', 'mean'),
      ...Object.fromEntries(variants.flatMap((v) => [[`ogm_fps_${short(v)}`, stat(c, v, 'ogmFps')?.mean ?? null], [`ogm_bps_${short(v)}`, stat(c, v, 'ogmBps')?.mean ?? null]])),
      // The link echo's frames (requests, replies, neighbour discovery) per node per second: airtime the OGM counts leave out.
      ...Object.fromEntries(variants.filter((v) => v.startsWith('agent')).map((v) => [`echo_fps_${short(v)}`, stat(c, v, 'echoFps')?.mean ?? null])),
      // The faulted link of each run per variant (on the equal diamond either middle node), and the middle node of the way back.
      links: Object.fromEntries(variants.map((v) => [v, of(c, v).map((r) => `${r.link} back ${r.back}`)])),
      seconds_per_run: Object.fromEntries(variants.filter((v) => of(c, v).length).map((v) => [v, Math.round(of(c, v).reduce((a, r) => a + r.seconds, 0) / of(c, v).length)])),
      repeats: Math.max(...variants.map((v) => of(c, v).length)),
    };
  };
  const rows = [...new Set(json.runs.map((r) => r.case))].map(row);
  const h = (v: string) => json.healthy.find((x) => x.variant === v);
  const ratio = (a?: number, b?: number) => (a === undefined || b === undefined || b === 0 ? null : round(a / b));
  return {
    rows,
    summary: {
      substrate: 'kernel',
      kernel: json.kernel,
      algo: 'BATMAN_IV',
      complete: json.complete ?? false,
      repeats: Math.max(0, ...rows.map((r) => r.repeats)),
      ratioAgentToBatman: Object.fromEntries(rows.map((r) => [r.case, ratio(r.variants.agent, r.variants.batman)])),
      ratioAgentToTuned: Object.fromEntries(rows.map((r) => [r.case, ratio(r.variants.agent, r.variants.batman_tuned)])),
      measure: 'dead-link (far: the route\'s next hop–n4) and near-link (n1–next hop): longest gap in a 10/s ping n1→n4 after netem 100 % loss in the medium; fade (near link): ping seconds lost while loss steps 10 → 100 % over 20 s, then dead; flapping (far link): ping seconds lost in 60 s of down 4 s / up 4 s; the link is the one n1→n4 uses at the fault (for /in, the one n4→n1 uses: the path of the faulted direction). equal/: no hop penalty (both paths alike); unequal (no prefix): the n2 path penalised. /out: only frames leaving the link\'s end nearer n1 lost; /in: only frames towards it; no suffix: both. OGM airtime: received OGM frames (nft counters, packet type 0x00) per node per second over the run; echo_fps_*: the link echo\'s frames (UDP requests and replies, IPv6 neighbour discovery) the same way',
      firstActionS: json.runs.filter((r) => r.variant === 'agent').map((r) => [r.case, r.firstActionS ?? null]),
      fadeLeadS: Object.fromEntries(rows.filter((r) => json.runs.some((x) => x.case === r.case && x.scenario === 'fade')).map((r) => [r.case, of(r.case, 'agent').map((x) => x.leadS ?? null)])),
      healthy_seconds: Number(healthyS),
      healthy_diamond: 'unequal',
      healthy_ogm_fps_agent: h('agent')?.ogmFps ?? null,
      healthy_ogm_fps_batman: h('batman')?.ogmFps ?? null,
      healthy_ogm_fps_tuned: h('batman_tuned')?.ogmFps ?? null,
      healthy_echo_fps_agent: h('agent')?.echoFps ?? null,
      // Any further variant (e.g. another agent configuration) the same way.
      ...Object.fromEntries(json.healthy.filter((x) => !ORDER.includes(x.variant)).map((x) => [`healthy_ogm_fps_${short(x.variant)}`, x.ogmFps])),
      false_actions_per_node_hour: h('agent') ? round(h('agent')!.steers / 4 / (h('agent')!.seconds / 3600)) : null,
      healthy_actions_per_node_hour: h('agent') ? round(h('agent')!.actions.length / 4 / (h('agent')!.seconds / 3600)) : null,
      healthy: json.healthy,
      runs: json.runs,
      flaps: json.runs.filter((r) => r.scenario === 'flapping'),
      bootSeconds,
    },
  };
}
