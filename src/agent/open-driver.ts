// Picks the mesh driver the config asks for. The simulator variant gives the agent a world of
// its own (it is node 1 of `simulator.nodes`), run against the wall clock: that is how the
// installed package can be tried on a machine without batman-adv.
import { readFileSync } from 'node:fs';
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
 * run here (a wrong-arch or corrupt file: ENOEXEC; an ARM build on an older core: SIGILL).
 * `reason` is what /health says of the mesh; the message is the one line the agent prints.
 */
export class MeshDriverUnavailableError extends Error {
  override readonly name = 'MeshDriverUnavailableError';
  constructor(readonly reason: string) {
    super(`mesh_driver 'batman-adv' cannot start, the agent cannot watch the mesh: ${reason}`);
  }
}

/** Node's arch as an operator reads it: 'mips' is the big-endian one (ath79, mips_24kc). */
export function archLabel(arch: string): string {
  return arch === 'mips' ? 'mips (big-endian)' : arch;
}

/** "ARMv5TEJ" from /proc/cpuinfo's "CPU architecture: 5TEJ" line, or undefined. */
export function armCpuArchitecture(cpuinfo: string): string | undefined {
  const m = /^CPU architecture\s*:\s*(\S+)/m.exec(cpuinfo);
  return m ? `ARMv${m[1]}` : undefined;
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

// The oldest core the shipped arm bridge runs on (scripts/build-native.mjs: -march=armv5te).
const ARM_BRIDGE_NEEDS = 'ARMv5TE';

/**
 * Why the bridge cannot serve, from the MeshError opening it gave, in the words an operator
 * needs: which arch has no bridge, or that this CPU cannot run the one installed.
 */
export function bridgeProblem(message: string, arch: string = process.arch, cpuinfo: () => string = readCpuinfo): string {
  const none = /^no netlink bridge for [^;]*(;.*)?$/s.exec(message);
  if (none) return `no netlink bridge for ${archLabel(arch)}${none[1] ?? ''}`;
  if (/signal SIGILL/.test(message)) {
    // An ARM build using instructions this core lacks: say which core this is where the kernel tells.
    const cpu = arch === 'arm' ? armCpuArchitecture(cpuinfo()) : undefined;
    const what =
      arch === 'arm'
        ? `the arm bridge needs ${ARM_BRIDGE_NEEDS} or later${cpu ? `: this CPU is ${cpu}` : ''} (illegal instruction)`
        : `the ${archLabel(arch)} bridge uses instructions this CPU lacks (illegal instruction)`;
    return `${what}: ${message}`;
  }
  if (/ENOEXEC/.test(message)) return `${message} (not a program this ${archLabel(arch)} CPU can run)`;
  return message;
}

/**
 * What the agent holds in place of a driver when the bridge cannot run: every read fails with
 * the reason, so nothing reads an empty mesh as a healthy one. The agent with `meshDown` never
 * polls it; it is there so /status has a driver kind to name.
 */
export function unavailableDriver(reason: string): MeshDriver {
  const fail = () => Promise.reject(new MeshError('TRANSPORT', reason));
  return {
    kind: 'batman-adv',
    mesh: fail,
    settings: fail,
    interfaces: fail,
    originators: fail,
    neighbours: fail,
    gateways: fail,
    setMesh: fail,
    setHardIf: fail,
    onSettingsChanged: () => () => {},
    close: async () => {},
  };
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
    if (e instanceof MeshError) throw new MeshDriverUnavailableError(bridgeProblem(e.message));
    throw e;
  }
}
