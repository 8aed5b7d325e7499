/*
 * The simulator's link model — stated here once, tunable through LinkModelParams.
 *
 * A link joins two hard interfaces on the same band. Each OGM frame sent over a link in one
 * direction is delivered, independently of every other frame, with probability
 *
 *     p(t) = clamp(base_dir + fade(t), 0, 1) * burst(t) * failure(t) * fault(t)
 *
 *   base_dir   per link and direction: drawn uniformly from [basePdrMin, basePdrMax] (for the
 *              'mesh' topology scaled down with distance over the radio range), or given by an
 *              explicit link; the back direction differs by up to `asymmetry` (relative).
 *   fade(t)    slow fading, shared by both directions: an Ornstein-Uhlenbeck process with mean 0,
 *              stationary standard deviation `fadeSigma` and correlation time `fadeTauMs`
 *              (x <- x*a + fadeSigma*sqrt(1-a^2)*N(0,1), a = exp(-tick/fadeTauMs), exact).
 *   burst(t)   loss bursts, Gilbert-Elliott: a two-state Markov chain per link, evaluated every
 *              `tickMs`, leaving Good with probability 1-exp(-tick/burstMeanGoodMs) and Bad with
 *              1-exp(-tick/burstMeanBadMs); a frame survives with 1-burstLossGood in Good and
 *              1-burstLossBad in Bad. Stationary P(Bad) = qGB/(qGB+qBG) for those per-tick
 *              probabilities (≈ meanBad/(meanGood+meanBad)).
 *   failure(t) natural failures, a Poisson process of `failureRatePerHour` per link while up.
 *              With probability `degradeBeforeFailureProb` a degradation precedes the failure: the
 *              factor ramps linearly from 1 to 0 over a time drawn from [degradeRampMinMs,
 *              degradeRampMaxMs]; otherwise the link dies at once (a sudden failure that nothing
 *              precedes). A dead link recovers after recoveryMinMs + Exp(recoveryMeanMs).
 *   fault(t)   injected faults (kill, degrade with a ramp, partition, flap): see world.ts.
 *
 * State advances on a fixed tick of `tickMs` virtual milliseconds; frames sent between two ticks
 * see the state of the last tick. Everything is drawn from the world's one seeded PRNG.
 */
import type { Prng } from './prng.ts';
import { SimulatorError } from './errors.ts';

export interface LinkModelParams {
  /** State update period, virtual ms. */
  tickMs: number;
  basePdrMin: number;
  basePdrMax: number;
  /** Max relative difference between the two directions' base PDR (0 = symmetric). */
  asymmetry: number;
  fadeSigma: number;
  fadeTauMs: number;
  burstMeanGoodMs: number;
  burstMeanBadMs: number;
  burstLossGood: number;
  burstLossBad: number;
  failureRatePerHour: number;
  degradeBeforeFailureProb: number;
  degradeRampMinMs: number;
  degradeRampMaxMs: number;
  recoveryMinMs: number;
  recoveryMeanMs: number;
}

export const DEFAULT_LINK_MODEL: Readonly<LinkModelParams> = Object.freeze({
  tickMs: 100,
  basePdrMin: 0.8,
  basePdrMax: 0.99,
  asymmetry: 0.05,
  fadeSigma: 0.04,
  fadeTauMs: 30_000,
  burstMeanGoodMs: 60_000,
  burstMeanBadMs: 2_000,
  burstLossGood: 0,
  burstLossBad: 0.6,
  failureRatePerHour: 0.05,
  degradeBeforeFailureProb: 0.6,
  degradeRampMinMs: 30_000,
  degradeRampMaxMs: 180_000,
  recoveryMinMs: 30_000,
  recoveryMeanMs: 600_000,
});

/** Perfect, static links: what the protocol tests use to check TQ arithmetic exactly. */
export const IDEAL_LINK_MODEL: Readonly<LinkModelParams> = Object.freeze({
  ...DEFAULT_LINK_MODEL,
  basePdrMin: 1,
  basePdrMax: 1,
  asymmetry: 0,
  fadeSigma: 0,
  burstLossBad: 0,
  burstLossGood: 0,
  failureRatePerHour: 0,
});

