// Training data from the simulator, labelled with the simulator's ground truth: one node of a
// seeded world is watched poll by poll exactly as the monitor watches a real mesh (knowledge
// windows, originator and neighbour tables, interface counters), every direct link gives one
// feature vector per poll, and the label says whether the link's true state becomes 'dead'
// within the horizon. Each simulated node gets its own seed and its own link-model profile
// (failure rate, how often a degradation warns, ramp lengths, burstiness, base quality), so
// data differ across nodes the way different sites of a mesh differ: non-IID by construction.
import { SimulatedMesh, Prng, type LinkModelParams } from '../mesh/simulator/index.ts';
import { Knowledge } from '../mapek/knowledge.ts';
import { directLinkMetric } from '../mapek/knowledge.ts';
import { FeatureTracker, FEATURE_COUNT, type ErrorCounters } from './features.ts';

export interface SimDatasetOptions {
  seed: number;
  /** Virtual seconds simulated (default 3600); one poll per second. */
  durationS?: number;
  /** Label horizon H (default 30 s). */
  horizonS?: number;
  /** World size (default 5, 'mesh' topology). */
  nodes?: number;
  /** Link-model overrides on top of this seed's profile. */
  linkModel?: Partial<LinkModelParams>;
  /** Keep every k-th negative row (consecutive polls are near duplicates; default 4). */
  negativeStride?: number;
  /** Polls before rows are kept, so that windows are full (default 60). */
  warmupS?: number;
}

export interface SimDataset {
  x: Float32Array;
  y: Uint8Array;
  rows: number;
  positives: number;
  profile: Partial<LinkModelParams>;
}

/**
 * The link-model profile of one site (seeded): failures frequent enough that an hour of data
 * holds a few dozen, and a site-specific share of failures that a degradation announces.
 */
export function siteProfile(seed: number): Partial<LinkModelParams> {
  const r = new Prng(`site-${seed}`);
  const rampMin = r.range(15_000, 60_000);
  const pdrMin = r.range(0.55, 0.85);
  return {
    failureRatePerHour: r.range(3, 9),
    degradeBeforeFailureProb: r.range(0.3, 0.9),
    degradeRampMinMs: rampMin,
    degradeRampMaxMs: rampMin + r.range(20_000, 150_000),
    basePdrMin: pdrMin,
    basePdrMax: Math.min(0.99, pdrMin + r.range(0.1, 0.35)),
    burstMeanBadMs: r.range(1000, 5000),
    burstLossBad: r.range(0.3, 0.8),
    fadeSigma: r.range(0.02, 0.08),
    recoveryMinMs: 10_000,
    recoveryMeanMs: 30_000,
  };
}

export function simulateLinkData(opts: SimDatasetOptions): SimDataset {
  const durationS = opts.durationS ?? 3600;
  const horizon = opts.horizonS ?? 30;
  const warmup = opts.warmupS ?? 60;
  const stride = opts.negativeStride ?? 4;
  const profile = { ...siteProfile(opts.seed), ...(opts.linkModel ?? {}) };
  const world = new SimulatedMesh({ seed: opts.seed, nodes: opts.nodes ?? 5, topology: 'mesh', meshDegree: 3, linkModel: profile });
  const me = 0;
  const knowledge = new Knowledge({ historyLength: 60 });
  const tracker = new FeatureTracker();

  // this node's links: "ifname/neighbour MAC" → undirected link index of the world
  const linkOf = new Map<string, number>();
  for (const l of world.links()) {
    if (l.a !== me && l.b !== me) continue;
    const other = l.a === me ? l.b : l.a;
    linkOf.set(`${l.ifname}/${world.macOf(other, l.ifname)}`, l.index);
  }
  const links = [...new Set(linkOf.values())];
  const steps = durationS;
  // dead[l][t]: ground truth per link and poll
  const dead = new Map<number, Uint8Array>(links.map((l) => [l, new Uint8Array(steps)]));
  const rowsX: Float32Array[] = [];
  const rowsAt: { t: number; link: number }[] = [];
  const staleMs = 5000;
  for (let t = 0; t < steps; t++) {
    world.step(1000);
    for (const l of links) dead.get(l)![t] = world.linkModel.healthOf(l) === 'dead' ? 1 : 0;
    const neighbours = world.neighboursOf(me);
    const originators = world.originatorsOf(me);
    knowledge.recordLinks(
      neighbours.map((n) => {
        const m = directLinkMetric('BATMAN_IV', n, originators);
        return { neighbour: n.neighbour, hardIfname: n.hardIfname, kind: m.kind, value: n.lastSeenMs > staleMs ? null : m.value };
      }),
    );
    const counters = new Map<string, ErrorCounters>();
    for (const ifname of world.ifnames) counters.set(ifname, world.interfaceCounters(me, ifname));
    const feats = tracker.observe({ links: knowledge.linkStatus(), originators, neighbours, counters });
    if (t < warmup) continue;
    for (const f of feats) {
      const l = linkOf.get(f.key);
      if (l === undefined || dead.get(l)![t]) continue;
      rowsX.push(f.x);
      rowsAt.push({ t, link: l });
    }
  }
  const keptX: Float32Array[] = [];
  const keptY: number[] = [];
  let negSeen = 0;
  for (let i = 0; i < rowsAt.length; i++) {
    const { t, link } = rowsAt[i]!;
    if (t + horizon >= steps) continue; // future unknown: no label
    const d = dead.get(link)!;
    let label = 0;
    for (let u = t + 1; u <= t + horizon; u++) if (d[u]) { label = 1; break; }
    if (label === 0 && negSeen++ % stride !== 0) continue;
    keptX.push(rowsX[i]!);
    keptY.push(label);
  }
  const x = new Float32Array(keptX.length * FEATURE_COUNT);
  keptX.forEach((r, i) => x.set(r, i * FEATURE_COUNT));
  const y = Uint8Array.from(keptY);
  return { x, y, rows: y.length, positives: keptY.reduce((a, b) => a + b, 0), profile };
}
