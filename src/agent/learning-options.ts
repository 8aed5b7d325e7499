// The `learning` section of the config mapped onto the options of the LearningService:
// seconds to milliseconds, the UCI rule name to the aggregation rule, and the privacy settings
// (differential privacy, secure aggregation) to the learner's.
import type { AgentConfig } from '../config/schema.ts';
import type { AggregationRule } from '../core/index.ts';
import type { LearningServiceOptions } from '../learning/learning-service.ts';

/** What the LearningService gets from the agent rather than from the config. */
export type LearningParts = Pick<LearningServiceOptions, 'core' | 'transport' | 'onRound' | 'now'>;

export function learningOptions(config: AgentConfig, parts: LearningParts): LearningServiceOptions {
  const learning = config.learning;
  return {
    ...parts,
    roundIntervalMs: learning.roundIntervalS * 1000,
    horizonMs: learning.horizonS * 1000,
    initialModel: learning.initialModel,
    learner: {
      aggregation: { rule: learning.rule.replace(/_/g, '-') as AggregationRule, f: learning.byzantineF, bucketing: learning.bucketing },
      workerMomentum: learning.workerMomentum,
      roundTimeoutMs: learning.roundTimeoutS * 1000,
      // cohort 1: every sender adds the full noise, so privacy holds however few peers answer.
      dp: learning.dpClipNorm > 0 ? { clipNorm: learning.dpClipNorm, noiseMultiplier: learning.dpNoiseMultiplier, cohort: 1 } : null,
      secure: learning.secureAggregation ? { clipNorm: learning.dpClipNorm } : null,
    },
  };
}
