// The link-failure model's input: one feature vector per direct link per poll, computed from
// the knowledge windows (the metric history of every link) plus what the same poll saw in the
// originator table and, when the platform has them, the interface error counters.
// Every feature is scaled by a fixed constant into roughly [-1, 1]: nodes never exchange data,
// so per-node standardisation would give every node a different input space and the averaged
// model would mean nothing on any of them.
import type { Neighbour, Originator } from '../mesh/driver.ts';
import type { LinkStatus } from '../status/types.ts';

export const FEATURE_NAMES = [
  'level', // last metric / scale (0 when the link has no current sample)
  'mean', // mean of the window's samples / scale
  'slope_short', // least-squares slope over the last 10 samples, per 10 polls / scale
  'slope_long', // slope over the whole window, per 10 polls / scale
  'stddev', // standard deviation over the window / scale, ×4
  'min_short', // minimum of the last 10 samples / scale
  'drop_from_max', // (window max − last) / scale
  'gap_share', // share of the last 10 polls without a sample
  'last_seen_age', // neighbour last-seen age, / 10 s, capped at 1
  'best_hop_changes', // best-next-hop switches to/from this neighbour in the window, / 10, capped at 1
  'best_hop_share', // share of originators whose best next hop is this neighbour on this interface
  'if_errors', // log1p(error + drop counter growth over the window) / 10, capped at 1
] as const;
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Metric scale: TQ is 0..255; throughput (BATMAN_V) is scaled by 100 Mbit/s. */
const SCALE = { tq: 255, throughput: 100_000 } as const;
const SHORT = 10;

export interface FeatureOptions {
  /** Polls of history used (the most recent ones); default 30. */
  window?: number;
}

/** Interface counters as /sys/class/net/IF/statistics has them; only the error/drop ones are used. */
export interface ErrorCounters {
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
}

export interface LinkFeatures {
  key: string;
  neighbour: string;
  hardIfname: string;
  x: Float32Array;
}

/**
 * Keeps the little state that the knowledge windows do not: best-hop switches and counter
 * growth per link. Feed it once per poll, after the monitor updated the knowledge.
 */
export class FeatureTracker {
  readonly window: number;
  private prevBest = new Map<string, string>();
  private readonly switches = new Map<string, number[]>();
  private readonly errors = new Map<string, number[]>();

  constructor(opts: FeatureOptions = {}) {
    const w = opts.window ?? 30;
    if (!Number.isInteger(w) || w < 2 || w > 10_000) throw new RangeError(`features: window must be an integer in [2, 10000], got ${String(w)}`);
    this.window = w;
  }

  /**
   * One poll: links from Knowledge.linkStatus(), the neighbour and originator tables of the same
   * poll (Knowledge.mesh), and the error counters per hard interface (omit where the platform has
   * none). Returns one vector per link.
   */
  observe(poll: PollView): LinkFeatures[] {
    const { links, originators, neighbours, counters } = poll;
    // best next hop per originator this poll, and which (ifname/neighbour) gained or lost it
    const best = new Map<string, string>();
    const bestCount = new Map<string, number>();
    for (const o of originators) {
      if (!o.best) continue;
      const via = `${o.hardIfname}/${o.nextHop}`;
      best.set(o.originator, via);
      bestCount.set(via, (bestCount.get(via) ?? 0) + 1);
    }
    const switched = new Map<string, number>();
    for (const [orig, via] of best) {
      const before = this.prevBest.get(orig);
      if (before === undefined || before === via) continue;
      switched.set(via, (switched.get(via) ?? 0) + 1);
      switched.set(before, (switched.get(before) ?? 0) + 1);
    }
    this.prevBest = best;

    const errTotals = new Map<string, number>();
    if (counters) for (const [ifname, c] of counters) errTotals.set(ifname, c.rxErrors + c.txErrors + c.rxDropped + c.txDropped);

    const lastSeen = new Map<string, number>();
    for (const n of neighbours) lastSeen.set(`${n.hardIfname}/${n.neighbour}`, n.lastSeenMs);
    const out: LinkFeatures[] = [];
    const live = new Set<string>();
    for (const l of links) {
      const key = `${l.hardIfname}/${l.neighbour}`;
      live.add(key);
      push(this.switchRing(key), switched.get(key) ?? 0, this.window);
      const err = errTotals.get(l.hardIfname);
      const ring = this.errorRing(key);
      if (err !== undefined) push(ring, err, this.window);
      out.push({
        key,
        neighbour: l.neighbour,
        hardIfname: l.hardIfname,
        x: linkVector(l, this.window, {
          switches: sum(this.switches.get(key)!),
          bestShare: best.size ? (bestCount.get(key) ?? 0) / best.size : 0,
          errorGrowth: ring.length >= 2 ? Math.max(0, ring.at(-1)! - ring[0]!) : 0,
          lastSeenMs: lastSeen.get(key),
        }),
      });
    }
    // forget links the knowledge forgot, so the state stays bounded by the live links
    for (const k of [...this.switches.keys()]) if (!live.has(k)) this.switches.delete(k);
    for (const k of [...this.errors.keys()]) if (!live.has(k)) this.errors.delete(k);
    return out;
  }

