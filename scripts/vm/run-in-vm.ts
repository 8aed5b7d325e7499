// The reusable entry point: boot a VM, run guest scripts against meshes built in it, collect
// their JSON results.
//
//   const run = await runInVm([{ name: 'heal', topology: diamond(), mesh: { algo: 'BATMAN_V' },
//                                scripts: [{ path: 'bench/heal/guest.ts' }] }]);
//   run.results.steps[0].scripts[0].json   // what the script wrote to $X0VM_OUT
//
// Throws VmUnavailableError when qemu/kernel/busybox are missing, VmRunError when the VM did
// not boot or the guest runner left no results.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootVm, type BootOptions, type BootResult } from './boot.ts';
import { bundleEntries } from './bundle.ts';
import type { VmJob, VmRunResults, VmStep } from './job.ts';

export class VmRunError extends Error {
  override readonly name = 'VmRunError';
  constructor(
    message: string,
    readonly boot: BootResult,
  ) {
    super(message);
  }
}

export interface RunInVmOptions extends Omit<BootOptions, 'script'> {
  /** The checkout to run from (default: this one). */
  repo?: string;
  /**
   * Bundle the runner and scripts with esbuild on the host first (default true): far faster
   * under TCG than tsx compiling in the guest. false runs them with `node --import tsx`.
   */
  bundle?: boolean;
}

export interface VmRun {
  boot: BootResult;
  results: VmRunResults;
}

export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export async function runInVm(steps: VmStep[], opts: RunInVmOptions = {}): Promise<VmRun> {
  const repo = opts.repo ?? REPO;
  const resultsDir = opts.resultsDir ?? mkdtempSync(join(tmpdir(), 'x0vm-'));
  // Guest scripts may drop privileges (permission tests): the bundles must stay readable.
  chmodSync(resultsDir, 0o755);
  const job: VmJob = { repo, steps: steps.map((s) => ({ ...s, scripts: s.scripts.map((x) => ({ ...x })) })) };
  let runner = '--import tsx scripts/vm/guest-runner.ts';
  if (opts.bundle !== false) {
    const bridge = join(repo, 'dist/native/x0tta6bl4-nlbridge-x64');
    if (!existsSync(bridge)) throw new Error(`${bridge} missing: run npm run build:native first`);
    job.bridge = bridge;
    const entries = ['scripts/vm/guest-runner.ts', ...job.steps.flatMap((s) => s.scripts.map((x) => x.path))];
    // Bundles go to the results folder: the guest sees it at /x0vm.
    const bundles = await bundleEntries(repo, entries, join(resultsDir, 'bundle'));
    const inGuest = (p: string) => p.replace(resultsDir, '/x0vm');
    for (const s of job.steps) for (const x of s.scripts) x.bundle = inGuest(bundles.get(x.path)!);
    runner = `--enable-source-maps ${inGuest(bundles.get('scripts/vm/guest-runner.ts')!)}`;
  }
  writeFileSync(join(resultsDir, 'job.json'), JSON.stringify(job, null, 2));
  // The runner's own log goes to the console (the host sees it live) and to runner.log.
  const script = `cd '${repo.replace(/'/g, `'\\''`)}' || exit 3\n{ node ${runner} /x0vm/job.json; echo $? > /x0vm/runner-exit; } 2>&1 | tee /x0vm/runner.log\nexit $(cat /x0vm/runner-exit)\n`;
  const boot = await bootVm({ ...opts, resultsDir, script });
  // The bundles are rebuilt every run; the logs and results stay for a look after a failure.
  rmSync(join(resultsDir, 'bundle'), { recursive: true, force: true });
  const file = join(resultsDir, 'results.json');
  if (!boot.booted) throw new VmRunError(`the VM did not boot${boot.timedOut ? ' (killed at the deadline)' : ''}; console tail:\n${boot.console.slice(-3000)}`, boot);
  if (!existsSync(file)) throw new VmRunError(`the guest runner wrote no results${boot.timedOut ? ' (VM killed at the deadline)' : ''}; console tail:\n${boot.console.slice(-3000)}`, boot);
  const results = JSON.parse(readFileSync(file, 'utf8')) as VmRunResults;
  return { boot, results };
}
