// Who is admitted: each connection presents its certificate chain on the admission protocol and
// checks the peer's (admission.ts). Peers that fail are cut off and refused for a while
// (revoked: for good); peers that present nothing in time are cut off too.
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { admit, AdmissionError } from './admission.ts';
import type { FederationComponents } from './components.ts';
import type { NodeIdentity } from './fleet-ca.ts';
import { ADMISSION_PROTOCOL } from './protocols.ts';
import { finish, FrameError, readFrames, writeFrames } from './stream-frames.ts';

const MAX_CHAIN_BYTES = 64 * 1024;
// After a failed admission the peer may retry only after this (its certificate may get fixed).
const REJECT_BACKOFF_MS = 60_000;

export interface Admitted {
  id: NodeIdentity;
  at: number;
}

export interface PeerAdmissionInit {
  /** Whether a peer is quarantined fleet-wide (admitted all the same; only logged). */
  quarantined(peerId: string): boolean;
  /** A peer was admitted for the first time on this connection. */
  onFirstAdmitted(peer: PeerId): void;
  /** A peer has no connection left: forget what was kept per peer. */
  onGone(peerId: string): void;
}

export class PeerAdmission {
  private readonly admitted = new Map<string, Admitted>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private readonly pendingTimers = new Map<string, NodeJS.Timeout>();
  /** peer id → until when it is refused (Infinity: revoked). */
  private readonly denied = new Map<string, number>();
  private readonly timeoutBackoff = new Map<string, number>();

  constructor(
    private readonly components: FederationComponents,
    private readonly init: PeerAdmissionInit,
  ) {}

  has(peerId: string): boolean {
    return this.admitted.has(peerId);
  }

  /** A connected peer whose admission is still running. */
  isPending(peerId: string): boolean {
    return this.pendingTimers.has(peerId);
  }

  get(peerId: string): Admitted | undefined {
    return this.admitted.get(peerId);
  }

  get size(): number {
    return this.admitted.size;
  }

  ids(): string[] {
    return [...this.admitted.keys()];
  }

  entries(): [string, Admitted][] {
    return [...this.admitted];
  }

