// What one analysis looks at, shared by the functions that each find one kind of problem
// (link-findings.ts, mesh-findings.ts): the tables of the last poll, the neighbours heard, the
// scored routes, and the analyzer's settings with their defaults (detection-timing.ts).
import type { Neighbour } from '../mesh/driver.ts';
import type { Finding } from './findings.ts';
import type { Knowledge, MeshSnapshot } from './knowledge.ts';
import type { RouteView } from './route-quality.ts';
import {
  CHURN_CHANGES, CHURN_WINDOW_MS, CLEAN_SILENT_AFTER_MS, DEGRADED_TQ, FLAP_OUTAGES, FLAP_WINDOW_MS, LATE_KNOWN_MS,
  LATE_MEMORY_MS, PARTITION_SHARE, SILENT_AFTER_MS, STUCK_AFTER_MS,
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

export type AnalyzeSettings = Readonly<Required<AnalyzeOptions>>;

export function analyzeSettings(opts: AnalyzeOptions): AnalyzeSettings {
  return {
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

/** A finding as it is made; the analyzer gives it its key and the time it was first made. */
export type NewFinding = Omit<Finding, 'sinceMs' | 'key'>;

export interface Scene {
  readonly knowledge: Knowledge;
  readonly settings: AnalyzeSettings;
  readonly nowMs: number;
  /** Names MACs in messages. */
  readonly name: (mac: string) => string;
  readonly mesh: MeshSnapshot;
  /** The hard interfaces active in the mesh. */
  readonly activeIfnames: ReadonlySet<string>;
  /** Neighbours heard within silentAfterMs, on an active interface. */
  readonly live: readonly Neighbour[];
  /** Our scores of the originator table, by originator. */
  readonly routes: ReadonlyMap<string, RouteView>;
}

/** Evidence and connectivity numbers carry three decimals. */
export const round3 = (v: number) => Math.round(v * 1000) / 1000;
