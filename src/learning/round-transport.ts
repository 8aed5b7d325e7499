// What the federated rounds need from the network, and nothing more: publish bytes to every
// admitted peer on the learning topic, be told of bytes from them with the sender's identity
// as the transport authenticated it, and know who is admitted. The libp2p/gossipsub federation
// implements it over the wire; InProcessHub implements it in memory for tests and the benchmark.
import type { SpanContext } from '../tracing/api.ts';

export interface RoundTransport {
  /** This node's peer id (what others see as `from`). */
  readonly self: string;
  /**
   * Sends to every admitted peer (not to self). Best effort: a lost message is a missing update.
   * trace: the sender's span, carried (signed) with the message where the transport can.
   */
  publish(bytes: Uint8Array, trace?: SpanContext): Promise<void>;
  /** Called for each message from a peer; `from` is authenticated by the transport. Returns an unsubscribe. */
  subscribe(handler: (bytes: Uint8Array, from: string, trace?: SpanContext) => void): () => void;
  /** Peers currently admitted to the federation (without self). */
  peers(): readonly string[];
}

export interface HubLink {
  /** Drop every message from `from` to `to` while this returns true. */
  (from: string, to: string, bytes: Uint8Array): boolean;
}

/**
 * In-memory pub/sub among named nodes. Delivery is asynchronous (a microtask per message, in
 * publish order), like a real network that never delivers inside publish(). Tests cut links,
 * take nodes offline and count traffic.
 */
export class InProcessHub {
  private readonly handlers = new Map<string, Set<(bytes: Uint8Array, from: string, trace?: SpanContext) => void>>();
  private readonly offline = new Set<string>();
  private readonly filters: HubLink[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  /** Messages delivered, for tests and the benchmark's traffic figures. */
  delivered = 0;
  bytesDelivered = 0;

  /** A transport for node `id` (created once per id). */
  connect(id: string): RoundTransport {
    if (!this.handlers.has(id)) this.handlers.set(id, new Set());
    const hub = this;
    return {
      self: id,
      publish: async (bytes, trace) => hub.send(id, bytes, trace),
      subscribe(handler) {
        hub.handlers.get(id)!.add(handler);
        return () => hub.handlers.get(id)?.delete(handler);
      },
      peers: () => [...hub.handlers.keys()].filter((p) => p !== id && !hub.offline.has(p)),
    };
  }

  /** An offline node neither sends nor receives (a router that rebooted or lost its radio). */
  setOnline(id: string, online: boolean): void {
    if (online) this.offline.delete(id);
    else this.offline.add(id);
  }

  /** Adds a filter that drops messages for which it returns true; returns its removal. */
  addFilter(drop: HubLink): () => void {
    this.filters.push(drop);
    return () => {
      const i = this.filters.indexOf(drop);
      if (i >= 0) this.filters.splice(i, 1);
    };
  }

  /** Resolves once every message published so far (and any they caused) has been delivered. */
  async settle(): Promise<void> {
    // microtasks queued by handlers run before this resolves; loop until nothing is in flight
    for (;;) {
      if (this.inFlight === 0) {
        await new Promise<void>((r) => setImmediate(r));
        if (this.inFlight === 0) return;
      }
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
  }

  private send(from: string, bytes: Uint8Array, trace?: SpanContext): void {
    if (this.offline.has(from)) return;
    for (const [to, hs] of this.handlers) {
      if (to === from || this.offline.has(to)) continue;
      if (this.filters.some((f) => f(from, to, bytes))) continue;
      this.inFlight++;
      queueMicrotask(() => {
        try {
          if (!this.offline.has(to)) {
            this.delivered++;
            this.bytesDelivered += bytes.length;
            // each receiver gets its own copy, as over a real network
            for (const h of [...hs]) h(bytes.slice(), from, trace);
          }
        } finally {
          if (--this.inFlight === 0) {
            const w = this.idleWaiters;
            this.idleWaiters = [];
            for (const r of w) r();
          }
        }
      });
    }
  }
}
