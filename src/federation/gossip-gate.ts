// The checks every gossip message shares, state and application topics alike: an admitted
// source, within its rate, not too big. Counts what it drops, by reason.
import { TopicValidatorResult } from '@libp2p/interface';
import type { FederationComponents } from './components.ts';
import type { PeerAdmission } from './peer-admission.ts';
import { PeerRateLimit } from './rate-limit.ts';

export class GossipGate {
  private readonly rate: PeerRateLimit;

  constructor(
    private readonly components: FederationComponents,
    private readonly init: { admission: PeerAdmission },
  ) {
    this.rate = new PeerRateLimit(components.settings.ratePerSecond, components.settings.rateBurst);
  }

  drop(reason: string): void {
    const dropped = this.components.metrics.messagesDropped;
    dropped[reason] = (dropped[reason] ?? 0) + 1;
  }

  check(src: string, size: number): TopicValidatorResult {
    const { admission } = this.init;
    if (!admission.has(src)) {
      this.drop('unadmitted');
      // A peer whose admission is still running gets no penalty; a stranger does.
      return admission.isPending(src) ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject;
    }
    if (size > this.components.settings.maxMessageBytes) {
      this.drop('too_big');
      return TopicValidatorResult.Reject;
    }
    if (!this.rate.take(src)) {
      this.drop('rate_limited');
      return TopicValidatorResult.Ignore;
    }
    return TopicValidatorResult.Accept;
  }

  /** rate_limit / rate_burst changed (reconfigure). */
  setRate(perSecond: number, burst: number): void {
    this.rate.set(perSecond, burst);
  }

  forget(peerId: string): void {
    this.rate.forget(peerId);
  }
}
