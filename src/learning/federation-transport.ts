// The rounds' transport over the libp2p federation (src/federation): messages go out signed on
// the fleet's 'learning/update' topic, and come in only from admitted, non-quarantined peers
// whose signature, freshness and sequence the federation checked. `from` is the sender's peer id
// as the federation verified it, which is what the learner's sender check compares with.
import type { Federation } from '../federation/types.ts';
import type { RoundTransport } from './round-transport.ts';
import { extractContext, injectContext } from '../tracing/propagation.ts';

export const LEARNING_TOPIC = 'learning/update';

export function federationTransport(fed: Federation, topic = LEARNING_TOPIC): RoundTransport {
  return {
    self: fed.peerId,
    publish: (bytes, trace) => {
      // the learning round travels in the envelope too, so the federation can count per round
      const round = bytes.length >= 12 ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true) : 0;
      return fed.publish(topic, bytes, { round, ...(trace ? { trace: injectContext(trace) } : {}) });
    },
    subscribe: (handler) => fed.subscribe(topic, (m) => handler(m.payload, m.from, m.trace ? extractContext(m.trace) : undefined)),
    peers: () => fed.peers().filter((p) => !p.quarantined).map((p) => p.peerId),
  };
}
