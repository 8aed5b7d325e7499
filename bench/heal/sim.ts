// Heal time on the simulator: the same fault on the same seeded mesh, once with an agent on
// every node and once with batman-adv alone. "Connected" is ground truth from the world: the
// best-route chain n1→n4 and n4→n1 walks only over links that deliver (a continuous ping across
// the mesh would get through). Heal seconds = how long after the fault it was not connected.
import type { Agent } from '../../src/agent/agent.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import type { Core } from '../../src/core/index.ts';
import { IDEAL_LINK_MODEL, SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { simulatedHost } from '../../src/mapek/sim-host.ts';
import { healingConfig, SPLIT_DIAMOND } from '../../test/mapek/sim-agent.ts';

export type Scenario = 'dead-link' | 'flapping-neighbour' | 'stuck-interface';
export const SCENARIOS: Scenario[] = ['dead-link', 'flapping-neighbour', 'stuck-interface'];

const PROBE_MS = 100;
const WINDOW_MS = 60_000;

/** Does n1's traffic reach n4 and back, walking best next hops over links that deliver? */
export function connected(world: SimulatedMesh, a: number, b: number): boolean {
  return reaches(world, a, b) && reaches(world, b, a);
}

function reaches(world: SimulatedMesh, from: number, to: number): boolean {
  const dest = world.macOf(to, world.ifnames[world.engine.primary[to]! % world.ifnames.length]!);
  const links = world.links();
  let node = from;
  for (let hops = 0; hops < 8; hops++) {
    if (node === to) return true;
    let best;
    try {
      best = world.originatorsOf(node).find((o) => o.originator === dest && o.best);
    } catch {
      return false; // no primary interface: nothing is routed
    }
    if (!best) return false;
    const next = world.nodeOfMac(best.nextHop);
    const k = world.ifnames.indexOf(best.hardIfname);
    const l = links.find((x) => x.ifname === world.ifnames[k] && ((x.a === node && x.b === next) || (x.a === next && x.b === node)));
    if (!l) return false;
    const fwd = l.a === node ? l.pdrAB : l.pdrBA;
    const st = world.interfaceState(node, best.hardIfname);
    const stNext = world.interfaceState(next, best.hardIfname);
    if (fwd < 0.5 || !st.adminUp || st.stuck || !stNext.adminUp || stNext.stuck) return false;
    node = next;
  }
  return false;
}

export interface SimRun {
  /** Seconds without connectivity within the window after the fault. */
  outageS: number;
  /** Seconds from the fault to the first moment connectivity was back and stayed 3 s. */
  healS: number;
  actions: string[];
}

export async function runScenario(scenario: Scenario, seed: number, withAgent: boolean, core: Core | null): Promise<SimRun> {
  const world = new SimulatedMesh({
    seed, topology: SPLIT_DIAMOND, linkModel: IDEAL_LINK_MODEL, nodeNames: ['n1', 'n2', 'n3', 'n4'],
    settings: (n) => ({ gwMode: n === 3 ? 'server' : 'client' }),
  });
  // Two paths of unequal quality, as in the field: with two exactly equal paths batman-adv's tie
  // rule switches within an OGM or two and there is nothing to heal. The n3 path pays a hop penalty.
  world.setHardIfOf(0, 'mesh1', { hopPenalty: 40 });
  world.setHardIfOf(3, 'mesh0', { hopPenalty: 40 });
  world.step(90_000);
  const agents: Agent[] = [];
  if (withAgent) {
    for (let node = 0; node < 4; node++) {
      const host = simulatedHost(world, node);
      const config = healingConfig((c) => {
        // The shipped defaults, except boot grace and start-up delay (the mesh is already up).
        c.healing.verifyWindowS = 10;
        c.healing.holdS = 120;
        c.healing.quarantineS = 300;
        c.healing.cooldownS = 120;
      });
      config.agent.nodeName = world.nodeName(node);
      const agent = createAgent({
        config, configSource: 'bench', driver: world.driver(node), serveStatus: false, manualLoop: true,
        host, now: () => world.nowMs, uptimeMs: () => 3_600_000 + world.nowMs, random: () => 0.5,
        scoreRoutes: core?.scoreRoutes, journalPath: null,
      });
      await agent.start();
      agents.push(agent);
    }
  }
  const tick = async (ms: number, probe?: (t: number) => void) => {
    for (let t = 0; t < ms; t += PROBE_MS) {
      world.step(PROBE_MS);
      if (world.nowMs % 1000 === 0) for (const a of agents) await a.tick();
      probe?.(t);
    }
  };
  await tick(5000);
  // The fault hits the link n1 uses towards n4 right now (so that it matters).
  const n4 = world.macOf(3, world.ifnames[world.engine.primary[3]! % world.ifnames.length]!);
  const route = world.originatorsOf(0).find((o) => o.originator === n4 && o.best)!;
  const next = world.nodeOfMac(route.nextHop);
  if (scenario === 'dead-link') world.killLink(0, next);
  else if (scenario === 'flapping-neighbour') world.flapLink(0, next, { periodMs: 8000, count: 7 });
  else world.stuckInterface(0, route.hardIfname);
  let down = 0;
  let lastDownAt = -1;
  await tick(WINDOW_MS, (t) => {
    if (!connected(world, 0, 3)) {
      down += PROBE_MS;
      lastDownAt = t;
    }
  });
  const actions = agents.flatMap((a) => a.healer!.journal.all().map((e) => `${a.name}:${e.action}:${e.state}`));
  for (const a of agents) await a.stop();
  return { outageS: down / 1000, healS: lastDownAt < 0 ? 0 : (lastDownAt + PROBE_MS) / 1000, actions };
}