export function resolveLinkModel(overrides: Partial<LinkModelParams> | undefined): LinkModelParams {
  const p: LinkModelParams = { ...DEFAULT_LINK_MODEL, ...(overrides ?? {}) };
  for (const [k, v] of Object.entries(p)) {
    if (!(k in DEFAULT_LINK_MODEL)) throw new SimulatorError('INVALID', `unknown link model parameter '${k}'`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new SimulatorError('INVALID', `link model parameter ${k} must be a finite number >= 0, got ${String(v)}`);
    }
  }
  for (const k of ['basePdrMin', 'basePdrMax', 'asymmetry', 'burstLossGood', 'burstLossBad', 'degradeBeforeFailureProb'] as const) {
    if (p[k] > 1) throw new SimulatorError('INVALID', `link model parameter ${k} must be in 0..1, got ${p[k]}`);
  }
  if (p.basePdrMin > p.basePdrMax) throw new SimulatorError('INVALID', 'basePdrMin exceeds basePdrMax');
  if (p.degradeRampMinMs > p.degradeRampMaxMs) throw new SimulatorError('INVALID', 'degradeRampMinMs exceeds degradeRampMaxMs');
  for (const k of ['tickMs', 'fadeTauMs', 'burstMeanGoodMs', 'burstMeanBadMs'] as const) {
    if (p[k] <= 0) throw new SimulatorError('INVALID', `link model parameter ${k} must be > 0`);
  }
  return p;
}

export interface LinkModelDescription {
  model: string[];
  parameters: LinkModelParams;
  derived: {
    burstGoodToBadPerTick: number;
    burstBadToGoodPerTick: number;
    /** Long-run share of time in the Bad state. */
    burstBadShare: number;
    /** Long-run frame loss from bursts alone (base PDR 1, no fade, no failures). */
    burstLongRunLoss: number;
    meanTimeBetweenFailuresMs: number;
    meanDowntimeMs: number;
  };
}

export function burstTransitionProbabilities(p: LinkModelParams): { gb: number; bg: number } {
  return { gb: 1 - Math.exp(-p.tickMs / p.burstMeanGoodMs), bg: 1 - Math.exp(-p.tickMs / p.burstMeanBadMs) };
}

export function describeLinkModel(overrides?: Partial<LinkModelParams>): LinkModelDescription {
  const p = resolveLinkModel(overrides);
  const { gb, bg } = burstTransitionProbabilities(p);
  const bad = gb + bg > 0 ? gb / (gb + bg) : 0;
  return {
    model: [
      'delivery per frame and direction, independent given the state: p = clamp(base + fade, 0, 1) * burst * failure * fault',
      `base: uniform in [${p.basePdrMin}, ${p.basePdrMax}] per link (mesh topology: scaled down with distance), directions differ by up to ${p.asymmetry} relative`,
      `fade: Ornstein-Uhlenbeck, mean 0, stationary sd ${p.fadeSigma}, correlation time ${p.fadeTauMs} ms, shared by both directions`,
      `burst: Gilbert-Elliott per link, mean Good ${p.burstMeanGoodMs} ms, mean Bad ${p.burstMeanBadMs} ms, loss ${p.burstLossGood} in Good and ${p.burstLossBad} in Bad`,
      `failure: Poisson ${p.failureRatePerHour}/h per link; ${p.degradeBeforeFailureProb} of them preceded by a linear ramp to 0 over ${p.degradeRampMinMs}..${p.degradeRampMaxMs} ms, the rest sudden`,
      `recovery: after ${p.recoveryMinMs} ms + Exp(mean ${p.recoveryMeanMs} ms)`,
      `state advances every ${p.tickMs} ms of virtual time; one seeded PRNG`,
    ],
    parameters: p,
    derived: {
      burstGoodToBadPerTick: gb,
      burstBadToGoodPerTick: bg,
      burstBadShare: bad,
      burstLongRunLoss: bad * p.burstLossBad + (1 - bad) * p.burstLossGood,
      meanTimeBetweenFailuresMs: p.failureRatePerHour > 0 ? 3_600_000 / p.failureRatePerHour : Infinity,
      meanDowntimeMs: p.recoveryMinMs + p.recoveryMeanMs,
    },
  };
}

