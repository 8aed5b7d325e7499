// The libp2p node: transports, encryption, muxing, gossipsub tuning and resource bounds, wired in
// one place. Admission, messages and fleet state sit on top of it (admission.ts, federation.ts).
import './promise-polyfill.ts';
import './web-globals-polyfill.ts';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, type GossipSub } from '@chainsafe/libp2p-gossipsub';
import { identify, type Identify } from '@libp2p/identify';
import { ping, type PingService } from '@libp2p/ping';
import type { PeerId, PrivateKey, Message, PeerDiscovery } from '@libp2p/interface';
import { createHash } from 'node:crypto';
import { InboundPending } from './inbound-pending.ts';

export type FederationNode = Libp2p<{ identify: Identify; ping: PingService; pubsub: GossipSub }>;

export interface NodeOptions {
  privateKey: PrivateKey;
  listen: string[];
  maxConnections: number;
  maxMessageBytes: number;
  /** Peer discovery on the mesh interface (mesh-discovery.ts), or null for none. */
  discovery: PeerDiscovery | null;
  /** New inbound connections accepted per second from one IP address. */
  inboundPerHostPerSecond: number;
  /** Refuse a peer at the earliest point (revoked, or failed admission recently). */
  denyPeer(peerId: PeerId): boolean;
  /** Whether a connected peer is admitted; others get none of our gossip (see scoreParams). */
  admitted?(peerId: string): boolean;
}

// Gossip scores: only the application part is used, and only to keep our messages from peers
// that are connected but not (yet) admitted. Such a peer scores UNADMITTED: below the publish
// and gossip thresholds, so neither our flood publish nor IHAVE gossip reaches it, and below 0,
// so it is never in a topic mesh (nothing is relayed to it). It stays above the graylist
// threshold: its RPCs are still read, so the subscriptions it sent before admission count once
// it is admitted (its messages meet our topic validators, which reject them).
const UNADMITTED = -100;

// Unadmitted inbound connections (handshake or certificate exchange still running): a router
// cannot afford many, honest fleets connect slowly. Split fairly per source (inbound-pending.ts).
const PENDING_TOTAL = 8;
const PENDING_PER_SOURCE = 4;
// A noise handshake is three messages; even a slow router over a radio hop finishes in well under
// a second. libp2p's default (10 s) lets a half-open connection hold its slot that long.
const INBOUND_UPGRADE_TIMEOUT_MS = 5_000;

// libp2p's connection monitor pings every connection on a new stream (multistream-select, a yamux
// stream, abort signals, generators) to find dead ones; its default, every 10 s, is garbage enough
// that an agent with 10 peers held 2–4 MB more V8 heap (docs/memory.md, "Peers"). A minute still
// drops a peer that vanished (router off, link gone) long before TCP would give up on it
// (retransmissions last ~15 min); a failed ping aborts the connection as before.
const CONNECTION_PING_MS = 60_000;

// Gossip overhead around our envelope (protobuf RPC framing, topic name, control messages).
const RPC_OVERHEAD = 16 * 1024;

