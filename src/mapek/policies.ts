// Policies: which actions answer which finding, lowest rung first. The plan walks a finding's
// ladder one step at a time, and only moves up when the step before did not help.
// Instability of any kind also gets one mesh-wide answer (lower orig_interval for a while),
// which runs beside the per-finding ladders: it is cheap and it speeds up every reroute.
import type { ActionKind, ActionTarget } from './actions/index.ts';
import type { Finding, FindingKind } from './findings.ts';

export interface Step {
  action: ActionKind;
  target: ActionTarget;
  /** A restart of an interface that carries no live neighbour interrupts nothing. */
  disruptive: boolean;
}

/** The mesh-wide answer to instability, keyed as its own finding. */
export const INSTABILITY_KEY = 'instability';
export const INSTABILITY_KINDS: ReadonlySet<FindingKind> = new Set(['link-dead', 'link-late', 'neighbour-flapping', 'link-degrading', 'link-dying', 'route-churn', 'gateway-lost']);

/**
 * Whether a finding calls for the mesh-wide answer. Not a route churning between two or more
 * good paths: on a healthy lossy mesh batman-adv swaps near-equal next hops on chance OGM losses,
 * faster OGMs only make it swap faster, and traffic is fine over either (bonding is its answer).
 */
export function isInstability(f: Finding): boolean {
  return INSTABILITY_KINDS.has(f.kind) && !(f.kind === 'route-churn' && Number(f.evidence.goodPaths) >= 2);
}

/** How long a finding must persist before it is acted upon: long for what one reboot elsewhere also causes (AREDN issue 2007). */
export const ACT_AFTER_MS: Readonly<Record<FindingKind, number>> = {
  'link-dead': 0,
  'link-late': 0,
  'neighbour-flapping': 0,
  'link-degrading': 3000,
  // Already the product of a trend over several polls and a confidence threshold.
  'link-dying': 0,
  'route-churn': 0,
  'interface-stuck': 0,
  'gateway-lost': 10_000,
  partition: 30_000,
};

/**
 * primary: the kernel's primary hard interface; null in the simulator, which has no enslaving.
 * Every other hard interface can be taken out of bat0 and put back (re-enslave.ts). The primary's
 * MAC is the node's originator address, and batman-adv sends none of the node's own OGMs, on any
 * interface, while it is down (bat_iv_ogm.c, batadv_iv_ogm_emit).
 */
export function ladderFor(f: Finding, liveIfnames: ReadonlySet<string>, primary: string | null = null): Step[] {
  const s = f.subject;
  const othersLive = [...liveIfnames].some((i) => i !== s.ifname);
  switch (f.kind) {
    case 'link-dead':
      // batman-adv keeps routing over a dead neighbour until five of each originator's OGMs have
      // missed it; purging the neighbours of an interface on which nobody else is heard drops it
      // at once and interrupts nothing. Out of the mesh and back in where that is possible (a
      // link dead one way keeps its other way); else a restart, whose down/up purges too.
      // With others live on it, rerouting is batman-adv's own job.
      if (f.evidence.liveOnInterface !== 0) return [];
      if (primary !== null && s.ifname !== primary) return [{ action: 'purge-neighbours', target: { ifname: s.ifname }, disruptive: false }];
      // Not the primary while another interface is live: its down/up silences this node for 2–3 s,
      // and every route towards it waits for its next OGM (on the kernel's equal diamond that cost
      // more than batman-adv's own reroute). A deaf end then leaves the reroute to batman-adv,
      // which drops a silent neighbour's routes about 5 s after it fell silent (kernel, 2022.3).
      // An end still hearing a neighbour that hears nothing of it (dead one way) drops that
      // neighbour's frames, which makes it silent: else batman-adv routes over it until its echo
      // of our OGMs runs dry, for about 16 s.
      if (s.ifname === primary && othersLive) {
        return f.evidence.oneWayMsAgo !== undefined ? [{ action: 'quarantine', target: { ifname: s.ifname, neighbour: s.neighbour }, disruptive: false }] : [];
      }
      return [{ action: 'restart-interface', target: { ifname: s.ifname }, disruptive: false }];
    case 'link-late':
      // Only the mesh-wide answer (faster OGMs, reversible, judged by commit-confirm): one late
      // OGM is too little to take an interface down for.
      return [];
    case 'neighbour-flapping':
      return [{ action: 'quarantine', target: { ifname: s.ifname, neighbour: s.neighbour }, disruptive: false }];
    case 'link-degrading':
      // Steering off an interface only helps when it carries routes (a link dead one way, purged,
      // is heard again with its TQ sinking, after batman-adv has moved every route off it) and
      // another one carries neighbours.
      if (f.evidence.routesVia === 0) return [];
      return othersLive ? [{ action: 'steer-interface', target: { ifname: s.ifname }, disruptive: false }] : [];
    case 'link-dying':
      // Per neighbour, before it dies: batman-adv reroutes by itself as that neighbour's TQ sinks,
      // and the others on the same interface stay (the predictor only speaks when there is a detour).
      return [{ action: 'steer-neighbour', target: { ifname: s.ifname, neighbour: s.neighbour }, disruptive: false }];
    case 'route-churn':
      return Number(f.evidence.goodPaths) >= 2 ? [{ action: 'bonding', target: {}, disruptive: false }] : [];
    case 'gateway-lost':
      return [{ action: 'gateway-reselect', target: {}, disruptive: false }];
    case 'interface-stuck':
      return [
        { action: 'restart-interface', target: { ifname: s.ifname }, disruptive: true },
        { action: 'restart-service', target: {}, disruptive: true },
        { action: 'reboot', target: {}, disruptive: true },
      ];
    case 'partition':
      return [
        { action: 'restart-service', target: {}, disruptive: true },
        { action: 'reboot', target: {}, disruptive: true },
      ];
  }
}
