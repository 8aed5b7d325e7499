// `x0tta6bl4 demo` (what `npm start` runs): a simulated mesh with one full agent per node in
// this process, each serving its own status API, with a fault injected every few seconds and a
// live summary, until stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../config/index.ts';
import { SimulatedMesh, runRealtime, type TopologyKind } from '../mesh/simulator/index.ts';
import type { Agent } from '../agent/agent.ts';
import { createAgent } from '../agent/create-agent.ts';
import type { Logger } from '../agent/logger.ts';
import type { Core } from '../core/index.ts';
import { simulatedHost } from '../mapek/sim-host.ts';
import { FaultSchedule } from './fault-schedule.ts';
import { renderSummary } from './summary.ts';

export interface DemoOptions {
  nodes: number;
  seed: number;
  topology: TopologyKind;
  faultEveryS: number;
  /** Stop by itself after this many seconds (0: run until stopped). */
  durationS: number;
  /** Redraw in place (a terminal) or print one block per screen (a pipe, a log). */
  redraw: boolean;
  screenEveryS: number;
  core: Core | null;
  log: Logger;
  out: (text: string) => void;
  stop: Promise<unknown>;
  /** Serves the LuCI page for node n1 when given; returns its URL. */
  startLuci?: (socketPath: string) => Promise<{ url: string; close(): Promise<void> }>;
}

export async function runDemo(demo: DemoOptions): Promise<void> {
  const world = warmedUpWorld(demo);
  const socketDir = mkdtempSync(join(tmpdir(), 'x0tta6bl4-demo-'));
  const agents: Agent[] = [];
  let luci: { url: string; close(): Promise<void> } | null = null;
  const run = runRealtime(world, { tickMs: 100 });
  const timers: NodeJS.Timeout[] = [];
  try {
    for (let i = 0; i < world.nodeCount; i++) {
      const agent = demoAgent(demo, world, i, socketDir);
      agents.push(agent);
      await agent.start();
    }
    if (demo.startLuci) luci = await demo.startLuci(join(socketDir, 'n1.sock'));
    await showUntilStopped(demo, world, agents, timers, { socketDir, luciUrl: luci?.url ?? null });
  } finally {
    for (const t of timers) clearInterval(t);
    run.stop();
    await luci?.close();
    await Promise.allSettled(agents.map((a) => a.stop()));
    rmSync(socketDir, { recursive: true, force: true });
  }
}

function warmedUpWorld(demo: DemoOptions): SimulatedMesh {
  const world = new SimulatedMesh({
    nodes: demo.nodes,
    seed: demo.seed,
    topology: demo.topology,
    nodeNames: Array.from({ length: demo.nodes }, (_, i) => `n${i + 1}`),
    // n1 is the mesh's uplink: the others select it as gateway, so losing it shows.
    settings: (node) => ({ gwMode: node === 0 ? 'server' : 'client' }),
  });
  // batman-adv needs a full 64-OGM window (a minute at 1 OGM/s) before TQ settles: start from a
  // mesh that has run for two minutes, as one would find it on a real router.
  world.step(120_000);
  return world;
}

/** Node i's agent: the shipped defaults on the simulated driver, its status API in socketDir. */
function demoAgent(demo: DemoOptions, world: SimulatedMesh, i: number, socketDir: string): Agent {
  const config = defaultConfig();
  config.agent.nodeName = world.nodeName(i);
  config.agent.meshDriver = 'simulator';
  config.status.socket = join(socketDir, `${world.nodeName(i)}.sock`);
  config.status.httpPort = 0;
  return createAgent({
    config,
    configSource: 'embedded demo default',
    driver: world.driver(i),
    log: demo.log.child(world.nodeName(i)),
    core: demo.core,
    // Healing actions act on the simulated world, never on this machine's interfaces.
    host: simulatedHost(world, i),
    describeMac: (m) => world.describeMac(m),
  });
}

/** Injects a fault every faultEveryS and shows the summary every screenEveryS until stopped. */
async function showUntilStopped(
  demo: DemoOptions,
  world: SimulatedMesh,
  agents: Agent[],
  timers: NodeJS.Timeout[],
  where: { socketDir: string; luciUrl: string | null },
): Promise<void> {
  const injected: string[] = [];
  const noticed: string[] = [];
  const started = Date.now();
  const stamp = () => new Date().toISOString().slice(11, 19);
  for (const a of agents)
    a.knowledge.onEvent((e) => {
      if (e.kind !== 'info') noticed.push(`${stamp()} ${a.name}: ${e.message}`);
    });
  const faults = new FaultSchedule(demo.seed);
  timers.push(
    setInterval(() => {
      try {
        injected.push(`${stamp()} ${faults.inject(world)}`);
      } catch (e) {
        demo.log.warn(`fault injection failed: ${(e as Error).message}`);
      }
    }, demo.faultEveryS * 1000),
  );
  const screen = () => {
    const text = renderSummary({
      elapsedS: (Date.now() - started) / 1000,
      nodes: agents.map((a) => a.status()),
      injected: injected.slice(-5),
      noticed: noticed.slice(-8),
      ...where,
      describeMac: (m) => world.describeMac(m),
    });
    // In a terminal, redraw in place; in a pipe, only what is new since the last screen.
    if (demo.redraw) demo.out(`\x1b[H\x1b[2J${text}`);
    else demo.out(`${text}\n${'─'.repeat(60)}`);
    if (!demo.redraw) {
      injected.length = 0;
      noticed.length = 0;
    }
  };
  timers.push(setInterval(screen, demo.screenEveryS * 1000));
  const stopAfter =
    demo.durationS > 0 ? new Promise((r) => timers.push(setTimeout(r, demo.durationS * 1000))) : new Promise(() => {});
  await Promise.race([demo.stop, stopAfter]);
  screen();
}
