// The kernel substrate of bench:heal: boots the QEMU harness (scripts/vm/, Debian's batman-adv)
// and runs bench/heal/guest.ts in it.
import { runInVm } from '../../scripts/vm/run-in-vm.ts';
import { findVmHost } from '../../scripts/vm/kernel.ts';
import { diamond } from '../../scripts/vm/topology.ts';

export async function runKernelBench() {
  findVmHost(); // throws VmUnavailableError with the reason
  const run = await runInVm(
    [{ name: 'heal-iv', topology: diamond(), mesh: { algo: 'BATMAN_IV', origIntervalMs: 1000 }, scripts: [{ path: 'bench/heal/guest.ts', timeoutMs: 900_000 }] }],
    { timeoutMs: 20 * 60_000, onConsole: (l) => process.stderr.write(`${l}\n`) },
  );
  const step = run.results.steps[0]!;
  const script = step.scripts[0];
  process.stderr.write(`--- guest output (tail) ---\n${script?.output.slice(-8000) ?? ''}\n`);
  const json = script?.json as { runs: { variant: string; healS: number; lostS: number; actions: string[] }[]; kernel: string } | undefined;
  if (!json) throw new Error(`guest bench produced no result: ${step.error ?? script?.output.slice(-2000) ?? 'no script ran'}`);
  const mean = (v: string, k: 'healS' | 'lostS') => {
    const xs = json.runs.filter((r) => r.variant === v).map((r) => r[k]);
    return Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;
  };
  return {
    rows: [{ case: 'kernel/diamond-netem-100%-loss', variants: { agent: mean('agent', 'healS'), batman: mean('batman', 'healS') } }],
    summary: {
      substrate: 'kernel',
      kernel: json.kernel,
      algo: 'BATMAN_IV',
      repeats: json.runs.length / 2,
      ratioAgentToBatman: Math.round((mean('agent', 'healS') / mean('batman', 'healS')) * 100) / 100,
      lostSeconds: { agent: mean('agent', 'lostS'), batman: mean('batman', 'lostS') },
      runs: json.runs,
      bootSeconds: run.boot.bootSeconds,
    },
  };
}
