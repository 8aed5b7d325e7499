// The demo's faults: one every few seconds, from a seeded cycle that covers what the field sees
// (a fading link, a dead link, a flapping neighbour, a hung radio, a partition), then a repair
// round that undoes them all, so the mesh visibly breaks and recovers.
import { Prng, type SimulatedMesh } from '../mesh/simulator/index.ts';

type Step = (world: SimulatedMesh, rng: Prng) => string;

function randomLink(world: SimulatedMesh, rng: Prng): { a: number; b: number } {
  const live = world.links().filter((l) => !l.killed && !l.partitioned);
  const pick = live.length ? live : world.links();
  const l = pick[rng.int(pick.length)]!;
  return { a: l.a, b: l.b };
}

export class FaultSchedule {
  private readonly rng: Prng;
  private next = 0;
  private readonly touched: { a: number; b: number }[] = [];
  private readonly stuck: { node: number; ifname: string }[] = [];

  constructor(seed: number) {
    this.rng = new Prng(`faults-${seed}`);
  }

  private readonly steps: Step[] = [
    (w, r) => {
      const { a, b } = randomLink(w, r);
      this.touched.push({ a, b });
      return w.degradeLink(a, b, { lossRatio: 0.9, rampMs: 8000 }).description;
    },
    (w, r) => {
      const { a, b } = randomLink(w, r);
      this.touched.push({ a, b });
      return w.killLink(a, b).description;
    },
    (w, r) => {
      const { a, b } = randomLink(w, r);
      this.touched.push({ a, b });
      return w.flapLink(a, b, { periodMs: 3000, count: 4 }).description;
    },
    (w, r) => {
      const node = r.int(w.nodeCount);
      const ifname = w.ifnames[0]!;
      this.stuck.push({ node, ifname });
      return w.stuckInterface(node, ifname).description;
    },
    (w) => {
      const half = Math.ceil(w.nodeCount / 2);
      const all = [...Array(w.nodeCount).keys()];
      return w.partition(all.slice(0, half), all.slice(half)).description;
    },
    (w) => {
      w.heal();
      for (const { a, b } of this.touched.splice(0)) w.restoreLink(a, b);
      // A hung radio only recovers when the interface is restarted.
      for (const { node, ifname } of this.stuck.splice(0)) {
        w.setInterfaceUp(node, ifname, false);
        w.setInterfaceUp(node, ifname, true);
      }
      return 'repair round: partitions healed, links restored, hung radios restarted';
    },
  ];

  /** Injects the next fault and returns what it did. */
  inject(world: SimulatedMesh): string {
    const step = this.steps[this.next % this.steps.length]!;
    this.next++;
    return step(world, this.rng);
  }
}
