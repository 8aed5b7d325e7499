// Predicts a link's death before it happens, for the per-neighbour steering (steer-neighbour):
// the TQ trend (a least-squares slope over the last samples, one per poll) projected to the TQ
// at which a link is as good as dead, combined with the learned failure model's probability of
// "dead within the horizon" when there is one. A finding is made only when the combined
// confidence is high: a noisy trend (low R²) or a model that says the link is fine keep it off.
// Only links that carry routes and whose originators have a detour through another neighbour
// are predicted on: steering off a link with no alternative helps nothing. A link whose delivery
// was measured over the link echo (rx-watch.ts) at DELIVERY_DYING or less is dying without a
// prediction: that is the fade itself, seen before batman-adv's TQ shows it. So is a Wi-Fi link
// whose radio retries more and more of its frames as its signal falls (radio-fade.ts).
import type { Neighbour } from '../mesh/driver.ts';
import { linkKey } from './knowledge.ts';
import { round3, type NewFinding, type Scene } from './analysis-scene.ts';
import { DELIVERY_DYING, DELIVERY_VALID_MS, RADIO_VALID_MS } from './detection-timing.ts';
import { judgeRadio } from './radio-fade.ts';

export interface PredictOptions {
  /** Samples in the trend fit (polls; default 5: a fade at fast OGMs shows within seconds). */
  samples?: number;
  /** Seconds between samples (the monitor's poll interval; default 1). */
  sampleS?: number;
  /** The horizon "dies within" refers to (default 30 s, the failure model's horizon). */
  horizonS?: number;
  /** TQ at or below which a link counts as dead for the projection (default 40 of 255). */
  deadTq?: number;
  /** A slope shallower than this (TQ per second, falling) is no trend (default 2). */
  minFallPerS?: number;
  /** Combined confidence needed for a finding (default 0.8). */
  confidence?: number;
  /** The window must have fallen at least this much (TQ), each of its last steps down or flat (default 40). */
  minFall?: number;
  /**
   * Act on the trend alone when the model has no probability for the link (default false). Off
   * because the trend alone cannot tell a fade from the dips of a lossy link at fast OGM rates:
   * on the simulator's lossy-but-alive links it steered 8.5 times per node-hour (docs/heal.md).
   */
  trendOnly?: boolean;
  /**
   * A model this sure (default 0.85) needs only the TQ not to contradict it (not rising, the
   * last steps down or flat): batman-adv's TQ lags the loss by its 64-OGM windows (at 1 s OGMs it
   * hardly moves in the first half of a 20 s fade), so waiting for it loses the lead.
   */
  modelSure?: number;
}

export interface LinkPrediction {
  tq: number;
  /** TQ per second (negative: falling). */
  slopePerS: number;
  /** How well a line fits the samples, 0..1. */
  r2: number;
  /** Seconds until the line reaches deadTq; null when it does not fall. */
  secondsToDeath: number | null;
  modelProb: number | null;
  confidence: number;
  dying: boolean;
}

const DEFAULTS: Required<PredictOptions> = { samples: 5, sampleS: 1, horizonS: 30, deadTq: 40, minFallPerS: 2, confidence: 0.8, minFall: 40, trendOnly: false, modelSure: 0.85 };

/** Least squares over the last `samples` values (a gap breaks the window: only samples after it count). */
export function predictLink(history: readonly (number | null)[], modelProb: number | null, options: PredictOptions = {}): LinkPrediction | null {
  const o = { ...DEFAULTS, ...options };
  const tail = history.slice(-o.samples);
  const gap = tail.lastIndexOf(null);
  const ys = tail.slice(gap + 1) as number[];
  if (ys.length < o.samples || ys.some((y) => !Number.isFinite(y))) return null;
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  ys.forEach((y, i) => {
    sxy += (i - mx) * (y - my);
    sxx += (i - mx) ** 2;
    syy += (y - my) ** 2;
  });
  const slope = sxy / sxx / o.sampleS;
  const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  const tq = ys.at(-1)!;
  // A fade falls steadily: a burst of loss dips and recovers, a fluctuating link goes both ways.
  const steady = ys.slice(-4).every((y, i, a) => i === 0 || y <= a[i - 1]!) && Math.max(...ys) - tq >= o.minFall;
  const falling = slope <= -o.minFallPerS && steady;
  const secondsToDeath = slope < 0 ? Math.max(0, (tq - o.deadTq) / -slope) : null;
  // The trend's own confidence: a clear fit, falling fast enough to be dead within the horizon.
  const trend = falling && secondsToDeath !== null && secondsToDeath <= o.horizonS ? r2 : 0;
  // With a model, it has half the say: a model sure the link lives keeps the trend alone from acting.
  const confidence = modelProb === null ? trend : 0.5 * trend + 0.5 * modelProb;
  // No model for this link: it is unsure, and the trend alone acts only when allowed to.
  const allowed = modelProb !== null || o.trendOnly;
  const agrees = modelProb !== null && modelProb >= o.modelSure && slope <= 0 && ys.slice(-3).every((y, i, a) => i === 0 || y <= a[i - 1]!);
  return { tq, slopePerS: slope, r2, secondsToDeath, modelProb, confidence: agrees ? Math.max(confidence, modelProb) : confidence,
    dying: agrees || (allowed && trend > 0 && confidence >= o.confidence) };
}

