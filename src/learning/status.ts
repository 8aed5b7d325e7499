// What the learning part shows in /status (the `learning` field), in /metrics, and in
// `x0tta6bl4 learning`: the round, who was heard, the rule, what was rejected and why, and how
// good the model is on held-out data. Kept small: telemetry drops a learning block over 1 KB.
import type { FederatedLearner } from './federated-learner.ts';
import { MetricsText } from '../status/metrics.ts';

export interface LearningStatus {
  schema: 1;
  round: number;
  modelVersion: number;
  rule: string;
  /** The rule as the last round ran it (e.g. with bucketing), or null before the first aggregate. */
  ruleUsed: string | null;
  f: number;
  bucketing: number;
  workerMomentum: number;
  /** Label horizon H in seconds (null when the caller did not say). */
  horizonS: number | null;
  /** A round closes without the missing peers after this many seconds. */
  roundTimeoutS: number;
  peersAdmitted: number;
  /** Peers whose update entered the last round (self not counted). */
  peersHeard: number;
  lastRound: { round: number; heard: number; applied: boolean; skipped: string | null; closedBy: string; localLoss: number | null } | null;
  rejected: { total: number; byReason: Record<string, number>; recent: { round: number; peer: string; reason: string }[] };
  quality: { heldOutAuc: number | null; heldOutRows: number; heldOutPositives: number };
  data: { trainPositive: number; trainNegative: number; seenPositive: number; seenNegative: number };
  privacy: { dp: { clipNorm: number; noiseMultiplier: number; cohort: number; sigmaPerSender: number } | null; secureAggregation: 'off' | 'on' };
  catchUps: number;
  /** UCI initial_model: 'loaded', 'refused' (the reason is in /health), or null when none is set (set by the LearningService). */
  initialModel?: 'loaded' | 'refused' | null;
}

export interface LearningStatusOptions {
  /** Recent rejections listed (default 3; counts by reason are always complete). */
  recent?: number;
  secureAggregation?: boolean;
  horizonMs?: number;
  /** The learner's round timeout (default 10 s, the learner's own default). */
  roundTimeoutMs?: number | undefined;
}

/** The status block of a learner (what the agent puts in StatusReport.learning). */
export function learningStatus(l: FederatedLearner, opts: LearningStatusOptions = {}): LearningStatus {
  const c = l.dataCounts();
  const last = l.lastOutcome;
  const byReason: Record<string, number> = {};
  let total = 0;
  for (const [k, v] of l.rejectedByReason) {
    byReason[k] = v;
    total += v;
  }
  const auc = l.heldOutAuc;
  return {
    schema: 1,
    round: l.round,
    modelVersion: l.modelVersion,
    rule: l.rule.rule,
    ruleUsed: last?.ruleUsed ?? null,
    f: l.rule.f,
    bucketing: l.rule.bucketing,
    workerMomentum: l.workerMomentum,
    horizonS: opts.horizonMs !== undefined ? opts.horizonMs / 1000 : null,
    roundTimeoutS: (opts.roundTimeoutMs ?? 10_000) / 1000,
    peersAdmitted: l.peersAdmitted(),
    peersHeard: last ? last.peersHeard.length : 0,
    lastRound: last
      ? { round: last.round, heard: last.heard, applied: last.applied, skipped: last.skipped ?? null, closedBy: last.closedBy, localLoss: Number.isFinite(last.localLoss) ? round4(last.localLoss) : null }
      : null,
    rejected: {
      total,
      byReason,
      recent: l.recentRejections.slice(-(opts.recent ?? 3)).map((r) => ({ round: r.round, peer: r.peer.slice(0, 64), reason: r.reason })),
    },
    quality: { heldOutAuc: Number.isFinite(auc) ? round4(auc) : null, heldOutRows: c.holdoutPositive + c.holdoutNegative, heldOutPositives: c.holdoutPositive },
    data: { trainPositive: c.trainPositive, trainNegative: c.trainNegative, seenPositive: c.seenPositive, seenNegative: c.seenNegative },
    privacy: {
      dp: l.dp ? { ...l.dp, sigmaPerSender: (l.dp.noiseMultiplier * l.dp.clipNorm) / Math.sqrt(l.dp.cohort) } : null,
      secureAggregation: l.secureClipNorm !== null || opts.secureAggregation ? 'on' : 'off',
    },
    catchUps: l.catchUps,
  };
}

/** Prometheus lines for the learning block (append to the agent's /metrics text). */
export function renderLearningMetrics(s: LearningStatus | null, node: string): string {
  const m = new MetricsText();
  const labels = { node };
  if (!s) return '';
  m.add('x0tta6bl4_learning_round', 'gauge', 'Current federated learning round.', s.round, labels);
  m.add('x0tta6bl4_learning_model_version', 'gauge', 'Aggregates applied to the local model.', s.modelVersion, labels);
  m.add('x0tta6bl4_learning_peers_heard', 'gauge', 'Peers whose update entered the last round.', s.peersHeard, labels);
  m.add('x0tta6bl4_learning_peers_admitted', 'gauge', 'Peers admitted to the federation.', s.peersAdmitted, labels);
  m.add('x0tta6bl4_learning_rule_info', 'gauge', 'Configured aggregation rule.', 1, { ...labels, rule: s.rule, f: String(s.f), bucketing: String(s.bucketing) });
  m.add('x0tta6bl4_learning_heldout_auc', 'gauge', 'ROC AUC of the model on local held-out data (NaN before enough data).', s.quality.heldOutAuc ?? NaN, labels);
  m.add('x0tta6bl4_learning_round_applied', 'gauge', '1 when the last round applied an aggregate.', s.lastRound?.applied ? 1 : 0, labels);
  for (const [reason, v] of Object.entries(s.rejected.byReason)) {
    m.add('x0tta6bl4_learning_rejected_total', 'counter', 'Peer messages rejected, by reason.', v, { ...labels, reason });
  }
  m.add('x0tta6bl4_learning_catchups_total', 'counter', 'Times the model was caught up from peers.', s.catchUps, labels);
  // always present (0 when DP is off), so a dashboard tells "off" from "not reported"
  m.add('x0tta6bl4_learning_dp_noise_multiplier', 'gauge', 'DP noise multiplier z (0: DP off).', s.privacy.dp?.noiseMultiplier ?? 0, labels);
  m.add('x0tta6bl4_learning_dp_clip_norm', 'gauge', 'DP clip norm S (0: DP off).', s.privacy.dp?.clipNorm ?? 0, labels);
  m.add('x0tta6bl4_learning_secure_aggregation', 'gauge', '1 when rounds run under secure aggregation.', s.privacy.secureAggregation === 'on' ? 1 : 0, labels);
  m.add('x0tta6bl4_learning_worker_momentum', 'gauge', 'Worker-side momentum β.', s.workerMomentum, labels);
  if (s.horizonS !== null) m.add('x0tta6bl4_learning_horizon_seconds', 'gauge', 'Label horizon H: a link dead within H counts as failing.', s.horizonS, labels);
  return m.toString();
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
