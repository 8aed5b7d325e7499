// The per-neighbour steering action on the real kernel: boots Debian's kernel under QEMU and runs
// test/guest/steer-neighbour.guest.ts, which builds a shared-medium mesh itself (n1, n2, n3 on
// one bridge), steers n2 off n1's only interface with nftables and checks with batctl and nft
// that the route moved to n3, n3 stayed, data still flowed, and revert restored it. Without qemu
// or the kernel it skips loudly, except with CI=true, where that is a failure.
// NOT in `npm test` (named .manual.ts, run with `npm run test:vm-steer`): in one of three clean
// runs the guest kernel soft-locked (ksoftirqd stuck on both CPUs) while this shared-medium mesh
// was being built, before any agent code ran; until that is understood (a broadcast loop through
// the shared bridge under TCG is the first suspect) it would make CI fail at random.
import { test } from 'uvu';
import { vmSuite } from './vm-suite.ts';

vmSuite([{ name: 'steer-neighbour', scripts: [{ path: 'test/guest/steer-neighbour.guest.ts', timeoutMs: 300_000 }] }], {
  label: 'test/vm/steer',
  timeoutMs: 8 * 60_000,
  showPrefixes: ['heal-guest'],
  afterRun: (run) => {
    for (const r of run.results.steps) for (const x of r.scripts) console.error(`--- ${r.name}:\n${x.output.split('\n').filter((l) => l.startsWith('heal-guest:')).join('\n')}`);
  },
});

test.run();
