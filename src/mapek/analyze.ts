// Analyze: turns the knowledge windows into findings with evidence, and measures connectivity
// (what verify compares before and after an action). Pure reading: it changes nothing but its
// own memory of when each finding was first made.
import { linkKey, type Knowledge } from './knowledge.ts';
import { findingKey, type Connectivity, type Evidence, type Finding, type FindingKind, type FindingSubject } from './findings.ts';
import { scoreRouteTable, type RouteView, type ScoreRoutes } from './route-quality.ts';
import {
  CHURN_CHANGES, CHURN_WINDOW_MS, CLEAN_SILENT_AFTER_MS, DEGRADED_TQ, deadAfterMs, FLAP_OUTAGES, FLAP_WINDOW_MS, FROZEN_SUSPECT_MS,
  LATE_KNOWN_MS, LATE_MEMORY_MS, ORIGINATOR_SILENT_FACTOR, PARTITION_MEMORY_MS, PARTITION_SHARE, PROBE_FAILURES, PROBE_MEMORY_MS, RX_EXPECTED,
  RECENT_REACHABLE_MS, STUCK_AFTER_MS, SILENT_AFTER_MS, SUSPECT_INTERVALS,
} from './detection-timing.ts';

export interface AnalyzeOptions {
  /** A neighbour not heard for this long is silent (default 2500 ms: two and a half OGM intervals). */
  silentAfterMs?: number;
  /** The same on a clean link (see lateMemoryMs; default 2000 ms: two OGMs missed in a row). */
  cleanSilentAfterMs?: number;
  /** Flapping: this many outages of one link within flapWindowMs (defaults 3 in 60 s). */
  flapOutages?: number;
  flapWindowMs?: number;
  /** Route churn: this many best-next-hop changes of one originator within churnWindowMs (4 in 60 s). */
  churnChanges?: number;
  churnWindowMs?: number;
  /** An up interface whose packet counters have not moved this long is stuck (default 4000 ms). */
  stuckAfterMs?: number;
  /** Direct-link TQ below this, after having been 50 above it within the window, is degrading (100). */
  degradedTq?: number;
  /** Partition: reachable originators below this share of the recent maximum (0.5). */
  partitionShare?: number;
  /**
   * A late OGM is news on a link that missed none for lateMemoryMs (default 5 min) or, if we know
   * it for less, for at least lateKnownMs (30 s) since we know it.
   */
  lateMemoryMs?: number;
  lateKnownMs?: number;
}

export interface Analysis {
  findings: Finding[];
  connectivity: Connectivity;
  routes: Map<string, RouteView>;
}

export class Analyzer {
  private readonly firstSeen = new Map<string, number>();
  private maxReachable: { value: number; atMs: number }[] = [];
  private readonly o: Required<AnalyzeOptions>;

  constructor(
    private readonly knowledge: Knowledge,
    private readonly score: ScoreRoutes | null,
    opts: AnalyzeOptions = {},
    private readonly describe: (mac: string) => string = (m) => m,
    /** The learned model's P(dead within its horizon) by "ifname/neighbour"; empty until it has one. */
    private readonly failureProbs: () => ReadonlyMap<string, number> = () => new Map(),
  ) {
    this.o = {
      silentAfterMs: opts.silentAfterMs ?? SILENT_AFTER_MS,
      cleanSilentAfterMs: opts.cleanSilentAfterMs ?? CLEAN_SILENT_AFTER_MS,
      flapOutages: opts.flapOutages ?? FLAP_OUTAGES,
      flapWindowMs: opts.flapWindowMs ?? FLAP_WINDOW_MS,
      churnChanges: opts.churnChanges ?? CHURN_CHANGES,
      churnWindowMs: opts.churnWindowMs ?? CHURN_WINDOW_MS,
      stuckAfterMs: opts.stuckAfterMs ?? STUCK_AFTER_MS,
      degradedTq: opts.degradedTq ?? DEGRADED_TQ,
      partitionShare: opts.partitionShare ?? PARTITION_SHARE,
      lateMemoryMs: opts.lateMemoryMs ?? LATE_MEMORY_MS,
      lateKnownMs: opts.lateKnownMs ?? LATE_KNOWN_MS,
    };
  }

