// One VM run as a uvu suite: boots Debian's kernel under QEMU once for all `steps`, then reports
// the boot, every step's mesh and every guest script as tests. Without qemu or the kernel it
// skips loudly, except with CI=true, where that is a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scriptPassed, type VmStep } from '../../scripts/vm/job.ts';
import { VmUnavailableError, findVmHost } from '../../scripts/vm/kernel.ts';
import { runInVm, type VmRun } from '../../scripts/vm/run-in-vm.ts';

export interface VmSuiteOptions {
  /** For the skip message ("test/vm/heal"). */
  label: string;
  timeoutMs: number;
  /** Guest console lines shown live besides the harness's own `x0vm` ones (X0VM_VERBOSE=1: all). */
  showPrefixes?: string[];
  /** After a run, e.g. to print what the guest scripts measured. */
  afterRun?: (run: VmRun) => void;
}

export function vmSuite(steps: VmStep[], o: VmSuiteOptions): void {
  let run: VmRun | undefined;
  let unavailable: string | undefined;
  /** Why there is no run (uvu swallows an error thrown in a before hook, so it is kept and reported by every test). */
  let failure: string | undefined;
  const prefixes = ['x0vm', ...(o.showPrefixes ?? [])];

  test.before(async () => {
    try {
      findVmHost();
    } catch (e) {
      if (!(e instanceof VmUnavailableError)) throw e;
      if (process.env.CI === 'true') {
        failure = `CI=true and the VM cannot run: ${e.message}`;
        return;
      }
      unavailable = e.message;
      console.error(`\n*** ${o.label} SKIPPED: ${e.message} (with CI=true this fails) ***\n`);
      return;
    }
    const verbose = process.env.X0VM_VERBOSE === '1';
    try {
      run = await runInVm(steps, { timeoutMs: o.timeoutMs, onConsole: (l) => (verbose || prefixes.some((p) => l.startsWith(p))) && console.error(l) });
    } catch (e) {
      failure = `${(e as Error).name}: ${(e as Error).message}`;
      return;
    }
    o.afterRun?.(run);
    console.error(`VM: kernel ${run.boot.kernelVersion}, batman-adv ${run.results.batmanVersion}, booted in ${run.boot.bootSeconds}s, whole run ${(run.boot.elapsedMs / 1000).toFixed(1)}s (results in ${run.boot.resultsDir})`);
  });

  /** false: skipped (no VM here, not CI). Fails the calling test when the VM could not run. */
  const haveRun = (): boolean => {
    if (failure) assert.unreachable(failure);
    return !unavailable;
  };

  test('the VM booted and the guest runner finished every step', () => {
    if (!haveRun()) return;
    assert.ok(run, 'no VM run');
    assert.not.ok(run.boot.timedOut, `the VM was killed at its deadline after ${run.boot.elapsedMs} ms`);
    assert.is(run.results.error, undefined);
    assert.is(run.boot.exitCode, 0, 'guest runner exit code');
    assert.equal(run.results.steps.map((s) => s.name), steps.map((s) => s.name));
  });

  for (const step of steps) {
    test(`${step.name}: mesh built${step.topology ? ' and converged' : ''}`, () => {
      if (!haveRun()) return;
      const r = run!.results.steps.find((s) => s.name === step.name);
      assert.ok(r, `step ${step.name} did not run`);
      assert.is(r.error, undefined, r.error);
      assert.is(r.scripts.length, step.scripts.length);
    });
    step.scripts.forEach((script, i) => {
      test(`${step.name}: ${script.path}`, () => {
        if (!haveRun()) return;
        const s = run!.results.steps.find((x) => x.name === step.name)?.scripts[i];
        assert.ok(s, 'did not run');
        if (!scriptPassed(s)) assert.unreachable(`exit ${s.exitCode}${s.timedOut ? ' (timed out)' : ''}, tests ${s.tests?.passed ?? '?'}/${s.tests?.total ?? '?'}:\n${s.output}`);
      });
    });
  }
}
