// Records kernel traces: boots the QEMU harness (scripts/vm/, Debian's batman-adv) once, with one
// step per mesh still missing from the cache, runs bench/kernel-model/guest.ts in each, and
// caches each mesh's trace under ~/.cache/x0tta6bl4/kernel-traces/<hash>.json, the hash taken over
// what makes the trace (the guest's and the feature code's sources, the mesh, its seed, the fault
// seconds). A rerun with the same inputs only trains; a new mesh records only that mesh.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runInVm, REPO } from '../../scripts/vm/run-in-vm.ts';
import { findVmHost } from '../../scripts/vm/kernel.ts';
import type { TopologySpec } from '../../scripts/vm/topology.ts';
import type { KernelTrace } from './trace-format.ts';

interface MeshStep {
  name: string;
  seed: string;
  topology: TopologySpec;
}

/** Six-node meshes (a ring with chords), each with its own fault seed; each is held out in turn. */
export const STEPS: MeshStep[] = [
  { name: 'mesh-a', seed: 'a', topology: { name: 'ring6-chords-a', nodes: 6, links: [[1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [1, 6], [1, 4], [2, 5]] } },
  { name: 'mesh-b', seed: 'b', topology: { name: 'ring6-chords-b', nodes: 6, links: [[1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [1, 6], [2, 6], [3, 5]] } },
  { name: 'mesh-c', seed: 'c', topology: { name: 'ring6-chords-c', nodes: 6, links: [[1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [1, 6], [1, 3], [4, 6]] } },
  { name: 'mesh-d', seed: 'd', topology: { name: 'ring6-chords-d', nodes: 6, links: [[1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [1, 6], [1, 5], [2, 4]] } },
];

const INPUTS = ['bench/kernel-model/guest.ts', 'src/learning/features.ts', 'src/mapek/knowledge.ts'];

export function traceCacheFile(step: MeshStep, durationS: number): string {
  const h = createHash('sha256');
  for (const f of INPUTS) h.update(readFileSync(join(REPO, f)));
  h.update(JSON.stringify({ step, durationS, algo: 'BATMAN_IV', origIntervalMs: 1000, medium: true }));
  return join(homedir(), '.cache/x0tta6bl4/kernel-traces', `${step.name}-${h.digest('hex').slice(0, 16)}.json`);
}

export async function kernelTraces(durationS: number, log: (s: string) => void, steps: MeshStep[] = STEPS): Promise<{ traces: KernelTrace[]; recorded: string[]; files: string[]; bootSeconds?: number }> {
  const files = steps.map((s) => traceCacheFile(s, durationS));
  const missing = steps.filter((_, i) => !existsSync(files[i]!));
  let bootSeconds: number | undefined;
  if (missing.length) {
    findVmHost(); // throws VmUnavailableError with the reason
    const perStepMs = (durationS + 240) * 1000;
    const run = await runInVm(
      missing.map((s) => ({
        name: s.name, topology: s.topology, mesh: { algo: 'BATMAN_IV' as const, origIntervalMs: 1000, medium: true },
        scripts: [{ path: 'bench/kernel-model/guest.ts', timeoutMs: perStepMs, env: { X0_KM_DURATION_S: String(durationS), X0_KM_SEED: s.seed } }],
      })),
      { timeoutMs: missing.length * (perStepMs + 120_000) + 120_000, onConsole: (l) => log(l) },
    );
    bootSeconds = run.boot.bootSeconds;
    for (const s of missing) {
      const step = run.results.steps.find((x) => x.name === s.name);
      const script = step?.scripts[0];
      const json = script?.json as KernelTrace | undefined;
      if (!json) throw new Error(`mesh ${s.name} recorded nothing: ${step?.error ?? script?.output.slice(-2000) ?? 'the step did not run'}`);
      const file = traceCacheFile(s, durationS);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, JSON.stringify(json));
    }
  }
  const traces = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as KernelTrace);
  return { traces, recorded: missing.map((s) => s.name), files, ...(bootSeconds !== undefined ? { bootSeconds } : {}) };
}
