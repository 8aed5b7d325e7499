// Picks the mesh driver the config asks for. The simulator variant gives the agent a world of
// its own (it is node 1 of `simulator.nodes`), run against the wall clock: that is how the
// installed package can be tried on a machine without batman-adv.
import type { AgentConfig } from '../config/index.ts';
import { MeshError, type MeshDriver } from '../mesh/driver.ts';
import { openBatmanDriver } from '../mesh/batman/open-batman-driver.ts';
import { SimulatedMesh, runRealtime } from '../mesh/simulator/index.ts';
import type { Logger } from './logger.ts';

export interface OpenedDriver {
  driver: MeshDriver;
  describeMac?: (mac: string) => string;
}

/**
 * The batman-adv driver could not start: no netlink bridge for this CPU, or one that cannot
 * run here (a wrong-arch or corrupt file: ENOEXEC; an ARM build on an older core: SIGILL). The
 * agent cannot watch the mesh without it, so it stops with this one line and exit 1 rather
 * than run blind and report a healthy-looking /health.
 */
export class MeshDriverUnavailableError extends Error {
  override readonly name = 'MeshDriverUnavailableError';
}

function unavailable(e: MeshError): MeshDriverUnavailableError {
  // SIGILL: an ARM build using instructions this core lacks (the arm bridge on ARMv5/ARMv6).
  const cpu = /ENOEXEC|SIGILL/.test(e.message) ? ` (not a program this ${process.arch} CPU can run)` : '';
  return new MeshDriverUnavailableError(`mesh_driver 'batman-adv' cannot start, the agent cannot watch the mesh: ${e.message}${cpu}`);
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
  try {
    const driver = await openBatmanDriver({
      meshIfname: config.agent.meshInterface,
      onBackgroundError: (e) => log.warn(`batman-adv: ${e.message}`),
    });
    return { driver };
  } catch (e) {
    // Opening only starts the bridges (a missing batman-adv module is reported per call later),
    // so any MeshError here is the bridge's.
    if (e instanceof MeshError) throw unavailable(e);
    throw e;
  }
}
