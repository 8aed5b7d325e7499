// Scores every (originator, next hop) pair of the originator table in one call of the WASM core
// (src/core/route-scoring.ts), with each link's stability from the knowledge windows. Analysis
// uses the result for route quality, and the plan for "is there a second good path".
import type { RouteCandidate, RouteScores, RouteScoringOptions } from '../core/index.ts';
import type { HardInterface, Originator } from '../mesh/driver.ts';

export type ScoreRoutes = (candidates: readonly RouteCandidate[], opts?: RouteScoringOptions) => RouteScores;

export interface ScoredPath {
  nextHop: string;
  ifname: string;
  score: number;
}

export interface RouteView {
  originator: string;
  /** The path batman-adv uses now, with our score of it. */
  used: ScoredPath | null;
  /** Our ranking: up to three good paths over pairwise different interfaces, best first. */
  paths: ScoredPath[];
}

export interface RouteInputs {
  originators: Originator[];
  interfaces: HardInterface[];
  /** 0 (flapping) .. 1 (steady) for a link key "ifname/neighbour". */
  stability: (ifname: string, neighbour: string) => number;
  /** The learned model's failure probability of a link, once there is one. */
  failureProb?: (ifname: string, neighbour: string) => number;
}

export function scoreRouteTable(input: RouteInputs, score: ScoreRoutes | null): Map<string, RouteView> {
  const out = new Map<string, RouteView>();
  const rows = input.originators.filter((o) => o.tq !== undefined || o.throughputKbps !== undefined);
  if (rows.length === 0) return out;
  const origIndex = new Map<string, number>();
  const hopIndex = new Map<string, number>();
  const penalty = new Map(input.interfaces.map((i) => [i.ifname, i.hopPenalty / 255]));
  const candidates: RouteCandidate[] = rows.map((o) => {
    if (!origIndex.has(o.originator)) origIndex.set(o.originator, origIndex.size);
    if (!hopIndex.has(o.nextHop)) hopIndex.set(o.nextHop, hopIndex.size);
    const metric = o.tq !== undefined ? { tq: o.tq } : { throughputMbps: o.throughputKbps! / 1000 };
    return {
      originatorIndex: origIndex.get(o.originator)!,
      nextHopIndex: hopIndex.get(o.nextHop)!,
      ifIndex: o.hardIfindex,
      ...metric,
      lastSeenMs: o.lastSeenMs,
      stability: clamp01(input.stability(o.hardIfname, o.nextHop)),
      hopPenalty: clamp01(penalty.get(o.hardIfname) ?? 0),
      failureProb: clamp01(input.failureProb?.(o.hardIfname, o.nextHop) ?? 0),
    };
  });
  // Without the core the agent still needs a number: plain link quality (TQ/255) stands in.
  const scores = score ? score(candidates).scores : Float64Array.from(rows, (o) => (o.tq ?? 0) / 255);
  const byOrig = new Map<string, { o: Originator; s: number }[]>();
  rows.forEach((o, i) => {
    const list = byOrig.get(o.originator) ?? [];
    list.push({ o, s: scores[i]! });
    byOrig.set(o.originator, list);
  });
  for (const [originator, list] of byOrig) {
    list.sort((a, b) => b.s - a.s);
    const path = (x: { o: Originator; s: number }): ScoredPath => ({ nextHop: x.o.nextHop, ifname: x.o.hardIfname, score: x.s });
    const used = list.find((x) => x.o.best);
    const paths: ScoredPath[] = [];
    for (const x of list) {
      if (x.s <= 0 || paths.length >= 3 || paths.some((p) => p.ifname === x.o.hardIfname)) continue;
      paths.push(path(x));
    }
    out.set(originator, { originator, used: used ? path(used) : null, paths });
  }
  return out;
}

const clamp01 = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);
