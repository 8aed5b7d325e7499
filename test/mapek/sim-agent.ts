// A full agent on one node of a simulated mesh, driven in virtual time: every tick steps the
// world by the poll interval and runs one poll and one turn of the healing loop.
import { defaultConfig } from '../../src/config/index.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import type { Logger } from '../../src/agent/logger.ts';
import { IDEAL_LINK_MODEL, SimulatedMesh, type SimulatedMeshOptions } from '../../src/mesh/simulator/index.ts';
import { simulatedHost, type SimulatedHost } from '../../src/mapek/sim-host.ts';
import type { ScoreRoutes } from '../../src/mapek/route-quality.ts';
import type { AgentConfig } from '../../src/config/schema.ts';
import type { AgentTracer } from '../../src/tracing/tracer.ts';

/** The diamond as the VM harness builds it: one interface per link (n1 reaches n2 on mesh0 only, n3 on mesh1 only). */
export const SPLIT_DIAMOND: SimulatedMeshOptions['topology'] = {
  links: [
    { a: 0, b: 1, bands: [0] },
    { a: 0, b: 2, bands: [1] },
    { a: 1, b: 3, bands: [1] },
    { a: 2, b: 3, bands: [0] },
  ],
};

export interface SimAgentOptions {
  world?: SimulatedMeshOptions;
  node?: number;
  configure?: (c: AgentConfig) => void;
  score?: ScoreRoutes;
  journalPath?: string | null;
  log?: Logger;
  uptimeMs?: () => number;
  /** Serve the status API on this Unix socket. */
  socket?: string;
  /** Bring up a converged mesh first (virtual ms). */
  warmupMs?: number;
  /** Default: the config's (tracing off). */
  tracer?: AgentTracer;
}

export function healingConfig(configure?: (c: AgentConfig) => void): AgentConfig {
  const c = defaultConfig();
  c.agent.meshDriver = 'simulator';
  c.healing.bootGraceS = 0;
  c.healing.startupJitterS = 0;
  c.healing.verifyWindowS = 10;
  c.healing.holdS = 60;
  c.healing.quarantineS = 60;
  c.healing.cooldownS = 30;
  configure?.(c);
  return c;
}

export async function simAgent(options: SimAgentOptions = {}) {
  const world = new SimulatedMesh({
    seed: 3,
    topology: SPLIT_DIAMOND,
    linkModel: IDEAL_LINK_MODEL,
    nodeNames: ['n1', 'n2', 'n3', 'n4'],
    settings: (n) => ({ gwMode: n === 3 ? 'server' : 'client' }),
    ...options.world,
  });
  world.step(options.warmupMs ?? 90_000);
  return attach(world, options);
}

/** An agent on an existing world (a restart: a new agent, the same world and journal). */
export async function attach(world: SimulatedMesh, options: SimAgentOptions = {}) {
  const node = options.node ?? 0;
  const host: SimulatedHost = simulatedHost(world, node);
  const config = healingConfig(options.configure);
  config.agent.nodeName = world.nodeName(node);
  if (options.socket) config.status.socket = options.socket;
  const agent = createAgent({
    config,
    driver: world.driver(node),
    log: options.log,
    serveStatus: options.socket !== undefined,
    manualLoop: true,
    // Late-bound, so that a test can swap host.run (e.g. to make a command hang).
    host: { counters: host.counters, sleep: host.sleep, run: (argv, opts) => host.run(argv, opts) },
    now: () => world.nowMs,
    uptimeMs: options.uptimeMs ?? (() => 3_600_000 + world.nowMs),
    random: () => 0.5,
    scoreRoutes: options.score,
    journalPath: options.journalPath ?? null,
    describeMac: (m) => world.describeMac(m),
    ...(options.tracer ? { tracer: options.tracer } : {}),
  });
  await agent.start();
  const intervalMs = config.healing.intervalS * 1000;
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += intervalMs) {
      world.step(intervalMs);
      await agent.tick();
    }
  };
  const journal = () => agent.healer!.journal.all();
  const events = () => agent.knowledge.recentEvents();
  return { world, agent, host, run, journal, events, node };
}