  isDenied(peerId: string): boolean {
    const until = this.denied.get(peerId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.denied.delete(peerId);
    return false;
  }

  onConnect(peer: PeerId): void {
    const { node, metrics, settings } = this.components;
    const id = peer.toString();
    metrics.connectedPeers = node.getPeers().length;
    if (this.isDenied(id)) {
      void node.hangUp(peer).catch(() => {});
      return;
    }
    if (!this.pendingTimers.has(id) && !this.admitted.has(id)) {
      const t = setTimeout(() => {
        this.pendingTimers.delete(id);
        if (!this.admitted.has(id) && node.getConnections(peer).length) {
          this.reject(id, 'TIMEOUT', 'presented no certificate in time');
        }
      }, settings.admissionTimeoutMs);
      t.unref();
      this.pendingTimers.set(id, t);
    }
  }

  onDisconnect(id: string): void {
    const { node, metrics } = this.components;
    metrics.connectedPeers = node.getPeers().length;
    if (node.getConnections(peerIdFromString(id)).length) return;
    this.admitted.delete(id);
    metrics.admittedPeers = this.admitted.size;
    this.init.onGone(id);
    this.clearPending(id);
  }

  private clearPending(id: string): void {
    const t = this.pendingTimers.get(id);
    if (t) clearTimeout(t);
    this.pendingTimers.delete(id);
  }

  /**
   * Our half of admission: send our chain on this connection, learn whether the peer took it.
   * Per connection, not per peer: when both sides dial at once libp2p may close one of the two
   * connections, and the presentation must not die with it.
   */
  async presentCertificate(connection: Connection): Promise<void> {
    const { settings, certPem, log } = this.components;
    const peer = connection.remotePeer;
    let stream: Stream | null = null;
    try {
      stream = await connection.newStream(ADMISSION_PROTOCOL, { signal: AbortSignal.timeout(settings.admissionTimeoutMs) });
      await writeFrames(stream, [Buffer.from(certPem, 'latin1')]);
      let reply: Uint8Array | null = null;
      await readFrames(stream, 1024, 2048, (b) => (reply = b), 1);
      const r = reply as Uint8Array | null;
      if (r && r[0] !== 1) log.warn(`peer ${peer} refused our certificate: ${Buffer.from(r.subarray(1)).toString('utf8')}`);
    } catch (e) {
      if (!this.components.stopped && connection.status === 'open') log.debug(`admission with ${peer}: ${(e as Error).message}`);
    } finally {
      await finish(stream);
    }
  }

  /** Their half: a peer presents its chain; admit it or cut it off. */
  async onAdmissionStream(stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer.toString();
    const timer = setTimeout(() => stream.abort(new Error('admission timeout')), this.components.settings.admissionTimeoutMs);
    try {
      let chain: Uint8Array | null = null;
      await readFrames(stream, MAX_CHAIN_BYTES, MAX_CHAIN_BYTES + 4, (b) => (chain = b), 1);
      // The stream ended without a certificate: usually a duplicate connection being closed.
      // Not evidence against the peer; the admission timer deals with peers that never send one.
      if (!chain) return;
      const { ca, settings, state } = this.components;
      const id = admit(ca, chain, remote, { trustDomain: settings.trustDomain, revoked: (leaf) => state.revoked(leaf) });
      const first = this.accept(remote, id);
      await writeFrames(stream, [Uint8Array.of(1)]);
      if (first) this.init.onFirstAdmitted(connection.remotePeer);
    } catch (e) {
      if (!(e instanceof AdmissionError || e instanceof FrameError)) {
        this.components.log.debug(`admission stream from ${remote}: ${(e as Error).message}`);
        return;
      }
      await this.refuse(stream, remote, e instanceof AdmissionError ? e.code : 'MALFORMED', (e as Error).message);
    } finally {
      clearTimeout(timer);
      await finish(stream);
    }
  }

  /** Records an admission; true when the peer was not admitted before. */
  private accept(remote: string, id: NodeIdentity): boolean {
    const { metrics, log, node } = this.components;
    if (this.init.quarantined(remote)) log.info(`admitting ${remote}, which is quarantined: its messages stay ignored`);
    const first = !this.admitted.has(remote);
    this.admitted.set(remote, { id, at: Date.now() });
    metrics.admittedPeers = this.admitted.size;
    this.clearPending(remote);
    this.timeoutBackoff.delete(remote);
    if (first) {
      // Gossipsub caches scores for a heartbeat: drop the "unadmitted" one so that what we
      // publish next already goes to this peer.
      node.services.pubsub.score.scoreCache.delete(remote);
      metrics.admissionsAccepted++;
      log.info(`admitted ${remote} (${id.spiffeId})`);
    }
    for (const w of this.waiters.get(remote) ?? []) w();
    this.waiters.delete(remote);
    return first;
  }

  /** Tells the peer why (the operator there needs it), then cuts it off. */
  private async refuse(stream: Stream, remote: string, code: string, msg: string): Promise<void> {
    try {
      await writeFrames(stream, [Buffer.concat([Uint8Array.of(0), Buffer.from(`${code}: ${msg}`.slice(0, 500))])]);
      // Let the refusal reach the peer before hanging up.
      await finish(stream);
    } catch {
      /* the peer may be gone already */
    }
    this.reject(remote, code, msg);
  }

  reject(id: string, code: string, why: string): void {
    const { metrics, log, settings, node } = this.components;
    metrics.admissionsRejected[code] = (metrics.admissionsRejected[code] ?? 0) + 1;
    log.warn(`peer ${id} not admitted: ${why}`);
    // A timeout proves nothing against the peer (a slow link, a busy router): a short backoff,
    // doubled on each repeat so that an overloaded node is not kept busy by reconnects.
    let backoff = REJECT_BACKOFF_MS;
    if (code === 'TIMEOUT') {
      backoff = Math.min(REJECT_BACKOFF_MS * 5, (this.timeoutBackoff.get(id) ?? settings.redialMs / 2) * 2);
      this.timeoutBackoff.set(id, backoff);
    }
    this.denied.set(id, code === 'REVOKED' ? Infinity : Date.now() + backoff);
    this.admitted.delete(id);
    metrics.admittedPeers = this.admitted.size;
    void node.hangUp(peerIdFromString(id)).catch(() => {});
  }

  /** Resolves true once the peer is admitted, false if it is not within the admission timeout. */
  waitAdmitted(id: string): Promise<boolean> {
    if (this.admitted.has(id)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.admitted.has(id)), this.components.settings.admissionTimeoutMs);
      const list = this.waiters.get(id) ?? [];
      list.push(() => {
        clearTimeout(t);
        resolve(true);
      });
      this.waiters.set(id, list);
    });
  }

  /** A new CRL: every admitted peer it names is cut off now and refused from then on. */
  enforceRevocations(): void {
    const { state, metrics } = this.components;
    for (const [id, a] of this.admitted) {
      if (state.revoked(a.id.leaf)) {
        metrics.revokedDisconnects++;
        this.reject(id, 'REVOKED', `certificate serial ${a.id.leaf.serialNumber} revoked by CRL ${state.crl()?.number}`);
      }
    }
    for (const n of state.nodes()) {
      const r = state.node(n.peerId);
      if (r && state.revoked(r.leaf)) this.denied.set(n.peerId, Infinity);
    }
  }

  stop(): void {
    for (const t of this.pendingTimers.values()) clearTimeout(t);
  }
}
