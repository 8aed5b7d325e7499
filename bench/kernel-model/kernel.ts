// Records kernel traces: boots the QEMU harness (scripts/vm/, Debian's batman-adv) once with one
// step per mesh, runs bench/kernel-model/guest.ts in each, and caches what the guests wrote under
// ~/.cache/x0tta6bl4/kernel-traces/<hash>.json, the hash taken over the inputs (the guest and
// recorder sources, features, the steps). A rerun with the same inputs only trains.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runInVm, REPO } from '../../scripts/vm/run-in-vm.ts';
import { findVmHost } from '../../scripts/vm/kernel.ts';
import type { TopologySpec } from '../../scripts/vm/topology.ts';
import type { KernelTrace } from './trace-format.ts';

/** Two six-node meshes (a ring with chords), different seeds: one is held out against the other. */
export const STEPS: { name: string; seed: string; topology: TopologySpec }[] = [
  { name: 'mesh-a', seed: 'a', topology: { name: 'ring6-chords-a', nodes: 6, links: [[1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [1, 6], [1, 4], [2, 5]] } },
  { name: 'mesh-b', seed: 'b', topology: { name: 'ring6-chords-b', nodes: 6, links: [[1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [1, 6], [2, 6], [3, 5]] } },
];

const INPUTS = ['bench/kernel-model/guest.ts', 'bench/kernel-model/kernel.ts', 'src/learning/features.ts', 'src/mapek/knowledge.ts'];

export function traceCacheFile(durationS: number): string {
  const h = createHash('sha256');
  for (const f of INPUTS) h.update(readFileSync(join(REPO, f)));
  h.update(JSON.stringify({ STEPS, durationS }));
  return join(homedir(), '.cache/x0tta6bl4/kernel-traces', `${h.digest('hex').slice(0, 16)}.json`);
}

export async function kernelTraces(durationS: number, log: (s: string) => void): Promise<{ traces: KernelTrace[]; cached: boolean; file: string; bootSeconds?: number }> {
  const file = traceCacheFile(durationS);
  if (existsSync(file)) return { traces: JSON.parse(readFileSync(file, 'utf8')) as KernelTrace[], cached: true, file };
  findVmHost(); // throws VmUnavailableError with the reason
  const perStepMs = (durationS + 150) * 1000;
  const run = await runInVm(
    STEPS.map((s) => ({
      name: s.name, topology: s.topology, mesh: { algo: 'BATMAN_IV' as const, origIntervalMs: 1000, medium: true },
      scripts: [{ path: 'bench/kernel-model/guest.ts', timeoutMs: perStepMs, env: { X0_KM_DURATION_S: String(durationS), X0_KM_SEED: s.seed } }],
    })),
    { timeoutMs: STEPS.length * (perStepMs + 120_000) + 120_000, onConsole: (l) => log(l) },
  );
  const traces: KernelTrace[] = [];
  for (const step of run.results.steps) {
    const script = step.scripts[0];
    const json = script?.json as KernelTrace | undefined;
    if (!json) throw new Error(`step ${step.name} recorded nothing: ${step.error ?? script?.output.slice(-2000) ?? 'no script ran'}`);
    traces.push(json);
  }
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify(traces));
  return { traces, cached: false, file, bootSeconds: run.boot.bootSeconds };
}