  private switchRing(key: string): number[] {
    let r = this.switches.get(key);
    if (!r) this.switches.set(key, (r = []));
    return r;
  }

  private errorRing(key: string): number[] {
    let r = this.errors.get(key);
    if (!r) this.errors.set(key, (r = []));
    return r;
  }
}

export interface PollView {
  links: readonly LinkStatus[];
  originators: readonly Originator[];
  neighbours: readonly Neighbour[];
  counters?: ReadonlyMap<string, ErrorCounters>;
}

interface Extra {
  /** undefined: the neighbour is no longer listed (age feature saturates). */
  lastSeenMs: number | undefined;
  switches: number;
  bestShare: number;
  errorGrowth: number;
}

/** The feature vector of one link from its metric history (oldest first) and the extras. */
export function linkVector(l: Pick<LinkStatus, 'metricKind' | 'history'>, window: number, extra: Extra): Float32Array {
  const scale = SCALE[l.metricKind];
  const h = l.history.slice(-window);
  const x = new Float32Array(FEATURE_COUNT);
  const last = h.at(-1);
  const vals = h.filter((v): v is number => v !== null);
  const short = h.slice(-SHORT);
  const shortVals = short.filter((v): v is number => v !== null);
  x[0] = last == null ? 0 : clamp(last / scale, 0, 2);
  if (vals.length) {
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    x[1] = clamp(mean / scale, 0, 2);
    const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
    x[4] = clamp((4 * Math.sqrt(variance)) / scale, 0, 1);
    x[6] = clamp((Math.max(...vals) - (last ?? 0)) / scale, 0, 2);
  }
  x[2] = clamp((slope(short) * 10) / scale, -1, 1);
  x[3] = clamp((slope(h) * 10) / scale, -1, 1);
  x[5] = shortVals.length ? clamp(Math.min(...shortVals) / scale, 0, 2) : 0;
  x[7] = short.length ? (short.length - shortVals.length) / short.length : 1;
  x[8] = extra.lastSeenMs === undefined ? 1 : Math.min(1, Math.max(0, extra.lastSeenMs) / 10_000);
  x[9] = Math.min(1, extra.switches / 10);
  x[10] = clamp(extra.bestShare, 0, 1);
  x[11] = Math.min(1, Math.log1p(extra.errorGrowth) / 10);
  return x;
}

/** Least-squares slope of the non-null samples against their poll index (0 with < 2 samples). */
function slope(h: readonly (number | null)[]): number {
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < h.length; i++) {
    const v = h[i];
    if (v == null) continue;
    n++;
    sx += i;
    sy += v;
    sxx += i * i;
    sxy += i * v;
  }
  const den = n * sxx - sx * sx;
  return n < 2 || den === 0 ? 0 : (n * sxy - sx * sy) / den;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function sum(a: readonly number[]): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

function push<T>(ring: T[], v: T, limit: number): void {
  ring.push(v);
  if (ring.length > limit) ring.splice(0, ring.length - limit);
}
