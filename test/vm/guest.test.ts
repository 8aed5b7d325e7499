// Boots Debian's kernel under QEMU once, builds the meshes below in network namespaces, runs
// the guest tests (test/guest/*.guest.ts) inside against the real batman-adv, and reports each
// guest script as a test here. Fails when the VM does not boot or any guest test fails. Without
// qemu or the kernel it skips loudly, except with CI=true, where that is a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scriptPassed, type VmStep } from '../../scripts/vm/job.ts';
import { VmUnavailableError, findVmHost } from '../../scripts/vm/kernel.ts';
import { runInVm, type VmRun } from '../../scripts/vm/run-in-vm.ts';
import { chain, diamond, triangle } from '../../scripts/vm/topology.ts';

const STEPS: VmStep[] = [
  // First, while batman-adv is not loaded (and cannot be autoloaded).
  { name: 'no-module', modprobe: false, scripts: [{ path: 'test/guest/no-module.guest.ts' }] },
  {
    name: 'iv-triangle',
    topology: triangle(),
    mesh: { algo: 'BATMAN_IV', gatewayServers: [3] },
    scripts: [{ path: 'test/guest/tables.guest.ts' }, { path: 'test/guest/errors.guest.ts' }, { path: 'test/guest/settings.guest.ts' }],
  },
  {
    name: 'v-diamond',
    topology: diamond(),
    mesh: { algo: 'BATMAN_V', gatewayServers: [4] },
    scripts: [{ path: 'test/guest/tables.guest.ts' }, { path: 'test/guest/settings.guest.ts' }, { path: 'test/guest/cli.guest.ts' }],
  },
  {
    // Multi-hop: five hops end to end. Only the route tables, to keep the VM run short.
    name: 'iv-chain6',
    topology: chain(6),
    mesh: { algo: 'BATMAN_IV' },
    scripts: [{ path: 'test/guest/tables.guest.ts', env: { X0VM_TABLES: 'originators,neighbours' } }, { path: 'test/guest/bridge.guest.ts' }],
  },
];

let run: VmRun | undefined;
let unavailable: string | undefined;
/** Why there is no run (uvu swallows an error thrown in a before hook, so it is kept and reported by every test). */
let failure: string | undefined;

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
    console.error(`\n*** test/vm SKIPPED: ${e.message} (with CI=true this fails) ***\n`);
    return;
  }
  const verbose = process.env.X0VM_VERBOSE === '1';
  try {
    run = await runInVm(STEPS, { timeoutMs: 12 * 60_000, onConsole: (l) => (verbose || l.startsWith('x0vm')) && console.error(l) });
  } catch (e) {
    failure = `${(e as Error).name}: ${(e as Error).message}`;
    return;
  }
  console.error(`VM: kernel ${run.boot.kernelVersion}, batman-adv ${run.results.batmanVersion}, booted in ${run.boot.bootSeconds}s, whole run ${(run.boot.elapsedMs / 1000).toFixed(1)}s (results in ${run.boot.resultsDir})`);
});

/** false: skipped (no VM here, not CI). Fails the calling test when the VM could not run. */
function haveRun(): boolean {
  if (failure) assert.unreachable(failure);
  return !unavailable;
}

test('the VM booted and the guest runner finished every step', () => {
  if (!haveRun()) return;
  assert.ok(run, 'no VM run');
  assert.not.ok(run.boot.timedOut, `the VM was killed at its deadline after ${run.boot.elapsedMs} ms`);
  assert.is(run.results.error, undefined);
  assert.is(run.boot.exitCode, 0, 'guest runner exit code');
  assert.equal(run.results.steps.map((s) => s.name), STEPS.map((s) => s.name));
});

for (const step of STEPS) {
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

test.run();
