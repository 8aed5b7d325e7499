// Analyze: turns the knowledge windows into findings with evidence, and measures connectivity
// (what verify compares before and after an action). Pure reading: it changes nothing but its
// own memory of when each finding was first made. Each kind of finding has its own function
// (link-findings.ts, mesh-findings.ts); the timing they go by is in detection-timing.ts.
import { linkKey, type Knowledge } from './knowledge.ts';
import { findingKey, type Connectivity, type Finding } from './findings.ts';
import { scoreRouteTable, type RouteView, type ScoreRoutes } from './route-quality.ts';
import { analyzeSettings, round3, type AnalyzeOptions, type AnalyzeSettings, type NewFinding, type Scene } from './analysis-scene.ts';
import { flappingFindings, linkFindings } from './link-findings.ts';
import { gatewayCheck, partitionFindings, reachableOriginators, routeChurnFindings, stuckInterfaceFindings } from './mesh-findings.ts';
import { PARTITION_MEMORY_MS, RECENT_REACHABLE_MS } from './detection-timing.ts';
import { dyingFindings } from './predict-link-death.ts';

export type { AnalyzeOptions } from './analysis-scene.ts';

export interface Analysis {
  findings: Finding[];
  connectivity: Connectivity;
  routes: Map<string, RouteView>;
}

export class Analyzer {
  private readonly firstSeen = new Map<string, number>();
  private maxReachable: { value: number; atMs: number }[] = [];
  private readonly settings: AnalyzeSettings;

  constructor(
    private readonly knowledge: Knowledge,
    private readonly score: ScoreRoutes | null,
    options: AnalyzeOptions = {},
    private readonly describe: (mac: string) => string = (m) => m,
    /** The learned model's P(dead within its horizon) by "ifname/neighbour"; empty until it has one. */
    private readonly failureProbs: () => ReadonlyMap<string, number> = () => new Map(),
  ) {
    this.settings = analyzeSettings(options);
  }

  /** Link stability for route scoring: each recent outage costs a third. */
  stability(ifname: string, neighbour: string, nowMs: number): number {
    return Math.max(0, 1 - this.knowledge.outagesSince(linkKey(ifname, neighbour), nowMs - this.settings.flapWindowMs).length / 3);
  }

  run(nowMs: number): Analysis {
    const { scene, routes } = this.scene(nowMs);
    const probs = this.failureProbs();
    const flapping = flappingFindings(scene);
    const links = linkFindings(scene, new Set(flapping.map((f) => linkKey(f.subject.ifname!, f.subject.neighbour!))));
    // Reachability and gateway, measured the same way for findings and for verify.
    const reachable = reachableOriginators(scene, links);
    const gateway = gatewayCheck(scene, reachable);
    const { connectivity, recentMax } = this.measure(scene, reachable, gateway.state);
    const found = [
      ...flapping,
      ...links,
      // Predictions only for links no other finding has spoken for this poll.
      ...dyingFindings(scene, probs).filter((d) => !links.some((l) => l.subject.ifname === d.subject.ifname && l.subject.neighbour === d.subject.neighbour)),
      ...stuckInterfaceFindings(scene),
      ...routeChurnFindings(scene),
      ...(gateway.finding ? [gateway.finding] : []),
      ...partitionFindings(scene, reachable.size, recentMax),
    ];
    withRouterState(found, this.knowledge.system);
    return { findings: this.keep(found, nowMs), connectivity, routes };
  }

  /** The tables of the last poll, the neighbours heard and the routes scored, for one run. */
  private scene(nowMs: number): { scene: Scene; routes: Map<string, RouteView> } {
    const mesh = this.knowledge.mesh;
    const probs = this.failureProbs();
    const routes = scoreRouteTable(
      { originators: mesh.originators, interfaces: mesh.interfaces, stability: (i, n) => this.stability(i, n, nowMs), failureProb: (i, n) => probs.get(`${i}/${n}`) ?? 0 },
      this.score,
    );
    const activeIfnames = new Set(mesh.interfaces.filter((i) => i.active).map((i) => i.ifname));
    const live = mesh.neighbours.filter((n) => n.lastSeenMs < this.settings.silentAfterMs && activeIfnames.has(n.hardIfname));
    const scene = { knowledge: this.knowledge, settings: this.settings, nowMs, name: this.describe, mesh, activeIfnames, live, routes };
    return { scene, routes };
  }

  /** Connectivity now, and the most originators reachable within PARTITION_MEMORY_MS (partition). */
  private measure(scene: Scene, reachable: ReadonlySet<string>, gateway: Connectivity['gateway']): { connectivity: Connectivity; recentMax: number } {
    const { nowMs, routes } = scene;
    const quality = reachable.size
      ? [...reachable].reduce((a, x) => a + (routes.get(x)?.used?.score ?? 0), 0) / reachable.size
      : 0;
    this.maxReachable = this.maxReachable.filter((m) => nowMs - m.atMs < PARTITION_MEMORY_MS);
    this.maxReachable.push({ value: reachable.size, atMs: nowMs });
    const recentReachable = Math.max(...this.maxReachable.filter((m) => nowMs - m.atMs <= RECENT_REACHABLE_MS).map((m) => m.value));
    const connectivity: Connectivity = { reachable: reachable.size, recentReachable, liveNeighbours: scene.live.length, gateway, quality: round3(quality) };
    return { connectivity, recentMax: Math.max(...this.maxReachable.map((m) => m.value)) };
  }

  /** One finding per key (the first made), each with the time it was first made without a break. */
  private keep(found: readonly NewFinding[], nowMs: number): Finding[] {
    const findings: Finding[] = [];
    const keys = new Set<string>();
    for (const f of found) {
      const key = findingKey(f.kind, f.subject);
      if (keys.has(key)) continue;
      keys.add(key);
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, nowMs);
      findings.push({ ...f, key, sinceMs: this.firstSeen.get(key)! });
    }
    for (const key of [...this.firstSeen.keys()]) if (!keys.has(key)) this.firstSeen.delete(key);
    return findings;
  }
}

/**
 * The router's own state goes with every finding: a hang under a pegged CPU or with memory
 * gone reads differently from one on an idle router.
 */
function withRouterState(found: readonly NewFinding[], system: Knowledge['system']): void {
  if (!system) return;
  for (const f of found) {
    f.evidence.load1 = system.load1;
    f.evidence.memAvailablePct = Math.round((system.memAvailableKb / system.memTotalKb) * 100);
  }
}
