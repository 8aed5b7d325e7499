// The kernel substrate of bench:heal: boots the QEMU harness (scripts/vm/, Debian's batman-adv)
// and runs bench/heal/guest.ts in it.
import { runInVm } from '../../scripts/vm/run-in-vm.ts';
import { findVmHost } from '../../scripts/vm/kernel.ts';
import { diamond } from '../../scripts/vm/topology.ts';

export async function runKernelBench() {
  findVmHost(); // throws VmUnavailableError with the reason
  const healthyS = process.env.X0_HEAL_HEALTHY_S ?? '0';
  const env: Record<string, string> = { X0_HEAL_REPEATS: process.env.X0_HEAL_REPEATS ?? '2', X0_HEAL_HEALTHY_S: healthyS };
  for (const k of ['X0_HEAL_SCENARIOS', 'X0_HEAL_FLAPS', 'X0_HEAL_HEALTHY_VARIANTS']) if (process.env[k]) env[k] = process.env[k]!;
  const budgetMs = Number(process.env.X0_HEAL_VM_MINUTES ?? 40) * 60_000;
  const run = await runInVm(
    [{ name: 'heal-iv', topology: diamond(), mesh: { algo: 'BATMAN_IV', origIntervalMs: 1000, medium: true }, scripts: [{ path: 'bench/heal/guest.ts', timeoutMs: budgetMs - 120_000, env }] }],
    { timeoutMs: budgetMs, onConsole: (l) => process.stderr.write(`${l}\n`) },
  );
  const step = run.results.steps[0]!;
  const script = step.scripts[0];
  process.stderr.write(`--- guest output (tail) ---\n${script?.output.slice(-8000) ?? ''}\n`);
  type Run = { scenario: string; variant: string; healS: number; lostS: number; actions: string[]; firstActionS?: number | null; switchS?: unknown; ogmFps?: number; ogmBps?: number; leadS?: number | null };
  type Healthy = { variant: string; seconds: number; ogmFps: number; ogmBps: number; actions: string[]; steers: number };
  const json = script?.json as { runs: Run[]; flaps: Run[]; healthy: Healthy[]; kernel: string } | undefined;
  if (!json) throw new Error(`guest bench produced no result: ${step.error ?? script?.output.slice(-2000) ?? 'no script ran'}`);
  const round = (v: number) => Math.round(v * 100) / 100;
  const of = (sc: string, v: string) => json.runs.filter((r) => r.scenario === sc && r.variant === v);
  const stat = (sc: string, v: string, k: 'healS' | 'lostS' | 'ogmFps' | 'ogmBps') => {
    const xs = of(sc, v).map((r) => r[k] ?? 0);
    return xs.length ? { mean: round(xs.reduce((a, b) => a + b, 0) / xs.length), min: Math.min(...xs), max: Math.max(...xs) } : null;
  };
  const VARIANTS = ['agent', 'batman', 'batman_tuned'];
  const row = (name: string, sc: string, k: 'healS' | 'lostS') => ({
    case: name,
    variants: Object.fromEntries(VARIANTS.filter((v) => stat(sc, v, k)).map((v) => [v, stat(sc, v, k)!.mean])),
    measure: k === 'healS' ? 'longest ping gap, s' : 'ping seconds lost, s',
    min: Object.fromEntries(VARIANTS.filter((v) => stat(sc, v, k)).map((v) => [v, stat(sc, v, k)!.min])),
    max: Object.fromEntries(VARIANTS.filter((v) => stat(sc, v, k)).map((v) => [v, stat(sc, v, k)!.max])),
    lostS: Object.fromEntries(VARIANTS.filter((v) => stat(sc, v, 'lostS')).map((v) => [v, stat(sc, v, 'lostS')!.mean])),
    ogm_fps_agent: stat(sc, 'agent', 'ogmFps')?.mean ?? null,
    ogm_fps_batman: stat(sc, 'batman', 'ogmFps')?.mean ?? null,
    ogm_fps_tuned: stat(sc, 'batman_tuned', 'ogmFps')?.mean ?? null,
    ogm_bps_agent: stat(sc, 'agent', 'ogmBps')?.mean ?? null,
    ogm_bps_batman: stat(sc, 'batman', 'ogmBps')?.mean ?? null,
    ogm_bps_tuned: stat(sc, 'batman_tuned', 'ogmBps')?.mean ?? null,
    repeats: of(sc, 'agent').length,
  });
  const flap = (v: string) => json.flaps.find((r) => r.variant === v)?.lostS;
  const rows = [
    // The original row: the far link n3–n4 dies; heal = longest ping gap.
    row('kernel/dead-link', 'far-link', 'healS'),
    row('kernel/near-link', 'near-link', 'healS'),
    row('kernel/fade', 'fade', 'lostS'),
    ...(json.flaps.length ? [{ case: 'kernel/flapping-neighbour', variants: { agent: flap('agent')!, batman: flap('batman')! } }] : []),
  ].filter((r) => Object.keys(r.variants).length > 0);
  const h = (v: string) => json.healthy.find((x) => x.variant === v);
  const ratio = (a?: number, b?: number) => (a === undefined || b === undefined || b === 0 ? null : round(a / b));
  return {
    rows,
    summary: {
      substrate: 'kernel',
      kernel: json.kernel,
      algo: 'BATMAN_IV',
      repeats: of('far-link', 'agent').length,
      ratioAgentToBatman: Object.fromEntries(rows.map((r) => [r.case, ratio(r.variants.agent, r.variants.batman)])),
      ratioAgentToTuned: Object.fromEntries(rows.map((r) => [r.case, ratio(r.variants.agent, (r.variants as Record<string, number>).batman_tuned)])),
      measure: 'dead-link (far, n3–n4) and near-link (n1–n3): longest gap in a 10/s ping n1→n4 after netem 100 % loss in the medium; fade (n1–n3): ping seconds lost while loss steps 10 → 100 % over 20 s, then dead; flapping: ping seconds lost in 60 s of n3–n4 down 4 s / up 4 s; OGM airtime: received OGM frames (nft counters, packet type 0x00) per node per second over the run',
      firstActionS: json.runs.filter((r) => r.variant === 'agent').map((r) => [r.scenario, r.firstActionS ?? null]),
      fadeLeadS: of('fade', 'agent').map((r) => r.leadS ?? null),
      healthy_seconds: Number(healthyS),
      healthy_ogm_fps_agent: h('agent')?.ogmFps ?? null,
      healthy_ogm_fps_batman: h('batman')?.ogmFps ?? null,
      healthy_ogm_fps_tuned: h('batman_tuned')?.ogmFps ?? null,
      false_actions_per_node_hour: h('agent') ? round(h('agent')!.steers / 4 / (h('agent')!.seconds / 3600)) : null,
      healthy_actions_per_node_hour: h('agent') ? round(h('agent')!.actions.length / 4 / (h('agent')!.seconds / 3600)) : null,
      healthy: json.healthy,
      runs: json.runs,
      flaps: json.flaps,
      bootSeconds: run.boot.bootSeconds,
    },
  };
}
