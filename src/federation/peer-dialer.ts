// Which peers this node dials: the static peers (UCI `list peer`, dialled again while they are
// away), peers mDNS discovered, and peers named in the signed fleet registry (peer exchange),
// the last two only until a few are connected.
import { multiaddr } from '@multiformats/multiaddr';
import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { FederationComponents } from './components.ts';
import { FederationError } from './federation-error.ts';

// Peer exchange: dial registry peers until this many are connected.
const PX_TARGET = 8;

export class PeerDialer {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly components: FederationComponents,
    private readonly init: { isDenied(peerId: string): boolean },
  ) {}

  /** Dials the static peers now and keeps redialling them. */
  start(): void {
    for (const addr of this.components.settings.peers) this.dialAddr(addr);
    this.timer = setInterval(() => this.redialStatic(), this.components.settings.redialMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A peer mDNS found: dialled while we have few connections and none to it. */
  onDiscovered(peer: PeerId): void {
    const { node, peerId, log } = this.components;
    const id = peer.toString();
    if (id !== peerId && !this.init.isDenied(id) && node.getConnections(peer).length === 0 && node.getConnections().length < PX_TARGET)
      node.dial(peer).catch((err) => log.debug(`dial discovered ${id}: ${(err as Error).message}`));
  }

  /** Registry entries name peers and their addresses: dial the ones we lack, up to PX_TARGET. */
  peerExchange(peerId: string): void {
    const { node, settings, state, metrics, log } = this.components;
    if (!settings.peerExchange || peerId === this.components.peerId || !node || this.init.isDenied(peerId) || !state.trusted(peerId)) return;
    const id = peerIdFromString(peerId);
    if (node.getConnections(id).length || node.getConnections().length >= PX_TARGET) return;
    const addrs = (state.node(peerId)?.addrs ?? []).flatMap((a) => {
      try {
        return [multiaddr(a)];
      } catch {
        return [];
      }
    });
    if (!addrs.length) return;
    metrics.peerExchangeDials++;
    node.dial(addrs).catch((e) => log.debug(`peer exchange dial ${peerId}: ${(e as Error).message}`));
  }

  async connect(addr: string): Promise<void> {
    let ma;
    try {
      ma = multiaddr(addr);
    } catch (e) {
      throw new FederationError(`peer address ${addr}: ${(e as Error).message}`);
    }
    await this.components.node.dial(ma);
  }

  /** Static peers (UCI `list peer`) are kept connected: a router that rebooted is dialled again. */
  private redialStatic(): void {
    if (this.components.stopped) return;
    const connected = new Set(this.components.node.getConnections().map((c) => c.remotePeer.toString()));
    for (const addr of this.components.settings.peers) {
      const id = /\/p2p\/([A-Za-z0-9]+)$/.exec(addr)?.[1];
      if (id ? !connected.has(id) && !this.init.isDenied(id) : connected.size === 0) this.dialAddr(addr);
    }
  }

  private dialAddr(addr: string): void {
    let ma;
    try {
      ma = multiaddr(addr);
    } catch (e) {
      this.components.log.warn(`peer address ${addr}: ${(e as Error).message}`);
      return;
    }
    this.components.node.dial(ma).catch((e) => this.components.log.debug(`dial ${addr}: ${(e as Error).message}`));
  }
}
