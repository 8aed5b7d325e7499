// Four whole agents (or none: batman-adv alone) on the simulated split diamond, stepped a virtual
// second at a time, with the shipped hold and cool-downs (as bench:heal) and no boot grace (the
// mesh is already up). Shared by the tests that count false alarms and OGM airtime over long runs.
import type { Agent } from '../../src/agent/agent.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import type { AgentConfig } from '../../src/config/schema.ts';
import { SimulatedMesh, type SimulatedMeshOptions } from '../../src/mesh/simulator/index.ts';
import { simulatedHost } from '../../src/mapek/sim-host.ts';
import { healingConfig, SPLIT_DIAMOND } from './sim-agent.ts';

export async function diamondAgents(seed: number, linkModel: SimulatedMeshOptions['linkModel'], withAgents: boolean, configure?: (c: AgentConfig) => void) {
  const world = new SimulatedMesh({
    seed, topology: SPLIT_DIAMOND, nodeNames: ['n1', 'n2', 'n3', 'n4'], linkModel,
    settings: (n) => ({ gwMode: n === 3 ? 'server' : 'client' }),
  });
  world.step(90_000);
  const agents: Agent[] = [];
  for (let node = 0; withAgents && node < 4; node++) {
    const config = healingConfig((c) => {
      c.healing.holdS = 120;
      c.healing.quarantineS = 300;
      c.healing.cooldownS = 120;
      configure?.(c);
    });
    config.agent.nodeName = world.nodeName(node);
    const agent = createAgent({
      config, configSource: 'test', driver: world.driver(node), serveStatus: false, manualLoop: true,
      host: simulatedHost(world, node), now: () => world.nowMs, uptimeMs: () => 3_600_000 + world.nowMs,
      random: () => 0.5, journalPath: null,
    });
    await agent.start();
    agents.push(agent);
  }
  const sent = () => {
    let frames = 0;
    for (let n = 0; n < 4; n++) for (const i of world.ifnames) frames += world.interfaceCounters(n, i).txPackets;
    return frames;
  };
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 1000) {
      world.step(1000);
      for (const a of agents) await a.tick();
    }
  };
  const actions = () => agents.flatMap((a) => a.healer!.journal.all().filter((e) => e.state !== 'dry-run').map((e) => ({ node: a.name, e })));
  /** OGM frames per node per second over the next `minutes` (the simulator's links carry only OGMs). */
  const fps = async (minutes: number) => {
    const f0 = sent();
    await run(minutes * 60_000);
    return (sent() - f0) / (minutes * 60) / 4;
  };
  const stop = async () => {
    for (const a of agents) await a.stop();
  };
  return { world, agents, run, fps, actions, stop };
}
