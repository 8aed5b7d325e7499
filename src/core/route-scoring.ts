// Route scoring for the status page, gateway steering and multipath decisions: every candidate
// next hop of every originator scored in one core call.
//
// Scoring formula (computed in assembly/route-scoring.ts, float64):
//   quality    q = tq / 255                          (BATMAN IV: transmit quality 0…255)
//              q = throughput / (throughput + ref)   (BATMAN V: Mbit/s; ref = refThroughputMbps)
//   freshness  φ = 2^(−lastSeenMs / halfLifeMs)
//   stability  s = 1 − stabilityWeight · (1 − stability)
//   score      = q · φ · s · (1 − hopPenalty) · (1 − failureProb)        ∈ [0, 1]
// Every factor is a probability-like discount in [0, 1], so a single bad signal (stale, flapping,
// or predicted to fail) sinks a candidate whatever the others say.
// Ranking per originator: score descending, then next hop index, then input order.
// nextHops: walking that ranking, up to three candidates with score > 0 whose interfaces are
// pairwise different (multipath over different radios/ports).
import type { CoreExports } from './exports.ts';
import type { CoreMemory } from './memory.ts';
import { RouteScoringError } from './errors.ts';

export interface RouteCandidate {
  /** Dense index of the originator (destination) this candidate leads to. */
  originatorIndex: number;
  /** Dense index of the neighbour used as next hop. */
  nextHopIndex: number;
  /** Outgoing interface (e.g. the kernel ifindex of the hard interface). */
  ifIndex: number;
  /** BATMAN IV transmit quality 0…255; give exactly one of tq and throughputMbps. */
  tq?: number;
  /** BATMAN V estimated throughput in Mbit/s (batman-adv reports 100 kbit/s units: divide by 10). */
  throughputMbps?: number;
  /** Milliseconds since the originator was last seen through this neighbour. */
  lastSeenMs: number;
  /** Link stability over the window, 0 (flapping) … 1 (steady). */
  stability: number;
  /** Hop penalty normalised to 0…1 (batman-adv's hop_penalty / 255). */
  hopPenalty: number;
  /** The model's predicted failure probability of this link, 0…1. */
  failureProb: number;
}

export interface RouteScoringOptions {
  /** Age at which freshness halves (default 5000 ms: five default OGM intervals). */
  halfLifeMs?: number;
  /** Throughput at which BATMAN V quality is 0.5 (default 50 Mbit/s). */
  refThroughputMbps?: number;
  /** How much instability costs, 0…1 (default 0.5: a flapping link keeps half its score). */
  stabilityWeight?: number;
}

export interface ScoredCandidate {
  /** Index into the input array. */
  candidate: number;
  nextHopIndex: number;
  ifIndex: number;
  score: number;
}

export interface OriginatorRoutes {
  originatorIndex: number;
  /** All candidates of this originator, best first. */
  ranking: ScoredCandidate[];
  /** Up to three next hops on pairwise different interfaces, best first, each with score > 0. */
  nextHops: ScoredCandidate[];
}

export interface RouteScores {
  /** Score of each candidate, in input order. */
  scores: Float64Array;
  /** One entry per originator, ascending by originatorIndex. */
  originators: OriginatorRoutes[];
}

const MAX_INDEX = 0x7fffffff;

export class RouteScorer {
  private capacity = 0;
  private base = 0;
  private ptr = { ids: 0, feat: 0, score: 0, order: 0, tmp: 0, pick: 0 };

  constructor(
    private readonly core: CoreExports,
    private readonly memory: CoreMemory,
  ) {}

