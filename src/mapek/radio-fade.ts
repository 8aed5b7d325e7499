// The judgement of one neighbour's radio link from its station statistics over time (nl80211,
// read by radio-watch.ts): is it fading? Compares the last RADIO_RECENT_MS with the link's own
// baseline before it, so a link that is always a bit lossy is its own normal, and needs the
// signal to fall with the frames (or frames to fail every retry), so that interference or a
// busy channel alone does not count as a fade.
import {
  RADIO_BASELINE_MS, RADIO_FADE_DB, RADIO_FADE_FAILED, RADIO_FADE_LOSS, RADIO_FADE_RISE, RADIO_KNOWN_MS, RADIO_MIN_ATTEMPTS, RADIO_RECENT_MS,
} from './detection-timing.ts';

/** One reading of a station's counters (cumulative, as the kernel keeps them). */
export interface RadioSample {
  at: number;
  txPackets: number;
  /** null: the driver does not report it. */
  txRetries: number | null;
  txFailed: number | null;
  signalDbm: number | null;
}

export interface RadioJudgement {
  fading: boolean;
  /** Unicast attempts in the recent window, and the share of them that failed. */
  attempts: number;
  loss: number;
  /** The same share over the baseline window (null: too few attempts there). */
  baselineLoss: number | null;
  /** How far the recent mean signal is below the baseline's median, dB (null: no signal reported). */
  signalDropDb: number | null;
  /** Frames that failed every retry in the recent window. */
  failed: number;
}

interface Span { attempts: number; failedAttempts: number; failed: number }

/** Attempts and failures between two readings; null when a counter went back (the station was re-created). */
function span(a: RadioSample, b: RadioSample): Span | null {
  const packets = b.txPackets - a.txPackets;
  const retries = (b.txRetries ?? 0) - (a.txRetries ?? 0);
  const failed = (b.txFailed ?? 0) - (a.txFailed ?? 0);
  if (packets < 0 || retries < 0 || failed < 0) return null;
  // Every retry follows a failed attempt, and a frame that failed them all failed once more.
  return { attempts: packets + retries, failedAttempts: retries + failed, failed };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** null: not enough history to judge (a new link, a driver without retry counters, counters reset). */
export function judgeRadio(samples: readonly RadioSample[], nowMs: number): RadioJudgement | null {
  if (samples.length < 2 || samples.some((s) => s.txRetries === null)) return null;
  const last = samples.at(-1)!;
  const recentFrom = nowMs - RADIO_RECENT_MS;
  const baseFrom = recentFrom - RADIO_BASELINE_MS;
  const i = samples.findIndex((s) => s.at >= recentFrom);
  if (i <= 0) return null;
  const mark = samples[i - 1]!; // the reading just before the recent window: it starts there
  const first = samples.find((s) => s.at >= baseFrom)!;
  if (mark.at - first.at < RADIO_KNOWN_MS) return null;
  const recent = span(mark, last);
  const base = span(first, mark);
  if (!recent || !base) return null;
  if (recent.attempts < RADIO_MIN_ATTEMPTS) return { fading: false, attempts: recent.attempts, loss: 0, baselineLoss: null, signalDropDb: null, failed: recent.failed };
  const loss = recent.failedAttempts / recent.attempts;
  const baselineLoss = base.attempts >= RADIO_MIN_ATTEMPTS ? base.failedAttempts / base.attempts : null;
  const baseSignals = samples.filter((s) => s.at >= first.at && s.at <= mark.at && s.signalDbm !== null).map((s) => s.signalDbm!);
  const recentSignals = samples.slice(i).filter((s) => s.signalDbm !== null).map((s) => s.signalDbm!);
  const signalDropDb = baseSignals.length && recentSignals.length ? median(baseSignals) - recentSignals.reduce((a, b) => a + b, 0) / recentSignals.length : null;
  const lossy = loss >= RADIO_FADE_LOSS && loss >= (baselineLoss ?? 0) + RADIO_FADE_RISE;
  const worse = (signalDropDb !== null && signalDropDb >= RADIO_FADE_DB) || recent.failed >= RADIO_FADE_FAILED;
  return { fading: lossy && worse, attempts: recent.attempts, loss, baselineLoss, signalDropDb, failed: recent.failed };
}
