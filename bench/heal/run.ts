// npm run bench:heal — heal time with the agent vs batman-adv alone, same topology, same fault.
// Prints one JSON document on stdout; progress on stderr.
//
// Substrates: "kernel" — Debian's batman-adv in the QEMU harness (scripts/vm/), a diamond of
// veth links joined through a medium namespace, the fault is netem 100 % loss there on the link
// in use (each node still counts what it sends, as radios do), the measure is the gap in a
// continuous ping n1 → n4 over bat0 (guest side: bench/heal/guest.ts); "simulator" — the same
// diamond in the simulator, measured from the world's ground truth (bench/heal/sim.ts).
// `--substrate simulator|kernel|both` (default both; kernel is skipped with a reason in the
// summary when the VM cannot run here, and is an error under CI=true). `--substrate wifi`: the
// kernel bench's diamond on mac80211_hwsim radios with a fading link (bench/heal/wifi.ts), only by name.
import { loadCore } from '../../src/core/index.ts';
import { LEARNED_WARMUP_MS, runHealthy, runScenario, SCENARIOS, SURE_SWEEP, type SimRun, type Variant } from './sim.ts';

// X0_HEAL_SIM_SCENARIOS=fade,fade-far: only those simulator scenarios.
const simScenarios = process.env.X0_HEAL_SIM_SCENARIOS ? SCENARIOS.filter((s) => process.env.X0_HEAL_SIM_SCENARIOS!.split(',').includes(s)) : SCENARIOS;

interface Row {
  case: string;
  variants: Record<string, number>;
  [extra: string]: unknown;
}

const args = process.argv.slice(2);
const substrate = args[args.indexOf('--substrate') + 1] && args.includes('--substrate') ? args[args.indexOf('--substrate') + 1]! : 'both';
const seeds = [1, 2, 3, 4, 5];
/** Virtual hours of the healthy simulator run (false alarms, airtime). */
const HEALTHY_HOURS = Number(process.env.X0_HEAL_SIM_HOURS ?? 2);
const VARIANTS: Variant[] = ['agent', 'batman', 'batman_tuned'];
const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 100) / 100);

