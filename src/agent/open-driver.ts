// Picks the mesh driver the config asks for. The simulator variant gives the agent a world of
// its own (it is node 1 of `simulator.nodes`), run against the wall clock: that is how the
// installed package can be tried on a machine without batman-adv.
import type { AgentConfig } from '../config/index.ts';
import type { MeshDriver } from '../mesh/driver.ts';
import { openBatmanDriver } from '../mesh/batman/open-batman-driver.ts';
import { SimulatedMesh, runRealtime } from '../mesh/simulator/index.ts';
import type { Logger } from './logger.ts';

export interface OpenedDriver {
  driver: MeshDriver;
  describeMac?: (mac: string) => string;
}

export async function openDriver(config: AgentConfig, log: Logger): Promise<OpenedDriver> {
  if (config.agent.meshDriver === 'simulator') {
    const s = config.simulator;
    const world = new SimulatedMesh({ nodes: s.nodes, seed: s.seed, topology: s.topology });
    const run = runRealtime(world, { tickMs: 100 });
    const driver = world.driver(0);
    const close = driver.close.bind(driver);
    driver.close = async () => {
      run.stop();
      await close();
    };
    log.info(`simulated mesh: ${world.nodeCount} nodes, ${s.topology}, seed ${s.seed}`);
    return { driver, describeMac: (m) => world.describeMac(m) };
  }
  const driver = await openBatmanDriver({
    meshIfname: config.agent.meshInterface,
    onBackgroundError: (e) => log.warn(`batman-adv: ${e.message}`),
  });
  return { driver };
}