  /** Link stability for route scoring: each recent outage costs a third. */
  stability(ifname: string, neighbour: string, nowMs: number): number {
    return Math.max(0, 1 - this.knowledge.outagesSince(linkKey(ifname, neighbour), nowMs - this.o.flapWindowMs).length / 3);
  }

  /**
   * A neighbour alone on its interface, overdue with its OGM, whose traffic stopped with it: the
   * interface received nothing for as long as RX_EXPECTED packets would have taken at the rate
   * before. Either sign alone is common (a late OGM now and then; traffic that simply ends);
   * both at once are a dead link, seconds before OGM silence alone could tell.
   */
  private trafficStopped(ifname: string, lastSeenMs: number, nowMs: number): { silentMs: number; ratePerS: number } | null {
    const ogm = this.knowledge.ogmIntervalMs;
    if (ogm <= 0 || lastSeenMs < SUSPECT_INTERVALS * ogm) return null;
    const rx = this.knowledge.rxSilence(ifname, nowMs);
    if (!rx || (rx.ratePerS * rx.silentMs) / 1000 < RX_EXPECTED) return null;
    return rx;
  }

  run(nowMs: number): Analysis {
    const k = this.knowledge;
    const o = this.o;
    const { neighbours, originators, interfaces, gateways, settings } = k.mesh;
    const name = this.describe;
    const probs = this.failureProbs();
    const routes = scoreRouteTable(
      { originators, interfaces, stability: (i, n) => this.stability(i, n, nowMs), failureProb: (i, n) => probs.get(`${i}/${n}`) ?? 0 },
      this.score,
    );
    const found: Omit<Finding, 'sinceMs' | 'key'>[] = [];
    const add = (kind: FindingKind, subject: FindingSubject, message: string, evidence: Evidence) =>
      found.push({ kind, subject, message, evidence });
    const activeIf = new Set(interfaces.filter((i) => i.active).map((i) => i.ifname));
    const live = neighbours.filter((n) => n.lastSeenMs < o.silentAfterMs && activeIf.has(n.hardIfname));

    // Flapping first: a flapping link's down phases are not separate "dead" findings.
    const flapping = new Set<string>();
    for (const n of neighbours) {
      const key = linkKey(n.hardIfname, n.neighbour);
      const outages = k.outagesSince(key, nowMs - o.flapWindowMs);
      if (outages.length < o.flapOutages) continue;
      flapping.add(key);
      add('neighbour-flapping', { ifname: n.hardIfname, neighbour: n.neighbour },
        `neighbour ${name(n.neighbour)} on ${n.hardIfname} flapping: ${outages.length} outages in ${o.flapWindowMs / 1000} s`,
        { outages: outages.length, windowS: o.flapWindowMs / 1000, heardNow: n.lastSeenMs < o.silentAfterMs, lastSeenMs: n.lastSeenMs });
    }

    const history = new Map(k.linkStatus().map((l) => [linkKey(l.hardIfname, l.neighbour), l]));
    for (const n of neighbours) {
      const key = linkKey(n.hardIfname, n.neighbour);
      if (!activeIf.has(n.hardIfname) || flapping.has(key)) continue;
      const h = history.get(key)?.history ?? [];
      const samples = h.filter((v): v is number => v !== null);
      // A lossy link misses OGMs in a row by chance: the worse its TQ, the longer the silence it takes.
      const lastTq = history.get(key)?.metricKind === 'tq' ? samples.at(-1) : undefined;
      // A clean link (no OGM missed in lateMemoryMs) missing two in a row is no chance: it is
      // given up half an interval sooner.
      const late = k.latenessOf(key, nowMs - o.lateMemoryMs);
      const clean = late !== null && late.lates.length <= 1 && nowMs - late.knownSinceMs >= o.lateKnownMs;
      const deadAfter = deadAfterMs(o.silentAfterMs, o.cleanSilentAfterMs, clean, lastTq);
      const othersLive = live.filter((x) => x.hardIfname === n.hardIfname && x.neighbour !== n.neighbour).length;
      const stopped = othersLive === 0 ? this.trafficStopped(n.hardIfname, n.lastSeenMs, nowMs) : null;
      if (n.lastSeenMs >= deadAfter || stopped) {
        // Only a link that was once heard can die; a neighbour batman-adv merely remembers is not news.
        if (samples.length === 0 && k.outagesSince(key, 0).length === 0) continue;
        // On a hung radio every neighbour goes silent: that is the interface's finding, not theirs.
        if ((k.countersFrozenMs(n.hardIfname, nowMs)?.frozenMs ?? 0) >= FROZEN_SUSPECT_MS) continue;
        // Nor is a neighbour dead while its interface has passed nothing since it went silent
        // (not even our own OGMs): that is the interface again, until its counters say otherwise.
        if (k.countersMovedSince(n.hardIfname, nowMs - n.lastSeenMs) === false) continue;
        add('link-dead', { ifname: n.hardIfname, neighbour: n.neighbour },
          `link to ${name(n.neighbour)} on ${n.hardIfname} dead: silent for ${(n.lastSeenMs / 1000).toFixed(1)} s` +
            (stopped ? `, and the ${stopped.ratePerS.toFixed(0)} packets/s it received stopped ${(stopped.silentMs / 1000).toFixed(1)} s ago` : ''),
          { lastSeenMs: n.lastSeenMs, lastMetric: samples.at(-1) ?? null, liveOnInterface: othersLive,
            ...(stopped ? { rxSilentMs: stopped.silentMs, rxRateBefore: round3(stopped.ratePerS) } : {}) });
        continue;
      }
      // A clean link that misses an OGM for the first time in a while, while routes go over it:
      // the earliest sign of a link dying. Its answer is cheap and reversible (faster OGMs, so
      // that batman-adv itself reroutes sooner if the link is really gone).
      if (late?.late && clean) {
        const via = originators.filter((x) => x.best && x.nextHop === n.neighbour && x.hardIfname === n.hardIfname).length;
        if (via > 0) {
          add('link-late', { ifname: n.hardIfname, neighbour: n.neighbour },
            `link to ${name(n.neighbour)} on ${n.hardIfname} late: no OGM for ${(n.lastSeenMs / 1000).toFixed(1)} s, its first miss in ${Math.round(Math.min(o.lateMemoryMs, nowMs - late.knownSinceMs) / 1000)} s`,
            { lastSeenMs: n.lastSeenMs, routesVia: via, latesInWindow: late.lates.length });
          continue;
        }
      }
      const recent = h.slice(-3).filter((v): v is number => v !== null);
      if (history.get(key)?.metricKind !== 'tq' || recent.length < 3) continue;
      const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
      const max = Math.max(...samples);
      if (mean < o.degradedTq && max >= o.degradedTq + 50) {
        const via = [...routes.values()].filter((r) => r.used?.nextHop === n.neighbour && r.used.ifname === n.hardIfname);
        add('link-degrading', { ifname: n.hardIfname, neighbour: n.neighbour },
          `link to ${name(n.neighbour)} on ${n.hardIfname} degrading: TQ ${max} → ${Math.round(mean)}`,
          { tqNow: Math.round(mean), tqMax: max, routesVia: via.length,
            worstRouteScore: via.length ? round3(Math.min(...via.map((r) => r.used!.score))) : null });
      }
    }

    for (const i of interfaces) {
      if (!i.active) continue;
      const c = k.countersFrozenMs(i.ifname, nowMs);
      if (!c || c.frozenMs < o.stuckAfterMs) continue;
      add('interface-stuck', { ifname: i.ifname },
        `interface ${i.ifname} stuck: up, counters frozen for ${(c.frozenMs / 1000).toFixed(0)} s`,
        { frozenS: Math.round(c.frozenMs / 1000), txPackets: c.value.txPackets, rxPackets: c.value.rxPackets,
          liveNeighbours: live.filter((n) => n.hardIfname === i.ifname).length });
    }

    for (const r of k.routeChanges(nowMs - o.churnWindowMs)) {
      if (r.changes.length < o.churnChanges) continue;
      const view = routes.get(r.originator);
      add('route-churn', { originator: r.originator },
        `route to ${name(r.originator)} churning: best next hop changed ${r.changes.length} times in ${o.churnWindowMs / 1000} s`,
        { changes: r.changes.length, windowS: o.churnWindowMs / 1000, nextHop: r.nextHop, goodPaths: view?.paths.length ?? 0 });
    }

    // Reachability and gateway, measured the same way for findings and for verify.
    // A route whose next hop has gone silent is not connectivity, however fresh batman-adv still
    // thinks the originator is: verify must not credit the dead path to the time before an action.
    // Nor is one over a link found late or dead just now: an action taken against the fault is
    // then judged against what the fault left, not blamed for the rest of it.
    const failing = new Set(found.filter((f) => f.kind === 'link-dead' || f.kind === 'link-late').map((f) => linkKey(f.subject.ifname!, f.subject.neighbour!)));
    const liveHops = new Set(live.map((x) => linkKey(x.hardIfname, x.neighbour)).filter((key) => !failing.has(key)));
    const fresh = new Set(
      originators.filter((x) => x.best && x.lastSeenMs < ORIGINATOR_SILENT_FACTOR * o.silentAfterMs && liveHops.has(linkKey(x.hardIfname, x.nextHop))).map((x) => x.originator),
    );
    let gateway: Connectivity['gateway'] = 'n/a';
    if (settings?.gwMode === 'client') {
      const best = gateways.find((g) => g.best);
      // The optional probe speaks for what the route table cannot: a gateway whose OGMs arrive
      // but which does not answer (two failed probes in a row, recent).
      const p = k.gatewayProbe;
      const unanswered = best && p && p.originator === best.originator && p.failures >= PROBE_FAILURES && nowMs - p.atMs < PROBE_MEMORY_MS ? p : null;
      gateway = best && fresh.has(best.originator) && !unanswered ? 'ok' : 'lost';
      if (gateway === 'lost') {
        add('gateway-lost', { originator: best?.originator },
          !best ? 'no gateway selected' : unanswered && fresh.has(best.originator) ? `gateway ${name(best.originator)} does not answer probes (${unanswered.detail})` : `gateway ${name(best.originator)} unreachable`,
          { selected: best ? best.originator : null, gatewaysKnown: gateways.length, ...(unanswered ? { probeFailures: unanswered.failures, probe: unanswered.detail } : {}) });
      }
    }
    const quality = fresh.size
      ? [...fresh].reduce((a, x) => a + (routes.get(x)?.used?.score ?? 0), 0) / fresh.size
      : 0;
    this.maxReachable = this.maxReachable.filter((m) => nowMs - m.atMs < PARTITION_MEMORY_MS);
    this.maxReachable.push({ value: fresh.size, atMs: nowMs });
    const recentReachable = Math.max(...this.maxReachable.filter((m) => nowMs - m.atMs <= RECENT_REACHABLE_MS).map((m) => m.value));
    const connectivity: Connectivity = { reachable: fresh.size, recentReachable, liveNeighbours: live.length, gateway, quality: round3(quality) };
    const recentMax = Math.max(...this.maxReachable.map((m) => m.value));
    if (activeIf.size > 0 && recentMax >= 1 && (live.length === 0 || fresh.size < recentMax * o.partitionShare)) {
      add('partition', {},
        live.length === 0 ? 'partitioned: no neighbour heard' : `partitioned: ${fresh.size} of ${recentMax} originators reachable`,
        { reachable: fresh.size, recentMax, liveNeighbours: live.length });
    }

    // The router's own state goes with every finding: a hang under a pegged CPU or with memory
    // gone reads differently from one on an idle router.
    const sys = k.system;
    if (sys) {
      for (const f of found) {
        f.evidence.load1 = sys.load1;
        f.evidence.memAvailablePct = Math.round((sys.memAvailableKb / sys.memTotalKb) * 100);
      }
    }
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
    return { findings, connectivity, routes };
  }
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