/** 'link-dying' findings for live TQ links that carry routes with a detour elsewhere. */
export function dyingFindings(scene: Scene, probs: ReadonlyMap<string, number>, options: PredictOptions = {}): NewFinding[] {
  const status = new Map(scene.knowledge.linkStatus().map((l) => [linkKey(l.hardIfname, l.neighbour), l]));
  const found: NewFinding[] = [];
  for (const n of scene.live) {
    const link = status.get(linkKey(n.hardIfname, n.neighbour));
    const { via, detours } = routesVia(scene, n);
    if (via === 0 || detours === 0) continue;
    // The radio's own reading holds for BATMAN_V's throughput links as well as for TQ links.
    const fading = radioFade(scene, n, via, detours) ?? (link?.metricKind === 'tq' ? measuredFade(scene, n, via, detours) : null);
    if (fading) {
      found.push(fading);
      continue;
    }
    if (link?.metricKind !== 'tq') continue;
    const p = predictLink(link.history, probs.get(`${n.hardIfname}/${n.neighbour}`) ?? null, options);
    if (!p?.dying) continue;
    found.push({
      kind: 'link-dying', subject: { ifname: n.hardIfname, neighbour: n.neighbour },
      message: `link to ${scene.name(n.neighbour)} on ${n.hardIfname} predicted dead ` +
        (p.secondsToDeath !== null && p.secondsToDeath <= (options.horizonS ?? DEFAULTS.horizonS) ? `in ${Math.round(p.secondsToDeath)} s` : 'within the horizon') +
        `: TQ ${p.tq}, ${p.slopePerS.toFixed(1)}/s` + (p.modelProb === null ? '' : `, model ${Math.round(p.modelProb * 100)} %`),
      evidence: { tq: p.tq, slopePerS: round3(p.slopePerS), r2: round3(p.r2), secondsToDeath: p.secondsToDeath === null ? null : round3(p.secondsToDeath), modelProb: p.modelProb === null ? null : round3(p.modelProb),
        confidence: round3(p.confidence), routesVia: via, detours },
    });
  }
  return found;
}

/**
 * A link measured over the link echo (rx-watch.ts) delivering DELIVERY_DYING or less there and
 * back, having been nearly clean: not a prediction from a model but the fade itself, seen while
 * batman-adv's 64-OGM windows still show the link as good.
 */
function measuredFade(scene: Scene, n: Neighbour, via: number, detours: number): NewFinding | null {
  const m = scene.knowledge.echoOf(linkKey(n.hardIfname, n.neighbour))?.delivery;
  if (!m || scene.nowMs - m.at > DELIVERY_VALID_MS || m.ratio > DELIVERY_DYING) return null;
  return {
    kind: 'link-dying', subject: { ifname: n.hardIfname, neighbour: n.neighbour },
    message: `link to ${scene.name(n.neighbour)} on ${n.hardIfname} fading: ${Math.round(m.ratio * 100)} % of its link echoes answered, after a clean spell`,
    evidence: { delivery: round3(m.ratio), measuredMsAgo: scene.nowMs - m.at, routesVia: via, detours },
  };
}

/** A Wi-Fi link whose radio, read lately (radio-watch.ts), shows a fade against its own baseline. */
function radioFade(scene: Scene, n: Neighbour, via: number, detours: number): NewFinding | null {
  const samples = scene.knowledge.radioOf(linkKey(n.hardIfname, n.neighbour));
  const last = samples.at(-1);
  if (!last || scene.nowMs - last.at > RADIO_VALID_MS) return null;
  const j = judgeRadio(samples, last.at);
  if (!j?.fading) return null;
  return {
    kind: 'link-dying', subject: { ifname: n.hardIfname, neighbour: n.neighbour },
    message: `link to ${scene.name(n.neighbour)} on ${n.hardIfname} fading: its radio retried ${Math.round(j.loss * 100)} % of ${j.attempts} attempts` +
      (j.baselineLoss === null ? '' : ` (${Math.round(j.baselineLoss * 100)} % before)`) + (j.signalDropDb === null ? '' : `, signal ${j.signalDropDb.toFixed(1)} dB down`) +
      (j.failed ? `, ${j.failed} frames lost after every retry` : ''),
    evidence: { radioLoss: round3(j.loss), attempts: j.attempts, baselineLoss: j.baselineLoss === null ? null : round3(j.baselineLoss),
      signalDropDb: j.signalDropDb === null ? null : round3(j.signalDropDb), failedFrames: j.failed, measuredMsAgo: scene.nowMs - last.at, routesVia: via, detours },
  };
}

/** Originators routed via this neighbour now, and how many of them also have a route via another. */
function routesVia(scene: Scene, n: Neighbour): { via: number; detours: number } {
  const origs = scene.mesh.originators;
  const mine = origs.filter((o) => o.best && o.nextHop === n.neighbour && o.hardIfname === n.hardIfname);
  const detours = mine.filter((m) => origs.some((o) => o.originator === m.originator && !(o.nextHop === n.neighbour && o.hardIfname === n.hardIfname))).length;
  return { via: mine.length, detours };
}