export type LinkHealth = 'up' | 'degrading' | 'dead';
const UP = 0;
const DEGRADING = 1;
const DEAD = 2;

export type LinkTransition = { link: number; kind: 'link-degrading' | 'link-failed' | 'link-recovered'; detail: string };

/**
 * Per-link state for L undirected links; directed link d = 2*l (a->b) or 2*l+1 (b->a).
 * `deliveryProb` is what the protocol engine samples against for every frame.
 */
export class LinkModel {
  readonly params: LinkModelParams;
  readonly count: number;
  readonly deliveryProb: Float64Array;
  readonly basePdr: Float64Array;
  private readonly fade: Float64Array;
  private readonly burstBad: Uint8Array;
  private readonly health: Uint8Array;
  private readonly rampStart: Float64Array;
  private readonly rampEnd: Float64Array;
  private readonly deadUntil: Float64Array;
  // Injected faults.
  readonly killed: Uint8Array;
  readonly partitioned: Uint16Array;
  readonly flapDown: Uint8Array;
  private readonly degradeLoss: Float64Array;
  private readonly degradeFrom: Float64Array;
  private readonly degradeStart: Float64Array;
  private readonly degradeEnd: Float64Array;
  private readonly fadeA: number;
  private readonly fadeB: number;
  private readonly burstGb: number;
  private readonly burstBg: number;
  private readonly failPerTick: number;

  constructor(
    params: LinkModelParams,
    private readonly rng: Prng,
    basePdrs: Float64Array,
  ) {
    this.params = params;
    this.count = basePdrs.length / 2;
    const L = this.count;
    this.basePdr = basePdrs;
    this.deliveryProb = new Float64Array(2 * L);
    this.fade = new Float64Array(L);
    this.burstBad = new Uint8Array(L);
    this.health = new Uint8Array(L);
    this.rampStart = new Float64Array(L);
    this.rampEnd = new Float64Array(L);
    this.deadUntil = new Float64Array(L);
    this.killed = new Uint8Array(L);
    this.partitioned = new Uint16Array(L);
    this.flapDown = new Uint8Array(L);
    this.degradeLoss = new Float64Array(L);
    this.degradeFrom = new Float64Array(L);
    this.degradeStart = new Float64Array(L);
    this.degradeEnd = new Float64Array(L);
    this.fadeA = Math.exp(-params.tickMs / params.fadeTauMs);
    this.fadeB = params.fadeSigma * Math.sqrt(1 - this.fadeA * this.fadeA);
    const { gb, bg } = burstTransitionProbabilities(params);
    this.burstGb = params.burstLossBad > 0 || params.burstLossGood > 0 ? gb : 0;
    this.burstBg = bg;
    this.failPerTick = 1 - Math.exp(-(params.failureRatePerHour / 3_600_000) * params.tickMs);
    // Start each link in its stationary state so that a run has no warm-up artefact.
    const badShare = this.burstGb + this.burstBg > 0 ? this.burstGb / (this.burstGb + this.burstBg) : 0;
    for (let l = 0; l < L; l++) {
      if (params.fadeSigma > 0) this.fade[l] = params.fadeSigma * rng.normal();
      if (badShare > 0) this.burstBad[l] = rng.float() < badShare ? 1 : 0;
    }
    this.recompute(0);
  }

