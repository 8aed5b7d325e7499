// The self-healing loop proven on the real kernel: boots Debian's kernel under QEMU once and,
// on a fresh BATMAN_IV diamond per step, runs the healing proofs (test/guest/heal-*.guest.ts)
// with whole agents (the real Healer over the real BatmanDriver) inside: a forced action that
// makes things worse is rolled back; an agent SIGKILLed mid-action restarts cleanly; boot grace
// and limits hold when every link flaps; a flapping neighbour is quarantined with nftables and
// released; a link dead one way is purged at both ends without an interface going down, and on
// primary interfaces quarantined at the end that still hears, with no down either. Each guest
// script checks the kernel (batctl, ip, nft) as the oracle. Without qemu or the kernel it skips
// loudly, except with CI=true, where that is a failure.
import { test } from 'uvu';
import type { VmStep } from '../../scripts/vm/job.ts';
import { diamond } from '../../scripts/vm/topology.ts';
import { vmSuite } from './vm-suite.ts';

const step = (name: string, script: string, timeoutMs: number, gatewayServers?: number[]): VmStep => ({
  name,
  topology: diamond(),
  mesh: { algo: 'BATMAN_IV', ...(gatewayServers ? { gatewayServers } : {}) },
  scripts: [{ path: `test/guest/${script}`, timeoutMs }],
});

const ALL_STEPS: VmStep[] = [
  // n4 serves a gateway there: the gateway probe is checked too.
  step('heal-rollback', 'heal-rollback.guest.ts', 180_000, [4]),
  step('heal-restart', 'heal-restart.guest.ts', 200_000),
  step('heal-quarantine', 'heal-quarantine.guest.ts', 180_000),
  step('heal-storm', 'heal-storm.guest.ts', 200_000),
  // A link dead one way on a non-primary interface: purged without a down/up.
  step('heal-purge', 'heal-purge.guest.ts', 150_000),
  // A link dead one way between two primary interfaces: nothing goes down; the end that still hears quarantines.
  step('heal-primary', 'heal-primary.guest.ts', 150_000),
  // The link echo between two nodes' namespaces over their hard interfaces' link-local addresses.
  step('link-echo', 'link-echo.guest.ts', 120_000),
];
// X0_HEAL_STEPS=heal-storm,heal-rollback runs only those (while working on one proof); never under CI.
const only = process.env.CI === 'true' ? undefined : process.env.X0_HEAL_STEPS?.split(',');
const STEPS = only ? ALL_STEPS.filter((s) => only.includes(s.name)) : ALL_STEPS;

vmSuite(STEPS, {
  label: 'test/vm/heal',
  timeoutMs: 13 * 60_000,
  showPrefixes: ['heal-guest'],
  // What the proofs measured (before/after values, timings): the guest scripts' own log lines.
  afterRun: (run) => {
    for (const r of run.results.steps) for (const x of r.scripts) console.error(`--- ${r.name}:\n${x.output.split('\n').filter((l) => l.startsWith('heal-guest:')).join('\n')}`);
  },
});

test.run();
