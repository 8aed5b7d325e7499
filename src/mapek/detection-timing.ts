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
 * And it must be at least this long. The silence is extrapolated from the rate before it, so a
 * rate that merely fell (a neighbour leaving its fast-OGM spell: 10 packets/s down to 2) reads
 * as traffic stopped within the last poll gap: on the simulator's healthy 10 %-loss mesh that
 * made most false "dead" links. A second of nothing at 6 packets/s or more is no chance loss.
 */
export const RX_SILENT_MIN_MS = 1000;

/**
 * OGMs a healthy lossy link should send, on average, between two chance silences long enough
 * to be called dead: 10⁴, about 3 link-hours at batman-adv's 1 s interval (a diamond has four
 * links, each seen from both ends, so well under one false "dead" per node-hour).
 */
export const CHANCE_SILENCE_OGMS = 10_000;

/**
 * The silence after which a link is dead. A clean link that loses (next to) nothing:
 * CLEAN_SILENT_AFTER_MS. Any other misses OGMs in a row by chance, the more the worse its TQ:
 * at least silentAfterMs (TQ 200 and up), twice that at TQ 100, four times at TQ 50 and below;
 * and, given the OGM interval, enough intervals that k misses in a row at the link's loss p are
 * rarer than 1 in CHANCE_SILENCE_OGMS (p^k ≤ 10⁻⁴). At 10 % loss that is 4 misses, 4.5 intervals,
 * where 2.5 (2 on a link "clean" for 30 s) called one chance silence in 100 OGMs dead.
 * `loss` is the link's estimated OGM loss (see linkLoss).
 */
export function deadAfterMs(silentAfterMs: number, cleanSilentAfterMs: number, clean: boolean, lastTq: number | undefined, ogmIntervalMs = 0, loss = 0): number {
  const misses = chanceMisses(loss);
  if (clean && misses <= 2) return Math.min(cleanSilentAfterMs, silentAfterMs);
  const byTq = silentAfterMs * Math.max(1, 200 / Math.max(lastTq ?? 200, 50));
  return ogmIntervalMs > 0 ? Math.max(byTq, (misses + 0.5) * ogmIntervalMs) : byTq;
}

/**
 * Misses in a row a link losing this share of OGMs has less than a 1 in CHANCE_SILENCE_OGMS
 * chance of: at least 2, at most MAX_CHANCE_MISSES.
 */
export function chanceMisses(loss: number): number {
  // 1 % loss or less: two misses already meet the bound.
  const p = Math.min(Math.max(loss, 0.01), 0.9);
  return Math.min(MAX_CHANCE_MISSES, Math.max(2, Math.ceil(Math.log(CHANCE_SILENCE_OGMS) / -Math.log(p) - 1e-6)));
}
/**
 * A link losing more than about 16 % (5 misses reach 10⁻⁴) is waited for no longer: it is fading
 * or poor, batman-adv routes around it anyway, and waiting by its loss (42 intervals at 80 %)
 * lost a fading link's death for seconds on the simulator's fade runs.
 */
export const MAX_CHANCE_MISSES = 5;

/**
 * A link's OGM loss, the worse of two readings: its TQ, which batman-adv computes from OGMs that
 * crossed the link (read as TQ ≈ 255·(1−p)², the mildest reading: a TQ of 250 still counts as
 * lossless, and the simulator's TQ reads 250 at 10 % loss, so the late events must tell); and
 * its late events (one per missed OGM or run of them) per OGM interval over the time they span.
 * Fewer than MIN_LOSS_OGMS intervals observed tell nothing.
 */
export function linkLoss(lastTq: number | undefined, lates: readonly number[], observedFromMs: number, nowMs: number, ogmIntervalMs: number): number {
  const byTq = lastTq === undefined ? 0 : 1 - Math.sqrt(Math.min(Math.max(lastTq, 1), 255) / 255);
  const intervals = ogmIntervalMs > 0 ? (nowMs - observedFromMs) / ogmIntervalMs : 0;
  return intervals >= MIN_LOSS_OGMS ? Math.max(byTq, (LATE_UNDERCOUNT * lates.length) / intervals) : byTq;
}
export const MIN_LOSS_OGMS = 20;
/**
 * batman-adv's default OGM interval. Our own interval is no measure of a neighbour's: in our
 * fast spell it may still send once a second (its spell is its own agent's), so loss and
 * silence are counted in intervals of at least this.
 */
