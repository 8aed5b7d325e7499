// What the host asks the guest to do (job.json in the results folder) and what the guest
// answers (results.json). Shared by the host side (run-in-vm.ts) and guest-runner.ts.
import type { MeshOptions, RoutingAlgo, TopologySpec } from './topology.ts';

export interface GuestScript {
  /** Path relative to the checkout, run as `node --import tsx PATH ARGS...` from the checkout. */
  path: string;
  args?: string[];
  /** Default 120 s (TCG is slow: a tsx start alone takes ~4 s). */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Set by runInVm: the host-built bundle to run instead (`node --enable-source-maps BUNDLE`). */
  bundle?: string;
}

export interface VmStep {
  name: string;
  /** modprobe batman-adv before this step (default true). false: the step sees no module (only before the first loading step). */
  modprobe?: boolean;
  /** The mesh to build (namespaces n1..nN); none: scripts run with no mesh. Each step starts from no namespaces. */
  topology?: TopologySpec;
  mesh?: MeshOptions;
  /** Wait until every node has a best route to every other (default true with a topology). */
  waitConverged?: boolean;
  /** Give up waiting for convergence after this long (default 90 s). */
  convergeTimeoutMs?: number;
  scripts: GuestScript[];
}

export interface VmJob {
  /** The checkout's path (the same inside the guest: the host root is shared). */
  repo: string;
  /** The netlink bridge binary for bundled scripts ($X0TTA6BL4_NLBRIDGE). */
  bridge?: string;
  steps: VmStep[];
}

export interface ScriptResult {
  path: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  seconds: number;
  /** stdout+stderr, the last 64 KiB. */
  output: string;
  /** uvu's summary, when the script is a uvu test file. */
  tests?: { total: number; passed: number };
  /** Whatever the script wrote as JSON to $X0VM_OUT. */
  json?: unknown;
  /** $X0VM_OUT existed but was not JSON. */
  jsonError?: string;
}

export interface StepResult {
  name: string;
  topology?: string;
  algo?: RoutingAlgo;
  setupSeconds: number;
  convergedSeconds?: number;
  /** Why the step could not run its scripts (setup or convergence failed). */
  error?: string;
  scripts: ScriptResult[];
}

export interface VmRunResults {
  kernel: string;
  /** batman-adv version once loaded ("2022.3"). */
  batmanVersion?: string;
  steps: StepResult[];
  /** Guest uptime when the runner finished, s. */
  uptimeSeconds: number;
  /** The runner itself failed (bad job...). */
  error?: string;
}

/** A script passed: exit 0, not timed out, and if it is a uvu file, every test passed and at least one ran. */
export function scriptPassed(s: ScriptResult): boolean {
  if (s.exitCode !== 0 || s.timedOut) return false;
  return s.tests === undefined || (s.tests.total > 0 && s.tests.passed === s.tests.total);
}