export async function createFederationNode(options: NodeOptions): Promise<FederationNode> {
  const pending = new InboundPending({ total: PENDING_TOTAL, perSource: PENDING_PER_SOURCE, admitted: options.admitted });
  return createLibp2p({
    // Started by the caller once the admission and sync handlers are registered.
    start: false,
    privateKey: options.privateKey,
    addresses: { listen: options.listen },
    transports: [tcp({ maxConnections: options.maxConnections })],
    connectionEncrypters: [noise()],
    streamMuxers: [
      yamux({
        // A few protocol streams per peer (admission, state sync, gossipsub, identify, ping).
        maxInboundStreams: 32,
        maxOutboundStreams: 32,
        // Bounds yamux's buffering per stream to about one maximal message.
        maxMessageSize: 64 * 1024,
      }),
    ],
    connectionMonitor: { pingInterval: CONNECTION_PING_MS },
    connectionManager: {
      maxConnections: options.maxConnections,
      // libp2p's global cap counts before the connection gater sees a connection, so one busy
      // address would fill it; the fair limit is the gater's (InboundPending). This is a backstop
      // above it, for connections the gater has refused but libp2p has not yet let go.
      maxIncomingPendingConnections: 2 * PENDING_TOTAL,
      inboundUpgradeTimeout: INBOUND_UPGRADE_TIMEOUT_MS,
      inboundConnectionThreshold: options.inboundPerHostPerSecond,
      dialTimeout: 10_000,
    },
    connectionGater: {
      denyDialPeer: (p) => options.denyPeer(p),
      denyInboundConnection: (maConn) => pending.refuse(maConn),
      denyInboundEncryptedConnection: (p, maConn) => {
        pending.identified(maConn, p.toString());
        return options.denyPeer(p);
      },
      denyOutboundEncryptedConnection: (p) => options.denyPeer(p),
    },
    peerDiscovery: options.discovery ? [() => options.discovery!] : [],
    services: {
      identify: identify({ maxMessageSize: 8 * 1024 }),
      ping: ping(),
      pubsub: gossipsub(gossipsubOptions(options)),
    },
  }) as Promise<FederationNode>;
}

/** Gossipsub tuned for a small fleet of routers on radio links, closed to unadmitted peers. */
function gossipsubOptions(options: NodeOptions): Parameters<typeof gossipsub>[0] {
  return {
    // Fleets are 5–50 routers whose links are radio hops: every extra mesh peer repeats each
    // message over the air. The defaults (D=6, Dlo=4, Dhi=12) are sized for thousands of
    // internet peers; 4/2/6 still keeps two disjoint paths per node in a small mesh.
    D: 4,
    Dlo: 2,
    Dhi: 6,
    Dout: 1, // must stay below Dlo and at most D/2
    Dscore: 2,
    Dlazy: 4,
    // Our own messages go to every subscribed peer, not only the mesh: in a small fleet that
    // is nearly the same set, and it reaches peers before the mesh has formed after a
    // (re)connect — which is when revocations and votes matter most.
    floodPublish: true,
    // A node alone (fleet of one, or all peers revoked) must not fail to publish.
    allowPublishToZeroTopicPeers: true,
    // Gossipsub's own peer exchange would hand out addresses of unadmitted peers; ours goes
    // through the signed node registry instead.
    doPX: false,
    // Our envelope already names and signs the sender (envelope.ts); gossipsub's signature
    // would double the cost. The message id is then the content hash.
    globalSignaturePolicy: 'StrictNoSign',
    msgIdFn: (m: Message) => createHash('sha256').update(m.data).digest().subarray(0, 20),
    fastMsgIdFn: (m) => createHash('sha1').update(m.data ?? new Uint8Array()).digest('base64'),
    maxInboundDataLength: options.maxMessageBytes + RPC_OVERHEAD,
    // Validators are async (admission lookups); forward only after they accept.
    asyncValidation: false,
    fallbackToFloodsub: false,
    emitSelf: false,
    scoreParams: {
      appSpecificScore: (id: string) => (options.admitted === undefined || options.admitted(id) ? 0 : UNADMITTED),
      appSpecificWeight: 1,
      // Off: admission already bounds who may join, and routers behind one NAT, or test
      // nodes on 127.0.0.1, share an address (the default would cut off an 11th).
      IPColocationFactorWeight: 0,
    },
    scoreThresholds: { gossipThreshold: -10, publishThreshold: -50, graylistThreshold: 10 * UNADMITTED, acceptPXThreshold: 10, opportunisticGraftThreshold: 20 },
    // A peer that grafted us while its admission was still running was pruned with this
    // backoff; the default minute would keep a just-admitted peer out of the mesh that long.
    pruneBackoff: 10_000,
  };
}