async function simulator(): Promise<{ rows: Row[]; summary: Record<string, unknown> }> {
  const core = await loadCore();
  const rows: Row[] = [];
  const ratios: Record<string, number | null> = {};
  const ratiosTuned: Record<string, number | null> = {};
  const leadS: Record<string, (number | null)[]> = {};
  const learnedLead: Record<string, (number | null)[]> = {};
  for (const s of simScenarios) {
    const runs: Record<Variant, SimRun[]> = { agent: [], batman: [], batman_tuned: [], agent_model: [], agent_learned: [] };
    const agentWarm: SimRun[] = [];
    for (const seed of seeds) {
      for (const v of VARIANTS) runs[v].push(await runScenario(s, seed, v, core));
      if (s.startsWith('fade')) runs.agent_model.push(await runScenario(s, seed, 'agent_model', core));
      const learned = await runScenario(s, seed, 'agent_learned', core);
      runs.agent_learned.push(learned);
      // the agent with agent_learned's longer warm-up: what the model, not the warm-up, changes
      agentWarm.push(await runScenario(s, seed, 'agent', core, LEARNED_WARMUP_MS));
      process.stderr.write(`simulator ${s} seed ${seed}: ${VARIANTS.map((v) => `${v} ${runs[v].at(-1)!.outageS} s`).join(', ')} (${runs.agent.at(-1)!.actions.join(', ')})\n`);
      process.stderr.write(`  agent (warm-up ${LEARNED_WARMUP_MS / 1000} s) ${agentWarm.at(-1)!.outageS} s (${agentWarm.at(-1)!.actions.join(', ')})\n`);
      process.stderr.write(`  agent_learned ${learned.outageS} s, lead ${learned.leadS} (${learned.actions.join(', ')}); p faulted ${JSON.stringify(learned.probs?.faulted)} others ${JSON.stringify(learned.probs?.others)}${s.startsWith('fade') ? ` faulted by s ${learned.probs?.faultedMaxBeforeDeathByS.join(' ')}` : ''}\n`);
    }
    const lost = (v: Variant) => mean(runs[v].map((r) => r.outageS));
    rows.push({
      case: `simulator/${s}`,
      variants: { agent: lost('agent'), batman: lost('batman'), batman_tuned: lost('batman_tuned') },
      min: Object.fromEntries(VARIANTS.map((v) => [v, Math.min(...runs[v].map((r) => r.outageS))])),
      max: Object.fromEntries(VARIANTS.map((v) => [v, Math.max(...runs[v].map((r) => r.outageS))])),
      ogm_fps_agent: mean(runs.agent.map((r) => r.ogmFps)),
      ogm_fps_batman: mean(runs.batman.map((r) => r.ogmFps)),
      ogm_fps_tuned: mean(runs.batman_tuned.map((r) => r.ogmFps)),
      ogm_bps_agent: mean(runs.agent.map((r) => r.ogmBps)),
      ogm_bps_batman: mean(runs.batman.map((r) => r.ogmBps)),
      ogm_bps_tuned: mean(runs.batman_tuned.map((r) => r.ogmBps)),
      ...(runs.agent_model.length ? { agent_with_model: mean(runs.agent_model.map((r) => r.outageS)), lead_s_with_model: runs.agent_model.map((r) => r.leadS) } : {}),
      // the agent with learning on and the seed model (bench/heal/link-model.json), no stand-in
      agent_learned: mean(runs.agent_learned.map((r) => r.outageS)),
      agent_learned_min: Math.min(...runs.agent_learned.map((r) => r.outageS)),
      agent_learned_max: Math.max(...runs.agent_learned.map((r) => r.outageS)),
      agent_warm: mean(agentWarm.map((r) => r.outageS)),
      agent_warm_min: Math.min(...agentWarm.map((r) => r.outageS)),
      agent_warm_max: Math.max(...agentWarm.map((r) => r.outageS)),
      ogm_fps_agent_warm: mean(agentWarm.map((r) => r.ogmFps)),
      ...(s.startsWith('fade') ? { lead_s_agent_warm: agentWarm.map((r) => r.leadS) } : {}),
      ogm_fps_learned: mean(runs.agent_learned.map((r) => r.ogmFps)),
      steers_learned: runs.agent_learned.map((r) => r.actions.filter((a) => a.includes(':steer-neighbour:')).length),
      ...(s.startsWith('fade') ? { lead_s_learned: runs.agent_learned.map((r) => r.leadS) } : {}),
      p_faulted_learned_p90: runs.agent_learned.map((r) => r.probs?.faulted?.p90 ?? null),
      p_others_learned_p99: runs.agent_learned.map((r) => r.probs?.others?.p99 ?? null),
      ...(s.startsWith('fade') ? {
        sweep_lead_s_learned: Object.fromEntries(SURE_SWEEP.map((th, i) => [th, runs.agent_learned.map((r) => r.sweepLeadS?.[i] ?? null)])),
        sweep_lead_s_learned_mean3: Object.fromEntries(SURE_SWEEP.map((th, i) => [th, runs.agent_learned.map((r) => r.sweepLeadS3?.[i] ?? null)])),
      } : {}),
    });
    if (s.startsWith('fade')) learnedLead[s] = runs.agent_learned.map((r) => r.leadS);
    ratios[s] = ratio(lost('agent'), lost('batman'));
    ratiosTuned[s] = ratio(lost('agent'), lost('batman_tuned'));
    if (s.startsWith('fade')) leadS[s] = runs.agent.map((r) => r.leadS);
    if (runs.agent_model.length) process.stderr.write(`simulator ${s} agent_model: ${runs.agent_model.map((r) => `${r.outageS} s lead ${r.leadS} (${r.actions.join(', ')})`).join('; ')}\n`);
  }
  // A healthy mesh on lossy-but-alive links: every predictive action there is a false alarm.
  const healthy = Object.fromEntries(await Promise.all([...VARIANTS, 'agent_learned' as const].map(async (v) => [v, await runHealthy(1, v, v.startsWith('agent') ? HEALTHY_HOURS : 0.25, core)] as const)));
  process.stderr.write(`simulator healthy ${HEALTHY_HOURS} h: agent actions ${healthy.agent!.actions.join(', ') || 'none'}\n`);
  process.stderr.write(`simulator healthy ${HEALTHY_HOURS} h: agent_learned p ${JSON.stringify(healthy.agent_learned!.probs)}; actions ${healthy.agent_learned!.actions.join(', ') || 'none'}\n`);
  return {
    rows,
    summary: {
      substrate: 'simulator', seeds: seeds.length, core: core.kind,
      measure: 'seconds of a continuous ping n1→n4 lost in the 60 s after the fault (1 − delivery probability of the path there and back, summed); fade: loss 0 → 100 % over 20 s on the link, then dead; far-link / fade-far: the next hop\'s link to n4',
      ratioAgentToBatman: ratios,
      ratioAgentToTuned: ratiosTuned,
      fadeLeadS: leadS,
      healthy_hours: HEALTHY_HOURS,
      healthy_ogm_fps_agent: healthy.agent!.ogmFps,
      healthy_ogm_fps_batman: healthy.batman!.ogmFps,
      healthy_ogm_fps_tuned: healthy.batman_tuned!.ogmFps,
      healthy_ogm_bps: { agent: healthy.agent!.ogmBps, batman: healthy.batman!.ogmBps, batman_tuned: healthy.batman_tuned!.ogmBps },
      false_actions_per_node_hour: healthy.agent!.steersPerNodeHour,
      healthy_actions_per_node_hour: healthy.agent!.actionsPerNodeHour,
      fadeLeadS_learned: learnedLead,
      healthy_ogm_fps_learned: healthy.agent_learned!.ogmFps,
      false_actions_per_node_hour_learned: healthy.agent_learned!.steersPerNodeHour,
      healthy_actions_per_node_hour_learned: healthy.agent_learned!.actionsPerNodeHour,
      healthy_p_learned: healthy.agent_learned!.probs,
      healthy_sweep_dying_per_node_hour_learned: Object.fromEntries(SURE_SWEEP.map((th, i) => [th, healthy.agent_learned!.sweepPerNodeHour?.[i] ?? null])),
      healthy_sweep_dying_per_node_hour_learned_mean3: Object.fromEntries(SURE_SWEEP.map((th, i) => [th, healthy.agent_learned!.sweepPerNodeHour3?.[i] ?? null])),
    },
  };
}