  score(candidates: readonly RouteCandidate[], opts: RouteScoringOptions = {}): RouteScores {
    if (!Array.isArray(candidates)) throw new RouteScoringError('invalid-candidate', 'route scoring: candidates must be an array');
    const halfLife = option(opts.halfLifeMs, 5000, 'halfLifeMs', (v) => v > 0);
    const ref = option(opts.refThroughputMbps, 50, 'refThroughputMbps', (v) => v > 0);
    const wStab = option(opts.stabilityWeight, 0.5, 'stabilityWeight', (v) => v >= 0 && v <= 1);
    const count = candidates.length;
    if (count === 0) return { scores: new Float64Array(0), originators: [] };
    this.reserve(count);

    const ids = this.memory.i32(this.ptr.ids, count * 3);
    const feat = this.memory.f64(this.ptr.feat, count * 6);
    for (let c = 0; c < count; c++) {
      const x = candidates[c];
      if (typeof x !== 'object' || x === null) throw new RouteScoringError('invalid-candidate', `candidate ${c}: not an object`, c);
      ids[c * 3] = index(x.originatorIndex, c, 'originatorIndex');
      ids[c * 3 + 1] = index(x.nextHopIndex, c, 'nextHopIndex');
      ids[c * 3 + 2] = index(x.ifIndex, c, 'ifIndex');
      const hasTq = x.tq !== undefined;
      const hasThr = x.throughputMbps !== undefined;
      if (hasTq === hasThr) {
        throw new RouteScoringError('invalid-candidate', `candidate ${c}: give exactly one of tq and throughputMbps`, c, 'tq');
      }
      feat[c * 6] = hasTq ? ranged(x.tq, c, 'tq', 0, 255) : -1;
      feat[c * 6 + 1] = hasThr ? ranged(x.throughputMbps, c, 'throughputMbps', 0, Infinity) : -1;
      feat[c * 6 + 2] = ranged(x.lastSeenMs, c, 'lastSeenMs', 0, Infinity);
      feat[c * 6 + 3] = ranged(x.stability, c, 'stability', 0, 1);
      feat[c * 6 + 4] = ranged(x.hopPenalty, c, 'hopPenalty', 0, 1);
      feat[c * 6 + 5] = ranged(x.failureProb, c, 'failureProb', 0, 1);
    }
    const { ids: pi, feat: pf, score, order, tmp, pick } = this.ptr;
    this.core.scoreRoutes(count, pi, pf, halfLife, ref, wStab, score, order, tmp, pick);

    const scores = this.memory.f64(score, count).slice();
    const ord = this.memory.i32(order, count);
    const picked = this.memory.i32(pick, count);
    const idsAfter = this.memory.i32(pi, count * 3);
    const originators: OriginatorRoutes[] = [];
    let cur: OriginatorRoutes | undefined;
    for (let k = 0; k < count; k++) {
      const c = ord[k]!;
      const orig = idsAfter[c * 3]!;
      if (!cur || cur.originatorIndex !== orig) {
        cur = { originatorIndex: orig, ranking: [], nextHops: [] };
        originators.push(cur);
      }
      const sc: ScoredCandidate = { candidate: c, nextHopIndex: idsAfter[c * 3 + 1]!, ifIndex: idsAfter[c * 3 + 2]!, score: scores[c]! };
      cur.ranking.push(sc);
      if (picked[k]) cur.nextHops.push(sc);
    }
    return { scores, originators };
  }

  // Grows the scratch only when a batch is larger than any before (then to twice its size),
  // so steady-state scoring never allocates core memory.
  private reserve(count: number): void {
    if (count <= this.capacity) return;
    if (this.capacity) this.memory.release(this.base);
    const cap = Math.max(256, 2 ** Math.ceil(Math.log2(count)));
    const sizes = { ids: cap * 12, feat: cap * 48, score: cap * 8, order: cap * 4, tmp: cap * 4, pick: cap * 4 };
    let total = 0;
    for (const v of Object.values(sizes)) total += Math.ceil(v / 16) * 16;
    this.base = this.memory.alloc(total);
    let at = this.base;
    for (const [k, v] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
      this.ptr[k] = at;
      at += Math.ceil(v / 16) * 16;
    }
    this.capacity = cap;
  }
}

function option(v: number | undefined, dflt: number, name: string, ok: (v: number) => boolean): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
    throw new RouteScoringError('invalid-option', `route scoring: option ${name} out of range: ${String(v)}`, undefined, name);
  }
  return v;
}

function index(v: unknown, c: number, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_INDEX) {
    throw new RouteScoringError('invalid-candidate', `candidate ${c}: ${field} must be an integer in [0, ${MAX_INDEX}], got ${String(v)}`, c, field);
  }
  return v;
}

function ranged(v: unknown, c: number, field: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new RouteScoringError('invalid-candidate', `candidate ${c}: ${field} must be a finite number in [${lo}, ${hi}], got ${String(v)}`, c, field);
  }
  return v;
}
