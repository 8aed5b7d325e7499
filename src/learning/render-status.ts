// The learning block as `x0tta6bl4 learning` prints it: a few aligned lines for people.
import type { LearningStatus } from './status.ts';

export function renderLearningStatus(s: LearningStatus): string {
  const auc = s.quality.heldOutAuc === null ? 'n/a (held-out data lacks a class)' : s.quality.heldOutAuc.toFixed(4);
  const last = s.lastRound;
  const lines = [
    `round          ${s.round} (model version ${s.modelVersion})`,
    `rule           ${s.rule}, f=${s.f}${s.bucketing > 1 ? `, bucketing s=${s.bucketing}` : ''}${s.workerMomentum > 0 ? `, worker momentum ${s.workerMomentum}` : ''}${s.ruleUsed ? ` (last: ${s.ruleUsed})` : ''}`,
    `horizon        ${s.horizonS !== null && s.horizonS !== undefined ? `${s.horizonS} s` : 'n/a'}, round timeout ${s.roundTimeoutS ?? 'n/a'} s`,
    `peers          ${s.peersHeard} heard in the last round, ${s.peersAdmitted} admitted`,
    `last round     ${last ? `${last.round}: ${last.heard} updates, ${last.applied ? 'applied' : `skipped (${last.skipped ?? 'no aggregate'})`}, closed by ${last.closedBy}` : 'none yet'}`,
    `held-out AUC   ${auc} on ${s.quality.heldOutRows} rows (${s.quality.heldOutPositives} failures)`,
    `training data  ${s.data.trainPositive} failure / ${s.data.trainNegative} healthy rows kept (${s.data.seenPositive + s.data.seenNegative} seen)`,
    `privacy        ${s.privacy.dp ? `DP clip ${s.privacy.dp.clipNorm}, noise multiplier ${s.privacy.dp.noiseMultiplier}` : 'DP off'}, secure aggregation ${s.privacy.secureAggregation}`,
    `rejected       ${s.rejected.total}${s.rejected.total ? ` (${Object.entries(s.rejected.byReason).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`,
  ];
  for (const r of s.rejected.recent) lines.push(`  round ${r.round} from ${r.peer}: ${r.reason}`);
  if (s.catchUps) lines.push(`catch-ups      ${s.catchUps}`);
  return lines.join('\n');
}
