// Keeps the replicated fleet state the same on every node: new entries are gossiped in batches
// on the fleet's state topic; a newly admitted peer gets our whole state; and anti-entropy
// compares digests with one random admitted peer now and then, both sides pushing their state
// when they differ (it repairs what gossip missed, e.g. after a partition).
import { TopicValidatorResult, type Connection, type PeerId, type Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { FederationComponents } from './components.ts';
import type { GossipGate } from './gossip-gate.ts';
import type { PeerAdmission } from './peer-admission.ts';
import { DIGEST_PROTOCOL, STATE_PROTOCOL } from './protocols.ts';
import { decodeBatch, encodeBatch, finish, readFrames, writeFrames } from './stream-frames.ts';

const MAX_SYNC_BYTES = 8 * 1024 * 1024;

export class StateSync {
  readonly topic: string;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly components: FederationComponents,
    private readonly init: { admission: PeerAdmission; gate: GossipGate },
  ) {
    this.topic = `x0tta6bl4/${components.settings.fleet}/state`;
  }

  /** Registers the sync protocols and the topic validator (before the node starts). */
  async register(): Promise<void> {
    const { node } = this.components;
    await node.handle(STATE_PROTOCOL, ({ stream, connection }) => void this.onStateStream(stream, connection), { maxInboundStreams: 4 });
    await node.handle(DIGEST_PROTOCOL, ({ stream, connection }) => void this.onDigestStream(stream, connection), { maxInboundStreams: 2 });
    node.services.pubsub.topicValidators.set(this.topic, (src, msg) => this.validate(src.toString(), msg.data));
  }

  /** Joins the state topic and starts anti-entropy (once the node runs). */
  start(): void {
    this.components.node.services.pubsub.subscribe(this.topic);
    this.timer = setInterval(() => void this.antiEntropy(), this.components.settings.syncMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Floods entries on the state topic, in batches that fit max_message_size. */
  gossip(entries: Uint8Array[]): void {
    const { stopped, node, settings, log } = this.components;
    if (stopped) return;
    let batch: Uint8Array[] = [];
    let size = 2;
    const flush = () => {
      if (!batch.length) return;
      node.services.pubsub.publish(this.topic, encodeBatch(batch)).catch((e) => log.debug(`state gossip: ${(e as Error).message}`));
      batch = [];
      size = 2;
    };
    for (const e of entries) {
      if (size + 4 + e.length > settings.maxMessageBytes) flush();
      batch.push(e);
      size += 4 + e.length;
    }
    flush();
  }

  private validate(src: string, data: Uint8Array): TopicValidatorResult {
    const gate = this.init.gate.check(src, data.length);
    if (gate !== TopicValidatorResult.Accept) return gate;
    let items: Uint8Array[];
    try {
      items = decodeBatch(data);
    } catch {
      this.init.gate.drop('malformed');
      return TopicValidatorResult.Reject;
    }
    const { state, metrics } = this.components;
    let changed = false;
    let bad = false;
    for (const it of items) {
      const r = state.merge(it);
      if (!r.ok) {
        bad = true;
        metrics.stateRejected++;
      } else if (r.changed) {
        changed = true;
        metrics.stateMerges++;
      }
    }
    if (bad) return TopicValidatorResult.Reject;
    // Only news travels on: old entries stop here, which ends the flood.
    return changed ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore;
  }

  /** Anti-entropy: send the whole state to one peer (small fleets: tens of KB). */
  async pushState(peer: PeerId): Promise<void> {
    const { node, settings, state, log } = this.components;
    let stream: Stream | null = null;
    try {
      stream = await node.dialProtocol(peer, STATE_PROTOCOL, { signal: AbortSignal.timeout(settings.admissionTimeoutMs) });
      await writeFrames(stream, state.all().map((e) => e.bytes));
    } catch (e) {
      if (!this.components.stopped) log.debug(`state push to ${peer}: ${(e as Error).message}`);
    } finally {
      await finish(stream);
    }
  }

  private async onStateStream(stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer.toString();
    if (!(await this.init.admission.waitAdmitted(remote))) {
      stream.abort(new Error('not admitted'));
      return;
    }
    const { settings, state, metrics, log } = this.components;
    const changed: Uint8Array[] = [];
    try {
      await readFrames(stream, settings.maxMessageBytes, MAX_SYNC_BYTES, (b) => {
        const r = state.merge(b);
        if (!r.ok) metrics.stateRejected++;
        else if (r.changed) {
          metrics.stateMerges++;
          changed.push(b);
        }
      });
    } catch (e) {
      log.debug(`state sync from ${remote}: ${(e as Error).message}`);
    } finally {
      await finish(stream);
    }
    // What we learned from this peer is news to our side of the fleet too (partition healing).
    if (changed.length) this.gossip(changed);
  }

  /**
   * Anti-entropy with one random admitted peer: send our digest; when the peer's differs, both
   * push their full state to each other (gossip deltas missed by a peer that was not yet in the
   * topic mesh get repaired here).
   */
  private async antiEntropy(): Promise<void> {
    if (this.components.stopped) return;
    const ids = this.init.admission.ids();
    if (!ids.length) return;
    const { node, settings, state, log } = this.components;
    const peer = peerIdFromString(ids[Math.floor(Math.random() * ids.length)]!);
    let stream: Stream | null = null;
    try {
      stream = await node.dialProtocol(peer, DIGEST_PROTOCOL, { signal: AbortSignal.timeout(settings.admissionTimeoutMs) });
      await writeFrames(stream, [Buffer.from(state.digest())]);
      let differs = false;
      await readFrames(stream, 16, 64, (b) => (differs = b[0] === 1), 1);
      if (differs) void this.pushState(peer);
    } catch (e) {
      if (!this.components.stopped) log.debug(`anti-entropy with ${peer}: ${(e as Error).message}`);
    } finally {
      await finish(stream);
    }
  }

  private async onDigestStream(stream: Stream, connection: Connection): Promise<void> {
    try {
      if (!this.init.admission.has(connection.remotePeer.toString())) return;
      let theirs = '';
      await readFrames(stream, 64, 128, (b) => (theirs = Buffer.from(b).toString('latin1')), 1);
      const differs = theirs !== this.components.state.digest();
      await writeFrames(stream, [Uint8Array.of(differs ? 1 : 0)]);
      if (differs) void this.pushState(connection.remotePeer);
    } catch (e) {
      this.components.log.debug(`anti-entropy from ${connection.remotePeer}: ${(e as Error).message}`);
    } finally {
      await finish(stream);
    }
  }
}
