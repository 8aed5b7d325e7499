// createAgent: the one way an Agent is built (the daemon, the demo, tests, benches). The caller
// gives the config, the mesh driver and whatever it wants different; the rest is filled in as a
// router has it: host commands through the privileges this process holds, interface counters,
// the system clock and uptime, the action journal in state_dir, the tracer of the config's
// `tracing` section (off by default). Nothing is logged unless a logger is given.
import { hostname } from 'node:os';
import type { AgentConfig } from '../config/schema.ts';
import { createTracer, type AgentTracer } from '../tracing/tracer.ts';
import { tracingSettings } from '../tracing/settings.ts';
import { VERSION } from '../version.ts';
import type { Core } from '../core/index.ts';
import { systemRunner, type CommandRunner } from '../mapek/command-runner.ts';
import type { ScoreRoutes } from '../mapek/route-quality.ts';
import { sysCounters, sysPackets, systemUptimeMs } from '../mapek/system-host.ts';
import type { MeshDriver } from '../mesh/driver.ts';
import { openStationReader } from '../mesh/radio-stations.ts';
import type { ComponentState } from '../status/types.ts';
import { Agent, type AgentHost } from './agent.ts';
import { silentLogger, type Logger } from './logger.ts';
import { privilegedRunner, privilegesHealth, readPrivileges, type ProcessPrivileges } from './privileges.ts';

export interface AgentOptions {
  config: AgentConfig;
  driver: MeshDriver;
  /** Default: nothing logged (tests, benches); the daemon and the demo pass theirs. */
  log?: Logger;
  /** Where the config came from, for /health ("embedded demo default" for the demo). */
  configSource?: string;
  configWarnings?: string[];
  /** The loaded core: its kind shows in /health, route scoring and federated learning run in it. Absent or null: it did not load (the agent still runs). */
  core?: Core | null;
  /** Names MACs in events (the demo knows node names; a router does not). */
  describeMac?: (mac: string) => string;
  /** Status API: false for agents that only live in-process (tests). */
  serveStatus?: boolean;
  /** Route scoring; default the core's (core.scoreRoutes), without either analysis falls back to plain TQ. */
  scoreRoutes?: ScoreRoutes;
  /**
   * Where host commands (ip, nft, wifi) and interface counters come from. Default: the real
   * system for the batman-adv driver; for the simulator nothing (a simulated mesh must never
   * take the host's interfaces down): pass simulatedHost(world, node) from src/mapek/sim-host.ts.
   */
  host?: AgentHost;
  /** The loop's clock, time since boot and randomness (tests run them in virtual time). */
  now?: () => number;
  uptimeMs?: () => number;
  random?: () => number;
  /** Journal file; default <state_dir>/journal.json for batman-adv, memory only for the simulator. */
  journalPath?: string | null;
  /** No timers: the caller drives the loop with tick() (tests, benchmarks). */
  manualLoop?: boolean;
  /** The driver could not start, and why: the agent only serves status (Agent, meshDown). */
  meshDown?: string;
  /** Default: createTracer from the config's `tracing` section. */
  tracer?: AgentTracer;
}

/** OTel resource service.name of every span the agent exports. */
export const SERVICE_NAME = 'x0tta6bl4-agent';

/** Where the config came from when the caller does not say: built in code (tests, benches). */
const BUILT_IN_CODE = 'config built in code';

const refusingRunner: CommandRunner = async (argv) => ({ code: 127, stdout: '', stderr: `${argv[0]}: no host commands for a simulated mesh` });

export function createAgent(options: AgentOptions): Agent {
  const now = options.now ?? Date.now;
  const simulated = options.driver.kind === 'simulator';
  const { privileges, health } = processPrivileges(simulated);
  const started = now();
  return new Agent({
    ...options,
    log: options.log ?? silentLogger,
    configSource: options.configSource ?? BUILT_IN_CODE,
    configWarnings: options.configWarnings ?? [],
    core: options.core ?? null,
    serveStatus: options.serveStatus !== false,
    manualLoop: options.manualLoop === true,
    scoreRoutes: options.scoreRoutes ?? options.core?.scoreRoutes ?? null,
    host: options.host ?? hostOf(simulated, privileges),
    now,
    // Boot grace counts from boot; where /proc/uptime is unreadable, from the agent's start.
    uptimeMs: options.uptimeMs ?? (() => systemUptimeMs() ?? now() - started),
    random: options.random ?? Math.random,
    privileges: health,
    tracer: options.tracer ?? agentTracer(options.config),
  });
}

/** The tracer of the config's `tracing` section (a no-op tracer when it is off, the default). */
function agentTracer(config: AgentConfig): AgentTracer {
  return createTracer(tracingSettings(config.tracing), { serviceName: SERVICE_NAME, serviceVersion: VERSION, hostName: config.agent.nodeName || hostname() });
}

/** This process's privileges and what /health says of them; null when /proc cannot tell. */
function processPrivileges(simulated: boolean): { privileges: ProcessPrivileges | null; health: { state: ComponentState; reason: string } } {
  try {
    const privileges = readPrivileges();
    return { privileges, health: privilegesHealth(privileges, { needsNetAdmin: !simulated }) };
  } catch (e) {
    return { privileges: null, health: { state: 'degraded', reason: (e as Error).message } };
  }
}

function hostOf(simulated: boolean, privileges: ProcessPrivileges | null): AgentHost {
  if (simulated) return { run: refusingRunner };
  // As the unprivileged user, reboot and wifi reload go through ubus and root-only commands are refused.
  return { run: privileges ? privilegedRunner(systemRunner, privileges) : systemRunner, counters: sysCounters, packets: sysPackets, openStations: () => openStationReader() };
}
