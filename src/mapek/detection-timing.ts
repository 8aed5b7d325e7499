// Detection timing: how long each sign must last before the monitor, the knowledge and the
// analysis call it a fault, in one place with the reason for each number. Most count in OGM
// intervals (batman-adv's orig_interval, 1 s by default): shorter ones heal sooner, and act on
// chance more often. Option defaults here can be overridden (AnalyzeOptions, MonitorOptions).

// ── A neighbour's silence ────────────────────────────────────────────────────────────────────

/** A neighbour not heard for this long is silent: two and a half OGM intervals. */
export const SILENT_AFTER_MS = 2500;
/**
 * A clean link (no OGM missed for LATE_MEMORY_MS) missing two OGMs in a row is no chance: it is
 * given up half an interval sooner than any link.
 */
export const CLEAN_SILENT_AFTER_MS = 2000;
/** A neighbour this many OGM intervals silent is overdue: one OGM missed (a late event). */
export const LATE_INTERVALS = 1.5;
/**
 * From this many intervals of silence on, a neighbour is suspect: the monitor polls fast, and a
 * neighbour alone on its interface whose traffic stopped with its OGMs is dead already (it is
 * the earliest moment both signs can be read together).
 */
export const SUSPECT_INTERVALS = 1.2;
/**
 * Packets that would have arrived, at the rate before, during a silence that declares traffic
 * stopped (e⁻⁶ ≈ 0.25 % for a Poisson stream; it only counts with the neighbour's OGM overdue
 * as well).
 */
export const RX_EXPECTED = 6;

/**
 * The silence after which a link is dead. A clean link: CLEAN_SILENT_AFTER_MS. Any other misses
 * OGMs in a row by chance, the more the worse its TQ: TQ 200 and up waits silentAfterMs, TQ 100
 * twice that, TQ 50 and below four times.
 */
export function deadAfterMs(silentAfterMs: number, cleanSilentAfterMs: number, clean: boolean, lastTq: number | undefined): number {
  return clean ? Math.min(cleanSilentAfterMs, silentAfterMs) : silentAfterMs * Math.max(1, 200 / Math.max(lastTq ?? 200, 50));
}

/**
 * A late OGM is news on a link that missed none for LATE_MEMORY_MS or, if known for less, at
 * least LATE_KNOWN_MS since it is known (a link heard a moment ago has no record to be clean by).
 */
export const LATE_MEMORY_MS = 300_000;
export const LATE_KNOWN_MS = 30_000;

/**
 * batman-adv keeps a silent neighbour listed until its 200 s purge: what tells that it is gone
 * is its last-seen age, five OGM intervals (at least 5 s) of the interval it is given.
 */
export function staleAfterMs(origIntervalMs: number): number {
  return Math.max(5000, 5 * origIntervalMs);
}

/**
 * An originator counts as reachable while its best route was refreshed within twice a
 * neighbour's silence (its OGMs cross more than one link).
 */
export const ORIGINATOR_SILENT_FACTOR = 2;

// ── Polling ─────────────────────────────────────────────────────────────────────────────────

/** The poll interval while a neighbour is overdue (never above the normal interval). */
export const FAST_POLL_MS = 250;
/** A due poll comes this long after the moment it waits for (the reading must be past it). */
export const DUE_SLACK_MS = 20;
/**
 * And no sooner than this after the poll before: a driver whose ages move in steps (the
 * simulator's world steps every 100 ms) would otherwise be asked again and again in between.
 */
export const DUE_MIN_GAP_MS = 100;

// ── Interface counters ─────────────────────────────────────────────────────────────────────

/** Counter readings older than this say nothing about now. */
export const STALE_READING_MS = 5000;
/** How far back the received-packet rate before a silence is measured. */
export const RX_RATE_WINDOW_MS = 5000;
/** The readings that rate needs to span at least: a shorter stretch tells no rate. */
export const RX_RATE_MIN_SPAN_MS = 2000;
/** How long received-packet readings are kept (the rate window before a silence, and the silence). */
export const RX_HISTORY_MS = 15_000;
/** Counters still for this long make silent neighbours on that interface the interface's problem. */
export const FROZEN_SUSPECT_MS = 2000;
/** An up interface whose packet counters have not moved this long is stuck. */
export const STUCK_AFTER_MS = 4000;

// ── Patterns over a window ──────────────────────────────────────────────────────────────────

/** Flapping: this many outages of one link within FLAP_WINDOW_MS. */
export const FLAP_OUTAGES = 3;
export const FLAP_WINDOW_MS = 60_000;
/** A purged link is forgotten once its last outage is this old (flapping can no longer be told). */
export const OUTAGE_MEMORY_MS = 600_000;
/** Route churn: this many best-next-hop changes of one originator within CHURN_WINDOW_MS. */
export const CHURN_CHANGES = 4;
export const CHURN_WINDOW_MS = 60_000;
/**
 * A degrading link: its mean TQ over the last DEGRADING_SAMPLES polls below DEGRADED_TQ, after
 * having been DEGRADED_DROP above it in its window (one low sample is noise).
 */
export const DEGRADED_TQ = 100;
export const DEGRADED_DROP = 50;
export const DEGRADING_SAMPLES = 3;

// ── Reachability ────────────────────────────────────────────────────────────────────────────

/** Gateway probe: this many failures in a row make the gateway lost, if the last is this recent. */
export const PROBE_FAILURES = 2;
export const PROBE_MEMORY_MS = 60_000;
/** A partition is measured against the most originators reachable within this. */
export const PARTITION_MEMORY_MS = 600_000;
/** Partition: reachable originators below this share of that maximum. */
export const PARTITION_SHARE = 0.5;
/** Connectivity.recentReachable: what an intermittent link gave when it was last up. */
export const RECENT_REACHABLE_MS = 30_000;
