// The findings about the node's place in the mesh: a stuck interface, route churn, the gateway
// lost, a partition; and the reachability the last two (and verify) are measured by.
import type { Connectivity } from './findings.ts';
import { linkKey } from './knowledge.ts';
import type { NewFinding, Scene } from './analysis-scene.ts';
import { ORIGINATOR_SILENT_FACTOR, PROBE_FAILURES, PROBE_MEMORY_MS } from './detection-timing.ts';

/** Up interfaces whose packet counters have not moved for stuckAfterMs. */
export function stuckInterfaceFindings(scene: Scene): NewFinding[] {
  const found: NewFinding[] = [];
  for (const i of scene.mesh.interfaces) {
    if (!i.active) continue;
    const c = scene.knowledge.countersFrozenMs(i.ifname, scene.nowMs);
    if (!c || c.frozenMs < scene.settings.stuckAfterMs) continue;
    found.push({
      kind: 'interface-stuck', subject: { ifname: i.ifname },
      message: `interface ${i.ifname} stuck: up, counters frozen for ${(c.frozenMs / 1000).toFixed(0)} s`,
      evidence: { frozenS: Math.round(c.frozenMs / 1000), txPackets: c.value.txPackets, rxPackets: c.value.rxPackets,
        liveNeighbours: scene.live.filter((n) => n.hardIfname === i.ifname).length },
    });
  }
  return found;
}

/** Originators whose best next hop changed churnChanges times or more within churnWindowMs. */
export function routeChurnFindings(scene: Scene): NewFinding[] {
  const { churnChanges, churnWindowMs } = scene.settings;
  const found: NewFinding[] = [];
  for (const r of scene.knowledge.routeChanges(scene.nowMs - churnWindowMs)) {
    if (r.changes.length < churnChanges) continue;
    const view = scene.routes.get(r.originator);
    found.push({
      kind: 'route-churn', subject: { originator: r.originator },
      message: `route to ${scene.name(r.originator)} churning: best next hop changed ${r.changes.length} times in ${churnWindowMs / 1000} s`,
      evidence: { changes: r.changes.length, windowS: churnWindowMs / 1000, nextHop: r.nextHop, goodPaths: view?.paths.length ?? 0 },
    });
  }
  return found;
}

/**
 * Originators reachable now: a fresh best route through a live next hop. A route whose next hop
 * has gone silent is not connectivity, however fresh batman-adv still thinks the originator is:
 * verify must not credit the dead path to the time before an action. Nor is one over a link
 * found late or dead just now (in `linkFindings`): an action taken against the fault is then
 * judged against what the fault left, not blamed for the rest of it.
 */
export function reachableOriginators(scene: Scene, linkFindings: readonly NewFinding[]): Set<string> {
  const failing = new Set(
    linkFindings.filter((f) => f.kind === 'link-dead' || f.kind === 'link-late').map((f) => linkKey(f.subject.ifname!, f.subject.neighbour!)),
  );
  const liveHops = new Set(scene.live.map((x) => linkKey(x.hardIfname, x.neighbour)).filter((key) => !failing.has(key)));
  const freshMs = ORIGINATOR_SILENT_FACTOR * scene.settings.silentAfterMs;
  return new Set(
    scene.mesh.originators.filter((x) => x.best && x.lastSeenMs < freshMs && liveHops.has(linkKey(x.hardIfname, x.nextHop))).map((x) => x.originator),
  );
}

/** The gateway as a gateway client sees it ('n/a' for any other node), and the finding when it is lost. */
export function gatewayCheck(scene: Scene, reachable: ReadonlySet<string>): { state: Connectivity['gateway']; finding: NewFinding | null } {
  const { mesh, knowledge, nowMs, name } = scene;
  if (mesh.settings?.gwMode !== 'client') return { state: 'n/a', finding: null };
  const best = mesh.gateways.find((g) => g.best);
  // The optional probe speaks for what the route table cannot: a gateway whose OGMs arrive
  // but which does not answer (two failed probes in a row, recent).
  const p = knowledge.gatewayProbe;
  const unanswered = best && p && p.originator === best.originator && p.failures >= PROBE_FAILURES && nowMs - p.atMs < PROBE_MEMORY_MS ? p : null;
  if (best && reachable.has(best.originator) && !unanswered) return { state: 'ok', finding: null };
  return {
    state: 'lost',
    finding: {
      kind: 'gateway-lost', subject: { originator: best?.originator },
      message: !best ? 'no gateway selected'
        : unanswered && reachable.has(best.originator) ? `gateway ${name(best.originator)} does not answer probes (${unanswered.detail})`
        : `gateway ${name(best.originator)} unreachable`,
      evidence: { selected: best ? best.originator : null, gatewaysKnown: mesh.gateways.length,
        ...(unanswered ? { probeFailures: unanswered.failures, probe: unanswered.detail } : {}) },
    },
  };
}

/** No neighbour heard, or fewer originators reachable than partitionShare of the recent maximum. */
export function partitionFindings(scene: Scene, reachable: number, recentMax: number): NewFinding[] {
  const liveNeighbours = scene.live.length;
  if (!(scene.activeIfnames.size > 0 && recentMax >= 1)) return [];
  if (!(liveNeighbours === 0 || reachable < recentMax * scene.settings.partitionShare)) return [];
  return [{
    kind: 'partition', subject: {},
    message: liveNeighbours === 0 ? 'partitioned: no neighbour heard' : `partitioned: ${reachable} of ${recentMax} originators reachable`,
    evidence: { reachable, recentMax, liveNeighbours },
  }];
}
