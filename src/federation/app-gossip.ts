// Application messages (e.g. learning updates) on gossipsub: each is an envelope signed by its
// sender (envelope.ts), checked here before any handler sees it — admitted or trusted sender,
// fresh and not replayed, not quarantined, signature — and published the same way.
import { TopicValidatorResult } from '@libp2p/interface';
import type { FederationComponents } from './components.ts';
import { peerIdOfKey } from './ed25519.ts';
import { decodeEnvelope, encodeEnvelope, EnvelopeError, ENVELOPE_OVERHEAD, verifyEnvelope, type Envelope, type EnvelopeTrace } from './envelope.ts';
import { FederationError } from './federation-error.ts';
import type { GossipGate } from './gossip-gate.ts';
import type { PeerAdmission } from './peer-admission.ts';
import type { FleetQuarantine } from './quarantine.ts';
import { ReplayGuard, SequenceCounter } from './replay-guard.ts';
import type { MessageHandler } from './types.ts';

export interface AppGossipInit {
  admission: PeerAdmission;
  gate: GossipGate;
  quarantine: FleetQuarantine;
}

export class AppGossip {
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  private readonly replay: ReplayGuard;
  private readonly seq = new SequenceCounter();

  constructor(
    private readonly components: FederationComponents,
    private readonly init: AppGossipInit,
  ) {
    this.replay = new ReplayGuard(components.settings.maxMessageAgeMs, components.settings.maxClockSkewMs);
  }

  private topicName(topic: string): string {
    return `x0tta6bl4/${this.components.settings.fleet}/app/${topic}`;
  }

  /** opts.trace: the sender's trace context, signed into the envelope (version 2). */
  async publish(topic: string, payload: Uint8Array, opts: { round?: number; trace?: EnvelopeTrace } = {}): Promise<void> {
    const { settings, signer, node, metrics } = this.components;
    if (this.components.stopped) throw new FederationError('federation is stopped');
    if (payload.length + ENVELOPE_OVERHEAD > settings.maxMessageBytes)
      throw new FederationError(`payload of ${payload.length} bytes does not fit federation.max_message_size (${settings.maxMessageBytes} bytes with envelope)`);
    const env = encodeEnvelope(settings.fleet, signer, { seq: this.seq.next(), round: opts.round ?? 0, timestamp: Date.now(), topic, payload, ...(opts.trace ? { trace: opts.trace } : {}) });
    await node.services.pubsub.publish(this.topicName(topic), env);
    metrics.messagesPublished++;
  }

  subscribe(topic: string, handler: MessageHandler): () => void {
    const pubsub = this.components.node.services.pubsub;
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
      const t = this.topicName(topic);
      pubsub.topicValidators.set(t, (src, msg) => this.validate(topic, src.toString(), msg.data));
      pubsub.subscribe(t);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(topic) === set && !this.components.stopped) {
        this.handlers.delete(topic);
        const t = this.topicName(topic);
        pubsub.unsubscribe(t);
        pubsub.topicValidators.delete(t);
      }
    };
  }

  private validate(topic: string, src: string, data: Uint8Array): TopicValidatorResult {
    const { gate } = this.init;
    const verdict = gate.check(src, data.length);
    if (verdict !== TopicValidatorResult.Accept) return verdict;
    let env: Envelope;
    try {
      env = decodeEnvelope(data, this.components.settings.maxMessageBytes);
    } catch (e) {
      if (!(e instanceof EnvelopeError)) throw e;
      gate.drop('malformed');
      return TopicValidatorResult.Reject;
    }
    if (env.topic !== topic) {
      gate.drop('malformed');
      return TopicValidatorResult.Reject;
    }
    const sender = peerIdOfKey(env.sender);
    if (sender === this.components.peerId) return TopicValidatorResult.Ignore;
    const refused = this.senderCheck(sender, topic, env);
    if (refused) return refused;
    this.replay.record(sender, topic, env.seq);
    this.components.metrics.messagesAccepted++;
    this.deliver(topic, { from: sender, topic, seq: env.seq, round: env.round, timestamp: env.timestamp, payload: env.payload, ...(env.trace ? { trace: env.trace } : {}) });
    return TopicValidatorResult.Accept;
  }

  /** Freshness, trust, quarantine and signature of one envelope; null when it passes. */
  private senderCheck(sender: string, topic: string, env: Envelope): TopicValidatorResult | null {
    const { gate, admission, quarantine } = this.init;
    const { state, settings } = this.components;
    const verdict = this.replay.check(sender, topic, env.seq, env.timestamp, Date.now());
    if (verdict !== 'ok') {
      gate.drop(verdict);
      return TopicValidatorResult.Ignore;
    }
    const direct = admission.get(sender);
    if (!(direct ? !state.revoked(direct.id.leaf) : state.trusted(sender))) {
      gate.drop('unadmitted');
      return TopicValidatorResult.Reject;
    }
    if (quarantine.has(sender)) {
      gate.drop('quarantined');
      return TopicValidatorResult.Ignore;
    }
    if (!verifyEnvelope(settings.fleet, env)) {
      gate.drop('bad_signature');
      return TopicValidatorResult.Reject;
    }
    return null;
  }

  private deliver(topic: string, msg: Parameters<MessageHandler>[0]): void {
    for (const h of this.handlers.get(topic) ?? []) {
      queueMicrotask(() => {
        try {
          h(msg);
        } catch (e) {
          this.components.log.error(`handler for ${topic}: ${(e as Error).message}`);
        }
      });
    }
  }
}