async function kernel(): Promise<{ rows: Row[]; summary: Record<string, unknown> }> {
  const { runKernelBench } = await import('./kernel.ts');
  return runKernelBench();
}

const rows: Row[] = [];
const summaries: Record<string, unknown>[] = [];
// Wi-Fi (mac80211_hwsim radios in the VM, bench/heal/wifi.ts): only when asked for by name.
if (substrate === 'wifi') {
  const { runWifiBench } = await import('./wifi.ts');
  const r = await runWifiBench();
  rows.push(...r.rows);
  summaries.push(r.summary);
}
if (substrate === 'simulator' || substrate === 'both') {
  const r = await simulator();
  rows.push(...r.rows);
  summaries.push(r.summary);
}
if (substrate === 'kernel' || substrate === 'both') {
  try {
    const r = await kernel();
    rows.push(...r.rows);
    summaries.push(r.summary);
  } catch (e) {
    const err = e as Error;
    if (process.env.CI === 'true' || substrate === 'kernel') throw err;
    summaries.push({ substrate: 'kernel', skipped: `${err.name}: ${err.message}` });
  }
}
process.stdout.write(
  JSON.stringify({
    bench: 'heal',
    unit: 'seconds without connectivity n1↔n4 after the fault (lower is better)',
    rows,
    summary: { substrates: summaries, goal: 'sudden deaths: agent ≤ ½ batman-adv and ≤ 1.5× batman_tuned; fades: ≤ 0.1× batman-adv and ≤ ½ batman_tuned; healthy airtime ≤ 1.2× batman-adv; ≤ 1 false action per node-hour' },
  }) + '\n',
);
