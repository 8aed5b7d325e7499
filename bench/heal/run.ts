// npm run bench:heal — heal time with the agent vs batman-adv alone, same topology, same fault.
// Prints one JSON document on stdout; progress on stderr.
//
// Substrates: "kernel" — Debian's batman-adv in the QEMU harness (scripts/vm/), a diamond of
// veth links joined through a medium namespace, the fault is netem 100 % loss there on the link
// in use (each node still counts what it sends, as radios do), the measure is the gap in a
// continuous ping n1 → n4 over bat0 (guest side: bench/heal/guest.ts); "simulator" — the same
// diamond in the simulator, measured from the world's ground truth (bench/heal/sim.ts).
// `--substrate simulator|kernel|both` (default both; kernel is skipped with a reason in the
// summary when the VM cannot run here, and is an error under CI=true).
import { loadCore } from '../../src/core/index.ts';
import { runScenario, SCENARIOS } from './sim.ts';

interface Row {
  case: string;
  variants: Record<string, number>;
}

const args = process.argv.slice(2);
const substrate = args[args.indexOf('--substrate') + 1] && args.includes('--substrate') ? args[args.indexOf('--substrate') + 1]! : 'both';
const seeds = [1, 2, 3, 4, 5];
const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100;

async function simulator(): Promise<{ rows: Row[]; summary: Record<string, unknown> }> {
  const core = await loadCore();
  const rows: Row[] = [];
  const ratios: Record<string, number> = {};
  for (const s of SCENARIOS) {
    const agent: number[] = [];
    const batman: number[] = [];
    const actions = new Set<string>();
    for (const seed of seeds) {
      const a = await runScenario(s, seed, true, core);
      const b = await runScenario(s, seed, false, core);
      agent.push(a.outageS);
      batman.push(b.outageS);
      for (const x of a.actions) actions.add(x.replace(/:[a-z-]+$/, ''));
      process.stderr.write(`simulator ${s} seed ${seed}: agent ${a.outageS} s, batman ${b.outageS} s (${a.actions.join(', ')})\n`);
    }
    rows.push({ case: `simulator/${s}`, variants: { agent: mean(agent), batman: mean(batman) } });
    ratios[s] = Math.round((mean(agent) / mean(batman)) * 100) / 100;
  }
  return { rows, summary: { substrate: 'simulator', seeds: seeds.length, ratioAgentToBatman: ratios, core: core.kind } };
}

async function kernel(): Promise<{ rows: Row[]; summary: Record<string, unknown> }> {
  const { runKernelBench } = await import('./kernel.ts');
  return runKernelBench();
}

const rows: Row[] = [];
const summaries: Record<string, unknown>[] = [];
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
    summary: { substrates: summaries, goal: 'agent ≤ ½ of batman-adv alone' },
  }) + '\n',
);