  /** Advances every link by one tick ending at `now`; returns the natural transitions. */
  tick(now: number, out: LinkTransition[]): void {
    const p = this.params;
    const rng = this.rng;
    const L = this.count;
    const fading = p.fadeSigma > 0;
    const bursting = this.burstGb > 0;
    const failing = this.failPerTick > 0;
    for (let l = 0; l < L; l++) {
      if (fading) this.fade[l] = this.fade[l]! * this.fadeA + this.fadeB * rng.normal();
      if (bursting) {
        if (this.burstBad[l]) {
          if (rng.float() < this.burstBg) this.burstBad[l] = 0;
        } else if (rng.float() < this.burstGb) this.burstBad[l] = 1;
      }
      const h = this.health[l]!;
      if (h === UP) {
        if (failing && rng.float() < this.failPerTick) {
          if (rng.float() < p.degradeBeforeFailureProb) {
            const ramp = rng.range(p.degradeRampMinMs, p.degradeRampMaxMs);
            this.health[l] = DEGRADING;
            this.rampStart[l] = now;
            this.rampEnd[l] = now + ramp;
            out.push({ link: l, kind: 'link-degrading', detail: `will fail in ${Math.round(ramp)} ms` });
          } else {
            this.die(l, now, out, 'sudden failure');
          }
        }
      } else if (h === DEGRADING) {
        if (now >= this.rampEnd[l]!) this.die(l, now, out, 'after degradation');
      } else if (now >= this.deadUntil[l]!) {
        this.health[l] = UP;
        out.push({ link: l, kind: 'link-recovered', detail: 'natural recovery' });
      }
    }
    this.recompute(now);
  }

  private die(l: number, now: number, out: LinkTransition[], why: string): void {
    const p = this.params;
    this.health[l] = DEAD;
    this.deadUntil[l] = now + p.recoveryMinMs + this.rng.exponential(p.recoveryMeanMs);
    out.push({ link: l, kind: 'link-failed', detail: `${why}, back in ${Math.round(this.deadUntil[l]! - now)} ms` });
  }

  /** Recomputes delivery probabilities from the current state (after a tick or a fault change). */
  recompute(now: number): void {
    const p = this.params;
    for (let l = 0; l < this.count; l++) {
      let f = this.burstBad[l] ? 1 - p.burstLossBad : 1 - p.burstLossGood;
      const h = this.health[l]!;
      if (h === DEAD) f = 0;
      else if (h === DEGRADING) {
        const span = this.rampEnd[l]! - this.rampStart[l]!;
        f *= span > 0 ? Math.max(0, (this.rampEnd[l]! - now) / span) : 0;
      }
      if (this.killed[l] || this.partitioned[l] || this.flapDown[l]) f = 0;
      else if (this.degradeEnd[l]! > 0 || this.degradeLoss[l]! > 0) f *= 1 - this.injectedLoss(l, now);
      const x = this.fade[l]!;
      for (let dir = 0; dir < 2; dir++) {
        const base = this.basePdr[2 * l + dir]! + x;
        this.deliveryProb[2 * l + dir] = (base < 0 ? 0 : base > 1 ? 1 : base) * f;
      }
    }
  }

  /** Loss currently added by an injected degradation (linear ramp from its start value). */
  injectedLoss(l: number, now: number): number {
    const end = this.degradeEnd[l]!;
    const target = this.degradeLoss[l]!;
    if (now >= end) return target;
    const start = this.degradeStart[l]!;
    const from = this.degradeFrom[l]!;
    return from + ((target - from) * (now - start)) / (end - start);
  }

  degrade(l: number, lossRatio: number, rampMs: number, now: number): void {
    this.degradeFrom[l] = this.degradeEnd[l]! > 0 || this.degradeLoss[l]! > 0 ? this.injectedLoss(l, now) : 0;
    this.degradeLoss[l] = lossRatio;
    this.degradeStart[l] = now;
    this.degradeEnd[l] = now + rampMs;
    this.recompute(now);
  }

  /** Clears injected kill/degrade/flap on a link (not partitions, not natural failures). */
  restore(l: number, now: number): void {
    this.killed[l] = 0;
    this.flapDown[l] = 0;
    this.degradeLoss[l] = 0;
    this.degradeFrom[l] = 0;
    this.degradeStart[l] = 0;
    this.degradeEnd[l] = 0;
    this.recompute(now);
  }

  healthOf(l: number): LinkHealth {
    const h = this.health[l];
    return h === UP ? 'up' : h === DEGRADING ? 'degrading' : 'dead';
  }

  burstStateOf(l: number): 'good' | 'bad' {
    return this.burstBad[l] ? 'bad' : 'good';
  }

  fadeOf(l: number): number {
    return this.fade[l]!;
  }
}
