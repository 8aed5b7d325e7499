// The kernel substrate of bench:heal: boots the QEMU harness (scripts/vm/, Debian's batman-adv)
// and runs bench/heal/guest.ts in it.
import { runInVm } from '../../scripts/vm/run-in-vm.ts';
import { findVmHost } from '../../scripts/vm/kernel.ts';
import { diamond } from '../../scripts/vm/topology.ts';

export async function runKernelBench() {
  findVmHost(); // throws VmUnavailableError with the reason
  const run = await runInVm(
    [{ name: 'heal-iv', topology: diamond(), mesh: { algo: 'BATMAN_IV', origIntervalMs: 1000, medium: true }, scripts: [{ path: 'bench/heal/guest.ts', timeoutMs: 1_080_000, env: { X0_HEAL_REPEATS: process.env.X0_HEAL_REPEATS ?? '3' } }] }],
    { timeoutMs: 22 * 60_000, onConsole: (l) => process.stderr.write(`${l}\n`) },
  );
  const step = run.results.steps[0]!;
  const script = step.scripts[0];
  process.stderr.write(`--- guest output (tail) ---\n${script?.output.slice(-8000) ?? ''}\n`);
  type Run = { variant: string; healS: number; lostS: number; actions: string[]; firstActionS?: number | null; switchS?: unknown };
  const json = script?.json as { runs: Run[]; flaps: Run[]; kernel: string } | undefined;
  if (!json) throw new Error(`guest bench produced no result: ${step.error ?? script?.output.slice(-2000) ?? 'no script ran'}`);
  const mean = (v: string, k: 'healS' | 'lostS') => {
    const xs = json.runs.filter((r) => r.variant === v).map((r) => r[k]);
    return Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;
  };
  const flap = (v: string) => json.flaps.find((r) => r.variant === v)!.lostS;
  return {
    rows: [
      { case: 'kernel/dead-link', variants: { agent: mean('agent', 'healS'), batman: mean('batman', 'healS') } },
      { case: 'kernel/flapping-neighbour', variants: { agent: flap('agent'), batman: flap('batman') } },
    ],
    summary: {
      substrate: 'kernel',
      kernel: json.kernel,
      algo: 'BATMAN_IV',
      repeats: json.runs.length / 2,
      ratioAgentToBatman: {
        'dead-link': Math.round((mean('agent', 'healS') / mean('batman', 'healS')) * 100) / 100,
        'flapping-neighbour': Math.round((flap('agent') / flap('batman')) * 100) / 100,
      },
      measure: 'dead-link: longest gap in a 10/s ping n1→n4 after netem 100 % loss in the medium between n3 and n4 (each still counts what it sends); flapping: ping seconds lost in 60 s of n3–n4 down 4 s / up 4 s',
      lostSeconds: { agent: mean('agent', 'lostS'), batman: mean('batman', 'lostS') },
      // Detection: seconds from the fault to the first action of any agent, per agent run.
      firstActionS: json.runs.filter((r) => r.variant === 'agent').map((r) => r.firstActionS ?? null),
      // When n1's route to n4 and n4's to n1 left the dead path (agents' polls), per agent run.
      routeSwitchS: json.runs.filter((r) => r.variant === 'agent').map((r) => r.switchS ?? null),
      healSByRun: { agent: json.runs.filter((r) => r.variant === 'agent').map((r) => r.healS), batman: json.runs.filter((r) => r.variant === 'batman').map((r) => r.healS) },
      runs: json.runs,
      flaps: json.flaps,
      bootSeconds: run.boot.bootSeconds,
    },
  };
}