export const NEIGHBOUR_OGM_MS = 1000;
/** The interval a neighbour's OGMs are counted in, given ours. */
export function neighbourOgmMs(ogmIntervalMs: number): number {
  return ogmIntervalMs > 0 ? Math.max(ogmIntervalMs, NEIGHBOUR_OGM_MS) : 0;
}
/**
 * One missed OGM leaves its neighbour overdue for only half an interval (1.5 → 2 intervals):
 * polled once an interval, about half of them are seen as late events (measured on the
 * simulator at 10 % loss: 0.04 late events per OGM). Counting each twice errs towards waiting longer;
 * where the monitor polls fast once a neighbour is overdue it sees nearly all, and the loss reads
 * up to twice too high (a lossy link then waits a few intervals more before it is called dead).
 */
export const LATE_UNDERCOUNT = 2;

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

/** The rx watch reads the counters of links that carry routes this often (rx-watch.ts). */
export const RX_WATCH_MS = 100;
/**
 * A watched link's traffic must be silent this long, with ECHO_RX_EXPECTED packets overdue at its
 * rate, before its neighbour is asked. Fewer than RX_EXPECTED: a chance silence costs only an
 * answered echo (8 small frames), not a wrong finding.
 */
export const ECHO_SILENT_MIN_MS = 300;
export const ECHO_RX_EXPECTED = 4;
/** Each watched link's neighbour is asked this often whether it answers at all. */
export const ECHO_KEEPALIVE_MS = 30_000;
/**
 * Until it first answers, sooner: ECHO_LEARN_TRIES times, this far apart. A neighbour's agent
 * that is starting (at boot every agent is) misses the first ask, and its link would otherwise
 * stay unknown, and its silences unasked, for half a minute; one that never answers (no agent)
 * costs a few more small frames in its first half-minute only.
 */
export const ECHO_LEARN_MS = 5000;
export const ECHO_LEARN_TRIES = 6;
/** A neighbour that answered within this long is one whose silence means something. */
export const ECHO_KNOWN_MS = 95_000;
/** An unanswered echo counts as the link's death this long, unless an OGM came after it. */
export const ECHO_LOST_VALID_MS = 5000;
/**
 * A link that was (nearly) clean and misses an OGM may be starting to fade: for SUSPECT_MS its
 * delivery is measured over the link echo every MEASURE_EVERY_MS (20 echoes in about a second),
 * until a measurement finds it healthy. "Nearly clean": at most SUSPECT_MAX_LATES late OGMs in
 * LATE_MEMORY_MS; a lossy link misses far more, and is never measured.
 */
export const SUSPECT_MS = 30_000;
export const MEASURE_EVERY_MS = 3000;
export const SUSPECT_MAX_LATES = 3;
/** A measurement at or above this ends the suspicion. */
export const DELIVERY_HEALTHY = 0.95;
/** At or below this a link carrying routes with a detour is dying (predict-link-death.ts): 10–20 % loss each way, from a clean start. */
export const DELIVERY_DYING = 0.75;
/** A measurement counts for the analysis this long. */
export const DELIVERY_VALID_MS = 4000;
/** A link measured for a fade must have had its TQ at CLEAN_TQ or more for the CLEAN_TQ_SAMPLES polls before. */
export const CLEAN_TQ = 240;
export const CLEAN_TQ_SAMPLES = 5;

/**
 * Radio watch (radio-watch.ts): a Wi-Fi hard interface's per-neighbour station statistics
 * (nl80211: transmit attempts, retries, failures, signal) are read this often while the neighbour
 * carries routes. A fading radio link retries its unicast frames long before it loses them, and
 * before batman-adv's broadcast OGMs show it in a TQ averaged over 64 of them.
 */
export const RADIO_WATCH_MS = 250;
/** The recent window a fade is judged on, and the baseline before it (the link's own normal). */
export const RADIO_RECENT_MS = 2000;
export const RADIO_BASELINE_MS = 30_000;
/** The baseline must cover this much before a link can be judged: a link met a moment ago has no normal yet. */
export const RADIO_KNOWN_MS = 10_000;
/** Fewer unicast attempts than this in the recent window tell nothing. */
export const RADIO_MIN_ATTEMPTS = 12;
/**
 * Fading: at least RADIO_FADE_LOSS of the recent attempts failed, RADIO_FADE_RISE more than the
 * baseline's share, and the signal fell RADIO_FADE_DB below the baseline's median (or frames
 * already failed every retry). A lossy but steady link (10 % loss each way: about 19 % of
 * attempts) passes the first test 1 window in 15 by chance and never the last; a fade is the
 * signal going with the frames.
 */
export const RADIO_FADE_LOSS = 0.4;
export const RADIO_FADE_RISE = 0.2;
export const RADIO_FADE_DB = 6;
export const RADIO_FADE_FAILED = 2;
/** A radio reading counts for the analysis this long. */
export const RADIO_VALID_MS = 1000;
