// The federation: a libp2p node whose peers must prove fleet membership before anything they
// say counts, signed application messages on top of gossipsub, and the replicated fleet state
// (registry, revocations, quarantine votes, CA-signed settings). startFederation() is what the
// agent calls; the Federation interface (types.ts) is all the rest of the agent sees.
import './promise-polyfill.ts';
import { hostname } from 'node:os';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { multiaddr } from '@multiformats/multiaddr';
import { TopicValidatorResult, type PeerDiscovery, type PeerId, type Stream, type Connection } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { sectionFields, type AgentConfig } from '../config/schema.ts';
import type { Logger } from '../agent/logger.ts';
import { silentLogger } from '../agent/logger.ts';
import { VERSION } from '../version.ts';
import { admit, AdmissionError } from './admission.ts';
import { decodeEnvelope, encodeEnvelope, EnvelopeError, ENVELOPE_OVERHEAD, verifyEnvelope } from './envelope.ts';
import { peerIdOfKey, signerFor, type Signer } from './ed25519.ts';
import { CertificateError, FleetCa, parseCertificates, verifyNodeCertificate, type NodeIdentity } from './fleet-ca.ts';
import { FleetState } from './fleet-state.ts';
import { keepFile } from './keep-file.ts';
import { CrlError, MAX_CRL_BYTES, verifyCrl } from './crl.ts';
import { readRegularFile } from '../flash/safe-read.ts';
import { ForeignFileError } from '../flash/write-atomic.ts';
import { decodeEntry } from './state-entry.ts';
import { loadOrCreateIdentity } from './identity.ts';
import { createFederationNode, type FederationNode } from './node.ts';
import { MeshDiscovery } from './mesh-discovery.ts';
import { PeerRateLimit } from './rate-limit.ts';
import { ReplayGuard, SequenceCounter } from './replay-guard.ts';
import { federationSettings, MAX_SETTING_FILE, type FederationSettings } from './settings.ts';
import { decodeBatch, encodeBatch, finish, FrameError, readFrames, writeFrames } from './stream-frames.ts';
import type { Federation, FederationHealth, FederationMetrics, FleetStateView, MessageHandler, PeerSummary, SettingHandler } from './types.ts';
import type { DiscoveryStatus } from './mesh-discovery.ts';

export const ADMISSION_PROTOCOL = '/x0tta6bl4/admission/1.0.0';
export const STATE_PROTOCOL = '/x0tta6bl4/state/1.0.0';
export const DIGEST_PROTOCOL = '/x0tta6bl4/state-digest/1.0.0';
const MAX_CHAIN_BYTES = 64 * 1024;
const MAX_SYNC_BYTES = 8 * 1024 * 1024;
// After a failed admission the peer may retry only after this (its certificate may get fixed).
const REJECT_BACKOFF_MS = 60_000;
// Peer exchange: dial registry peers until this many are connected.
const PX_TARGET = 8;

export class FederationError extends Error {
  override readonly name = 'FederationError';
}

export interface StartOptions {
  log?: Logger;
  /** Overrides of the config-derived settings (tests, benchmarks). */
  settings?: Partial<FederationSettings>;
  /** Capabilities announced in the registry entry. */
  capabilities?: string[];
}

/** Starts the federation from the agent config (federation section + state_dir). */
export async function startFederation(config: AgentConfig, opts: StartOptions = {}): Promise<Federation> {
  const s = { ...federationSettings(config, VERSION, config.agent.nodeName || hostname()), ...opts.settings };
  return startFederationWith(s, opts);
}

export async function startFederationWith(s: FederationSettings, opts: StartOptions = {}): Promise<Federation> {
  const ca = FleetCa.fromPem(readInput(s.caFile, 'fleet CA', 'run `x0tta6bl4 pki init` on the operator machine and copy fleet-ca.pem here'), `fleet CA ${s.caFile}`);
  const { key, created } = await loadOrCreateIdentity(s.keyFile);
  const signer = signerFor(key);
  const log = opts.log ?? silentLogger;
  if (created) log.info(`new federation identity ${signer.peerId} in ${s.keyFile}`);
  const certPem = readInput(s.certFile, 'node certificate', `have the operator run \`x0tta6bl4 pki issue --peer-id ${signer.peerId}\` and copy the certificate here`);
  // Refuse to start with a certificate peers would refuse anyway, and say why.
  try {
    const own = verifyNodeCertificate(ca, parseCertificates(certPem, s.certFile), { trustDomain: s.trustDomain });
    if (own.peerId !== signer.peerId) throw new FederationError(`${s.certFile} is for peer ${own.peerId}, but this node is ${signer.peerId} (${s.keyFile})`);
  } catch (e) {
    if (e instanceof CertificateError) throw new FederationError(`${s.certFile}: ${e.message}`);
    throw e;
  }
  const f = new FederationService(s, ca, signer, certPem, log, opts.capabilities ?? []);
  await f.start(key);
  return f;
}

/** A CA bundle or certificate chain in PEM is far smaller; anything bigger is the wrong file. */
const MAX_PEM_BYTES = 1024 * 1024;
/** A CRL file: the DER limit, as PEM (base64 and line breaks). */
const MAX_CRL_FILE = Math.ceil((MAX_CRL_BYTES * 4) / 3) + 64 * 1024;

function readInput(file: string, what: string, hint: string): string {
  let bytes: Buffer | null;
  try {
    // Regular files only, bounded: a FIFO or a device here must not block or fill memory.
    bytes = readRegularFile(file, { maxBytes: MAX_PEM_BYTES });
  } catch (e) {
    throw new FederationError(`${what} ${(e as Error).message}`);
  }
  if (bytes === null) throw new FederationError(`${what} ${file} does not exist: ${hint}`);
  return bytes.toString('latin1');
}

interface Admitted {
  id: NodeIdentity;
  at: number;
}

class FederationService implements Federation {
  readonly peerId: string;
  private node!: FederationNode;
  readonly state: FleetState;
  private readonly admitted = new Map<string, Admitted>();
  private readonly admissionWaiters = new Map<string, (() => void)[]>();
  private readonly pendingTimers = new Map<string, NodeJS.Timeout>();
  /** peer id → until when it is refused (Infinity: revoked). */
  private readonly denied = new Map<string, number>();
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  private readonly replay: ReplayGuard;
  private readonly rate: PeerRateLimit;
  private readonly seq = new SequenceCounter();
  private readonly rtt = new Map<string, number>();
  private quarantine = new Set<string>();
  private readonly ownVotes = new Map<string, string>();
  private readonly timeoutBackoff = new Map<string, number>();
  private readonly settingHandlers = new Set<SettingHandler>();
  /** Setting files already complained about (path → mtime), so a bad file is logged once, not every minute. */
  private readonly settingFileWarned = new Map<string, number>();
  private discoverer: MeshDiscovery | null = null;
  private timer: NodeJS.Timeout | null = null;
  private redialTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly stateTopic: string;
  private readonly m: FederationMetrics = {
    connectedPeers: 0,
    admittedPeers: 0,
    admissionsAccepted: 0,
    admissionsRejected: {},
    messagesPublished: 0,
    messagesAccepted: 0,
    messagesDropped: {},
    revokedDisconnects: 0,
    stateEntries: 0,
    stateMerges: 0,
    stateRejected: 0,
    quarantinedPeers: 0,
    peerExchangeDials: 0,
  };
  readonly fleet: FleetStateView;

  constructor(
    private readonly s: FederationSettings,
    private readonly ca: FleetCa,
    private readonly signer: Signer,
    private readonly certPem: string,
    private readonly log: Logger,
    private readonly capabilities: string[],
  ) {
    this.peerId = signer.peerId;
    this.stateTopic = `x0tta6bl4/${s.fleet}/state`;
    this.replay = new ReplayGuard(s.maxMessageAgeMs, s.maxClockSkewMs);
    this.rate = new PeerRateLimit(s.ratePerSecond, s.rateBurst);
    this.state = new FleetState({
      fleet: s.fleet,
      trustDomain: s.trustDomain,
      ca,
      signer,
      certPem,
      quorum: s.quarantineQuorum,
      entryTtlMs: s.entryTtlMs,
      maxSkewMs: s.maxClockSkewMs,
    });
    this.state.onChange((kind, key) => this.onStateChange(kind, key));
    const self = this;
    this.fleet = {
      nodes: () => this.state.nodes(),
      quarantined: () => [...this.quarantine].sort(),
      voteQuarantine(target, reason, vote = true) {
        if (vote) self.ownVotes.set(target, reason);
        else self.ownVotes.delete(target);
        self.gossipEntries([self.state.vote(target, reason, vote).bytes]);
      },
      setting: (name) => this.state.setting(name),
      settings: () => this.state.settings(),
      digest: () => this.state.digest(),
    };
  }

  async start(key: Parameters<typeof createFederationNode>[0]['privateKey']): Promise<void> {
    if (this.s.mdns) {
      this.discoverer = new MeshDiscovery({
        ifname: this.s.mdnsInterface,
        fleet: this.s.fleet,
        peerId: this.peerId,
        intervalMs: this.s.mdnsIntervalMs,
        port: this.s.mdnsPort,
        addresses: () => (this.node ? this.node.getMultiaddrs() : []),
        log: this.log,
      });
    }
    this.node = await createFederationNode({
      privateKey: key,
      listen: this.s.listen,
      maxConnections: this.s.maxConnections,
      maxMessageBytes: this.s.maxMessageBytes,
      discovery: this.discoverer ? (this.discoverer as unknown as PeerDiscovery) : null,
      inboundPerHostPerSecond: this.s.inboundPerHostPerSecond,
      denyPeer: (p) => this.isDenied(p.toString()),
      admitted: (id) => this.admitted.has(id),
    });
    const n = this.node;
    await n.handle(ADMISSION_PROTOCOL, ({ stream, connection }) => void this.onAdmissionStream(stream, connection), { maxInboundStreams: 4 });
    await n.handle(STATE_PROTOCOL, ({ stream, connection }) => void this.onStateStream(stream, connection), { maxInboundStreams: 4 });
    await n.handle(DIGEST_PROTOCOL, ({ stream, connection }) => void this.onDigestStream(stream, connection), { maxInboundStreams: 2 });
    n.services.pubsub.topicValidators.set(this.stateTopic, (src, msg) => this.validateState(src.toString(), msg.data));
    n.addEventListener('peer:connect', (e) => this.onConnect(e.detail));
    n.addEventListener('connection:open', (e) => {
      if (!this.isDenied(e.detail.remotePeer.toString())) void this.presentCertificate(e.detail);
    });
    n.addEventListener('peer:disconnect', (e) => this.onDisconnect(e.detail.toString()));
    n.addEventListener('peer:discovery', (e) => {
      const id = e.detail.id.toString();
      if (id !== this.peerId && !this.isDenied(id) && n.getConnections(e.detail.id).length === 0 && n.getConnections().length < PX_TARGET)
        n.dial(e.detail.id).catch((err) => this.log.debug(`dial discovered ${id}: ${(err as Error).message}`));
    });
    await n.start();
    n.services.pubsub.subscribe(this.stateTopic);
    this.loadCrlFile();
    this.loadSettingFiles();
    this.state.announce(this.nodeInfo());
    for (const addr of this.s.peers) this.dialAddr(addr);
    this.timer = setInterval(() => this.refresh(), this.s.refreshMs);
    this.timer.unref();
    this.redialTimer = setInterval(() => this.redialStatic(), this.s.redialMs);
    this.redialTimer.unref();
    this.syncTimer = setInterval(() => void this.antiEntropy(), this.s.syncMs);
    this.syncTimer.unref();
    this.log.info(`federation up as ${this.peerId} on ${n.getMultiaddrs().map(String).join(', ')}`);
  }

  /** Listening addresses with the /p2p suffix (what peers dial). */
  addresses(): string[] {
    return this.node.getMultiaddrs().map(String);
  }

  private nodeInfo() {
    return { name: this.s.nodeName, addrs: this.node.getMultiaddrs().map(String).slice(0, 16), version: this.s.version, capabilities: this.capabilities };
  }

  private loadCrlFile(): void {
    let bytes: Buffer | null;
    try {
      // No symlink: the agent also writes this file (keepCrl).
      bytes = readRegularFile(this.s.crlFile, { maxBytes: MAX_CRL_FILE, noFollow: true });
    } catch (e) {
      this.log.warn(`CRL ignored: ${(e as Error).message}`);
      return;
    }
    if (bytes === null) return;
    try {
      const e = this.state.offerCrl(bytes);
      if (e) this.gossipEntries([e.bytes]);
    } catch (err) {
      this.log.warn(`CRL ${this.s.crlFile} ignored: ${(err as Error).message}`);
    }
  }

  /**
   * CA-signed settings the operator dropped into <state_dir>/fleet-settings/ (made by
   * `x0tta6bl4 pki setting`): offered to the fleet state at start and on every refresh. An
   * older file than what the fleet holds loses (last writer wins) and changes nothing.
   */
  private loadSettingFiles(): void {
    let names: string[];
    try {
      names = readdirSync(this.s.settingsDir).filter((n) => n.endsWith('.setting')).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn(`fleet settings ${this.s.settingsDir}: ${(e as Error).message}`);
      return;
    }
    const fresh: Uint8Array[] = [];
    for (const n of names) {
      const file = join(this.s.settingsDir, n);
      let why: string | null = null;
      let mtime = 0;
      try {
        mtime = lstatSync(file).mtimeMs;
        const read = readRegularFile(file, { maxBytes: MAX_SETTING_FILE, noFollow: true });
        if (read === null) continue;
        const bytes = new Uint8Array(read);
        const r = this.state.merge(bytes);
        if (!r.ok) why = r.reason;
        else if (!r.key.startsWith('setting/')) why = 'not a setting entry';
        else if (r.changed) fresh.push(bytes);
      } catch (e) {
        why = (e as Error).message;
      }
      if (why && this.settingFileWarned.get(file) !== mtime) {
        this.settingFileWarned.set(file, mtime);
        this.log.warn(`fleet setting ${file} ignored: ${why}`);
      }
    }
    if (fresh.length) this.gossipEntries(fresh);
  }

  onSetting(handler: SettingHandler): () => void {
    this.settingHandlers.add(handler);
    // The settings already in force count as news to a new listener (the agent applies them at start).
    const now = this.state.settings();
    queueMicrotask(() => {
      for (const [name, value] of Object.entries(now)) if (this.settingHandlers.has(handler)) this.callSetting(handler, name, value);
    });
    return () => void this.settingHandlers.delete(handler);
  }

  private callSetting(h: SettingHandler, name: string, value: string | null): void {
    try {
      h(name, value);
    } catch (e) {
      this.log.error(`fleet setting ${name} handler: ${(e as Error).message}`);
    }
  }

  reconfigure(config: AgentConfig): { applied: string[]; restart: string[] } {
    const next = federationSettings(config, this.s.version, this.s.nodeName);
    const applied: string[] = [];
    const restart: string[] = [];
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    // The schema flags which federation options a running federation takes over (apply: 'live');
    // the rest are wired into the libp2p node or the identity. federation.enabled is no setting here.
    const current = this.s as unknown as Record<string, unknown>;
    for (const [k, field] of sectionFields('federation')) {
      if (!Object.hasOwn(current, k) || same(next[k as keyof FederationSettings], current[k])) continue;
      if (field.apply === 'restart') restart.push(k);
      else {
        current[k] = next[k as keyof FederationSettings];
        applied.push(k);
      }
    }
    if (applied.includes('ratePerSecond') || applied.includes('rateBurst')) this.rate.set(this.s.ratePerSecond, this.s.rateBurst);
    if (applied.includes('quarantineQuorum')) {
      this.state.setQuorum(this.s.quarantineQuorum);
      this.quarantine = new Set(this.state.quarantined((id) => this.admitted.has(id)));
      this.m.quarantinedPeers = this.quarantine.size;
    }
    if (applied.includes('peerExchange') && this.s.peerExchange) for (const n of this.state.nodes()) this.peerExchange(n.peerId);
    if (applied.length) this.log.info(`federation reconfigured: ${applied.join(', ')}`);
    if (restart.length) this.log.info(`federation options changed that take effect at the next start: ${restart.join(', ')}`);
    return { applied, restart };
  }

  discovery(): DiscoveryStatus | null {
    return this.discoverer?.status() ?? null;
  }

  /** Adopts a CRL (e.g. one the operator pushed over MQTT); it spreads to the fleet. */
  offerCrl(der: Uint8Array): boolean {
    const e = this.state.offerCrl(der);
    if (e) this.gossipEntries([e.bytes]);
    return e !== null;
  }

  offerEntry(entry: Uint8Array): boolean {
    const r = this.state.merge(entry);
    if (!r.ok) throw new FederationError(`fleet state entry refused: ${r.reason}`);
    if (r.changed) this.gossipEntries([entry]);
    return r.changed;
  }

  async connect(addr: string): Promise<void> {
    let ma;
    try {
      ma = multiaddr(addr);
    } catch (e) {
      throw new FederationError(`peer address ${addr}: ${(e as Error).message}`);
    }
    await this.node.dial(ma);
  }

  /** Static peers (UCI `list peer`) are kept connected: a router that rebooted is dialled again. */
  private redialStatic(): void {
    if (this.stopped) return;
    const connected = new Set(this.node.getConnections().map((c) => c.remotePeer.toString()));
    for (const addr of this.s.peers) {
      const id = /\/p2p\/([A-Za-z0-9]+)$/.exec(addr)?.[1];
      if (id ? !connected.has(id) && !this.isDenied(id) : connected.size === 0) this.dialAddr(addr);
    }
  }

  private dialAddr(addr: string): void {
    let ma;
    try {
      ma = multiaddr(addr);
    } catch (e) {
      this.log.warn(`peer address ${addr}: ${(e as Error).message}`);
      return;
    }
    this.node.dial(ma).catch((e) => this.log.debug(`dial ${addr}: ${(e as Error).message}`));
  }

  // ---- admission ----

  private isDenied(peerId: string): boolean {
    const until = this.denied.get(peerId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.denied.delete(peerId);
    return false;
  }

  private onConnect(peer: PeerId): void {
    const id = peer.toString();
    this.m.connectedPeers = this.node.getPeers().length;
    if (this.isDenied(id)) {
      void this.node.hangUp(peer).catch(() => {});
      return;
    }
    if (!this.pendingTimers.has(id) && !this.admitted.has(id)) {
      const t = setTimeout(() => {
        this.pendingTimers.delete(id);
        if (!this.admitted.has(id) && this.node.getConnections(peer).length) {
          this.reject(id, 'TIMEOUT', 'presented no certificate in time');
        }
      }, this.s.admissionTimeoutMs);
      t.unref();
      this.pendingTimers.set(id, t);
    }
  }

  private onDisconnect(id: string): void {
    this.m.connectedPeers = this.node.getPeers().length;
    if (this.node.getConnections(peerIdFromString(id)).length) return;
    this.admitted.delete(id);
    this.m.admittedPeers = this.admitted.size;
    this.rate.forget(id);
    const t = this.pendingTimers.get(id);
    if (t) clearTimeout(t);
    this.pendingTimers.delete(id);
  }

  /**
   * Our half of admission: send our chain on this connection, learn whether the peer took it.
   * Per connection, not per peer: when both sides dial at once libp2p may close one of the two
   * connections, and the presentation must not die with it.
   */
  private async presentCertificate(connection: Connection): Promise<void> {
    const peer = connection.remotePeer;
    let stream: Stream | null = null;
    try {
      stream = await connection.newStream(ADMISSION_PROTOCOL, { signal: AbortSignal.timeout(this.s.admissionTimeoutMs) });
      await writeFrames(stream, [Buffer.from(this.certPem, 'latin1')]);
      let reply: Uint8Array | null = null;
      await readFrames(stream, 1024, 2048, (b) => (reply = b), 1);
      const r = reply as Uint8Array | null;
      if (r && r[0] !== 1) this.log.warn(`peer ${peer} refused our certificate: ${Buffer.from(r.subarray(1)).toString('utf8')}`);
    } catch (e) {
      if (!this.stopped && connection.status === 'open') this.log.debug(`admission with ${peer}: ${(e as Error).message}`);
    } finally {
      await finish(stream);
    }
  }

  /** Their half: a peer presents its chain; admit it or cut it off. */
  private async onAdmissionStream(stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer.toString();
    const timer = setTimeout(() => stream.abort(new Error('admission timeout')), this.s.admissionTimeoutMs);
    try {
      let chain: Uint8Array | null = null;
      await readFrames(stream, MAX_CHAIN_BYTES, MAX_CHAIN_BYTES + 4, (b) => (chain = b), 1);
      // The stream ended without a certificate: usually a duplicate connection being closed.
      // Not evidence against the peer; the admission timer deals with peers that never send one.
      if (!chain) return;
      const id = admit(this.ca, chain, remote, { trustDomain: this.s.trustDomain, revoked: (leaf) => this.state.revoked(leaf) });
      if (this.quarantine.has(remote)) this.log.info(`admitting ${remote}, which is quarantined: its messages stay ignored`);
      const first = !this.admitted.has(remote);
      this.admitted.set(remote, { id, at: Date.now() });
      this.m.admittedPeers = this.admitted.size;
      const t = this.pendingTimers.get(remote);
      if (t) clearTimeout(t);
      this.pendingTimers.delete(remote);
      this.timeoutBackoff.delete(remote);
      if (first) {
        // Gossipsub caches scores for a heartbeat: drop the "unadmitted" one so that what we
        // publish next already goes to this peer.
        this.node.services.pubsub.score.scoreCache.delete(remote);
        this.m.admissionsAccepted++;
        this.log.info(`admitted ${remote} (${id.spiffeId})`);
      }
      for (const w of this.admissionWaiters.get(remote) ?? []) w();
      this.admissionWaiters.delete(remote);
      await writeFrames(stream, [Uint8Array.of(1)]);
      if (first) void this.pushState(connection.remotePeer);
    } catch (e) {
      if (!(e instanceof AdmissionError || e instanceof FrameError)) {
        this.log.debug(`admission stream from ${remote}: ${(e as Error).message}`);
        return;
      }
      const code = e instanceof AdmissionError ? e.code : 'MALFORMED';
      const msg = (e as Error).message;
      try {
        await writeFrames(stream, [Buffer.concat([Uint8Array.of(0), Buffer.from(`${code}: ${msg}`.slice(0, 500))])]);
        // Let the refusal reach the peer (the operator there needs it) before hanging up.
        await finish(stream);
      } catch {
        /* the peer may be gone already */
      }
      this.reject(remote, code, msg);
    } finally {
      clearTimeout(timer);
      await finish(stream);
    }
  }

  private reject(id: string, code: string, why: string): void {
    this.m.admissionsRejected[code] = (this.m.admissionsRejected[code] ?? 0) + 1;
    this.log.warn(`peer ${id} not admitted: ${why}`);
    // A timeout proves nothing against the peer (a slow link, a busy router): a short backoff,
    // doubled on each repeat so that an overloaded node is not kept busy by reconnects.
    let backoff = REJECT_BACKOFF_MS;
    if (code === 'TIMEOUT') {
      backoff = Math.min(REJECT_BACKOFF_MS * 5, (this.timeoutBackoff.get(id) ?? this.s.redialMs / 2) * 2);
      this.timeoutBackoff.set(id, backoff);
    }
    this.denied.set(id, code === 'REVOKED' ? Infinity : Date.now() + backoff);
    this.admitted.delete(id);
    this.m.admittedPeers = this.admitted.size;
    void this.node.hangUp(peerIdFromString(id)).catch(() => {});
  }

  private waitAdmitted(id: string): Promise<boolean> {
    if (this.admitted.has(id)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.admitted.has(id)), this.s.admissionTimeoutMs);
      const list = this.admissionWaiters.get(id) ?? [];
      list.push(() => {
        clearTimeout(t);
        resolve(true);
      });
      this.admissionWaiters.set(id, list);
    });
  }

  // ---- fleet state sync ----

  /** Anti-entropy: send the whole state to one peer (small fleets: tens of KB). */
  private async pushState(peer: PeerId): Promise<void> {
    let stream: Stream | null = null;
    try {
      stream = await this.node.dialProtocol(peer, STATE_PROTOCOL, { signal: AbortSignal.timeout(this.s.admissionTimeoutMs) });
      await writeFrames(stream, this.state.all().map((e) => e.bytes));
    } catch (e) {
      if (!this.stopped) this.log.debug(`state push to ${peer}: ${(e as Error).message}`);
    } finally {
      await finish(stream);
    }
  }

  private async onStateStream(stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer.toString();
    if (!(await this.waitAdmitted(remote))) {
      stream.abort(new Error('not admitted'));
      return;
    }
    const changed: Uint8Array[] = [];
    try {
      await readFrames(stream, this.s.maxMessageBytes, MAX_SYNC_BYTES, (b) => {
        const r = this.state.merge(b);
        if (!r.ok) this.m.stateRejected++;
        else if (r.changed) {
          this.m.stateMerges++;
          changed.push(b);
        }
      });
    } catch (e) {
      this.log.debug(`state sync from ${remote}: ${(e as Error).message}`);
    } finally {
      await finish(stream);
    }
    // What we learned from this peer is news to our side of the fleet too (partition healing).
    if (changed.length) this.gossipEntries(changed);
  }

  /**
   * Anti-entropy with one random admitted peer: send our digest; when the peer's differs, both
   * push their full state to each other (gossip deltas missed by a peer that was not yet in the
   * topic mesh get repaired here).
   */
  private async antiEntropy(): Promise<void> {
    if (this.stopped) return;
    const ids = [...this.admitted.keys()];
    if (!ids.length) return;
    const peer = peerIdFromString(ids[Math.floor(Math.random() * ids.length)]!);
    let stream: Stream | null = null;
    try {
      stream = await this.node.dialProtocol(peer, DIGEST_PROTOCOL, { signal: AbortSignal.timeout(this.s.admissionTimeoutMs) });
      await writeFrames(stream, [Buffer.from(this.state.digest())]);
      let differs = false;
      await readFrames(stream, 16, 64, (b) => (differs = b[0] === 1), 1);
      if (differs) void this.pushState(peer);
    } catch (e) {
      if (!this.stopped) this.log.debug(`anti-entropy with ${peer}: ${(e as Error).message}`);
    } finally {
      await finish(stream);
    }
  }

  private async onDigestStream(stream: Stream, connection: Connection): Promise<void> {
    try {
      if (!this.admitted.has(connection.remotePeer.toString())) return;
      let theirs = '';
      await readFrames(stream, 64, 128, (b) => (theirs = Buffer.from(b).toString('latin1')), 1);
      const differs = theirs !== this.state.digest();
      await writeFrames(stream, [Uint8Array.of(differs ? 1 : 0)]);
      if (differs) void this.pushState(connection.remotePeer);
    } catch (e) {
      this.log.debug(`anti-entropy from ${connection.remotePeer}: ${(e as Error).message}`);
    } finally {
      await finish(stream);
    }
  }

  private gossipEntries(entries: Uint8Array[]): void {
    if (this.stopped) return;
    let batch: Uint8Array[] = [];
    let size = 2;
    const flush = () => {
      if (!batch.length) return;
      this.node.services.pubsub.publish(this.stateTopic, encodeBatch(batch)).catch((e) => this.log.debug(`state gossip: ${(e as Error).message}`));
      batch = [];
      size = 2;
    };
    for (const e of entries) {
      if (size + 4 + e.length > this.s.maxMessageBytes) flush();
      batch.push(e);
      size += 4 + e.length;
    }
    flush();
  }

  private validateState(src: string, data: Uint8Array): TopicValidatorResult {
    const gate = this.gate(src, data.length);
    if (gate !== TopicValidatorResult.Accept) return gate;
    let items: Uint8Array[];
    try {
      items = decodeBatch(data);
    } catch {
      this.drop('malformed');
      return TopicValidatorResult.Reject;
    }
    let changed = false;
    let bad = false;
    for (const it of items) {
      const r = this.state.merge(it);
      if (!r.ok) {
        bad = true;
        this.m.stateRejected++;
      } else if (r.changed) {
        changed = true;
        this.m.stateMerges++;
      }
    }
    if (bad) return TopicValidatorResult.Reject;
    // Only news travels on: old entries stop here, which ends the flood.
    return changed ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore;
  }

  private onStateChange(kind: string, _key: string): void {
    this.m.stateEntries = this.state.size;
    if (kind === 'crl') this.enforceRevocations();
    if (kind === 'vote' || kind === 'node' || kind === 'crl') {
      this.quarantine = new Set(this.state.quarantined((id) => this.admitted.has(id)));
      this.m.quarantinedPeers = this.quarantine.size;
    }
    if (kind === 'node' && this.node && !this.stopped) this.peerExchange(_key.slice(5));
    if (kind === 'crl') this.keepCrl();
    if (kind === 'setting') {
      const name = _key.slice('setting/'.length);
      const value = this.state.setting(name) ?? null;
      this.keepSetting(name);
      this.log.info(`fleet setting ${name} ${value === null ? 'withdrawn' : `= ${JSON.stringify(value)}`}`);
      for (const h of this.settingHandlers) queueMicrotask(() => this.callSetting(h, name, value));
    }
  }

  /**
   * Every router keeps the fleet's newest CRL in its crl_file, so revocations survive a restart
   * of the whole fleet (and the router that got the operator's copy being away).
   */
  private keepCrl(): void {
    const crl = this.state.crl();
    if (!crl) return;
    const isOurCrl = (b: Buffer): boolean => {
      try {
        verifyCrl(this.ca, b);
        return true;
      } catch {
        return false;
      }
    };
    try {
      const bytes = readRegularFile(this.s.crlFile, { maxBytes: MAX_CRL_FILE, noFollow: true });
      if (bytes !== null) {
        let onDisk;
        try {
          onDisk = verifyCrl(this.ca, bytes);
        } catch (e) {
          // Not a CRL of this fleet (crl_file may name any file): never replaced.
          if (e instanceof CrlError) throw new ForeignFileError(`${this.s.crlFile}: exists and is not a CRL of this fleet; left untouched`);
          throw e;
        }
        if (onDisk.number >= crl.number) return; // as new or newer (and maybe PEM): leave it
      }
      if (keepFile(this.s.crlFile, crl.der, { owns: isOurCrl, maxBytes: MAX_CRL_FILE, what: 'CRL' })) this.log.info(`CRL ${crl.number} kept in ${this.s.crlFile}`);
    } catch (e) {
      this.log.warn(`cannot keep the fleet CRL in ${this.s.crlFile}: ${(e as Error).message}`);
    }
  }

  /** Likewise each fleet setting (or its withdrawal), as the file `pki setting` makes. */
  private keepSetting(name: string): void {
    const e = this.state.entry(`setting/${name}`);
    if (!e) return;
    // The key was checked when the entry was merged: letters, digits, '_', '.', '-' only.
    const file = join(this.s.settingsDir, `${name}.setting`);
    try {
      const owns = (b: Buffer): boolean => {
        try {
          return decodeEntry(new Uint8Array(b)).key === `setting/${name}`;
        } catch {
          return false;
        }
      };
      keepFile(file, e.bytes, { owns, maxBytes: MAX_SETTING_FILE, what: 'fleet setting' });
    } catch (err) {
      this.log.warn(`cannot keep fleet setting ${name} in ${file}: ${(err as Error).message}`);
    }
  }

  /** A new CRL: every admitted peer it names is cut off now and refused from then on. */
  private enforceRevocations(): void {
    for (const [id, a] of this.admitted) {
      if (this.state.revoked(a.id.leaf)) {
        this.m.revokedDisconnects++;
        this.reject(id, 'REVOKED', `certificate serial ${a.id.leaf.serialNumber} revoked by CRL ${this.state.crl()?.number}`);
      }
    }
    for (const n of this.state.nodes()) {
      const r = this.state.node(n.peerId);
      if (r && this.state.revoked(r.leaf)) this.denied.set(n.peerId, Infinity);
    }
  }

  /** Registry entries name peers and their addresses: dial the ones we lack, up to PX_TARGET. */
  private peerExchange(peerId: string): void {
    if (!this.s.peerExchange || peerId === this.peerId || !this.node || this.isDenied(peerId) || !this.state.trusted(peerId)) return;
    const id = peerIdFromString(peerId);
    if (this.node.getConnections(id).length || this.node.getConnections().length >= PX_TARGET) return;
    const addrs = (this.state.node(peerId)?.addrs ?? []).flatMap((a) => {
      try {
        return [multiaddr(a)];
      } catch {
        return [];
      }
    });
    if (!addrs.length) return;
    this.m.peerExchangeDials++;
    this.node.dial(addrs).catch((e) => this.log.debug(`peer exchange dial ${peerId}: ${(e as Error).message}`));
  }

  // ---- application messages ----

  private drop(reason: string): void {
    this.m.messagesDropped[reason] = (this.m.messagesDropped[reason] ?? 0) + 1;
  }

  /** Checks every gossip message shares: admitted source, its rate, size. */
  private gate(src: string, size: number): TopicValidatorResult {
    if (!this.admitted.has(src)) {
      this.drop('unadmitted');
      // A peer whose admission is still running gets no penalty; a stranger does.
      return this.pendingTimers.has(src) ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject;
    }
    if (size > this.s.maxMessageBytes) {
      this.drop('too_big');
      return TopicValidatorResult.Reject;
    }
    if (!this.rate.take(src)) {
      this.drop('rate_limited');
      return TopicValidatorResult.Ignore;
    }
    return TopicValidatorResult.Accept;
  }

  private validateApp(topic: string, src: string, data: Uint8Array): TopicValidatorResult {
    const gate = this.gate(src, data.length);
    if (gate !== TopicValidatorResult.Accept) return gate;
    let env;
    try {
      env = decodeEnvelope(data, this.s.maxMessageBytes);
    } catch (e) {
      if (!(e instanceof EnvelopeError)) throw e;
      this.drop('malformed');
      return TopicValidatorResult.Reject;
    }
    if (env.topic !== topic) {
      this.drop('malformed');
      return TopicValidatorResult.Reject;
    }
    const sender = peerIdOfKey(env.sender);
    if (sender === this.peerId) return TopicValidatorResult.Ignore;
    const verdict = this.replay.check(sender, topic, env.seq, env.timestamp, Date.now());
    if (verdict !== 'ok') {
      this.drop(verdict);
      return TopicValidatorResult.Ignore;
    }
    const direct = this.admitted.get(sender);
    if (!(direct ? !this.state.revoked(direct.id.leaf) : this.state.trusted(sender))) {
      this.drop('unadmitted');
      return TopicValidatorResult.Reject;
    }
    if (this.quarantine.has(sender)) {
      this.drop('quarantined');
      return TopicValidatorResult.Ignore;
    }
    if (!verifyEnvelope(this.s.fleet, env)) {
      this.drop('bad_signature');
      return TopicValidatorResult.Reject;
    }
    this.replay.record(sender, topic, env.seq);
    this.m.messagesAccepted++;
    const msg = { from: sender, topic, seq: env.seq, round: env.round, timestamp: env.timestamp, payload: env.payload };
    for (const h of this.handlers.get(topic) ?? []) {
      queueMicrotask(() => {
        try {
          h(msg);
        } catch (e) {
          this.log.error(`handler for ${topic}: ${(e as Error).message}`);
        }
      });
    }
    return TopicValidatorResult.Accept;
  }

  private appTopic(topic: string): string {
    return `x0tta6bl4/${this.s.fleet}/app/${topic}`;
  }

  async publish(topic: string, payload: Uint8Array, opts: { round?: number } = {}): Promise<void> {
    if (this.stopped) throw new FederationError('federation is stopped');
    if (payload.length + ENVELOPE_OVERHEAD > this.s.maxMessageBytes)
      throw new FederationError(`payload of ${payload.length} bytes does not fit federation.max_message_size (${this.s.maxMessageBytes} bytes with envelope)`);
    const env = encodeEnvelope(this.s.fleet, this.signer, { seq: this.seq.next(), round: opts.round ?? 0, timestamp: Date.now(), topic, payload });
    await this.node.services.pubsub.publish(this.appTopic(topic), env);
    this.m.messagesPublished++;
  }

  subscribe(topic: string, handler: MessageHandler): () => void {
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
      const t = this.appTopic(topic);
      this.node.services.pubsub.topicValidators.set(t, (src, msg) => this.validateApp(topic, src.toString(), msg.data));
      this.node.services.pubsub.subscribe(t);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(topic) === set && !this.stopped) {
        this.handlers.delete(topic);
        const t = this.appTopic(topic);
        this.node.services.pubsub.unsubscribe(t);
        this.node.services.pubsub.topicValidators.delete(t);
      }
    };
  }

  // ---- upkeep, reporting ----

  private refresh(): void {
    if (this.stopped) return;
    this.state.sweep();
    const own = [this.state.announce(this.nodeInfo()).bytes];
    for (const [target, reason] of this.ownVotes) own.push(this.state.vote(target, reason).bytes);
    this.gossipEntries(own);
    this.loadCrlFile();
    this.loadSettingFiles();
    const ids = [...this.admitted.keys()];
    for (const id of ids) {
      this.node.services.ping
        .ping(peerIdFromString(id), { signal: AbortSignal.timeout(5000) })
        .then((ms) => this.rtt.set(id, ms))
        .catch(() => this.rtt.delete(id));
    }
  }

  peers(): PeerSummary[] {
    return [...this.admitted].map(([peerId, a]) => ({
      peerId,
      name: this.state.node(peerId)?.name ?? '',
      spiffeId: a.id.spiffeId,
      addrs: this.node.getConnections(peerIdFromString(peerId)).map((c) => c.remoteAddr.toString()),
      admittedAt: a.at,
      serial: a.id.leaf.serialNumber,
      certExpires: Date.parse(a.id.leaf.validTo),
      quarantined: this.quarantine.has(peerId),
      rttMs: this.rtt.get(peerId) ?? null,
    }));
  }

  health(): FederationHealth {
    if (this.stopped) return { state: 'down', reason: 'stopped' };
    const n = this.admitted.size;
    // Discovery trouble is worth a word (static peers may still carry the fleet), not a state.
    const d = this.discoverer?.status();
    const mdns = !d ? '' : d.state !== 'running' ? `; mDNS ${d.state}: ${d.reason}` : d.announcing.length ? '' : `; mDNS: no listen address on ${d.ifname} to announce`;
    if (n === 0) return { state: 'degraded', reason: `no admitted peers (${this.node.getPeers().length} connected)${mdns}` };
    return { state: 'ok', reason: `${n} admitted peer(s), ${this.quarantine.size} quarantined${mdns}` };
  }

  metrics(): FederationMetrics {
    return { ...this.m, admissionsRejected: { ...this.m.admissionsRejected }, messagesDropped: { ...this.m.messagesDropped }, stateEntries: this.state.size };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.redialTimer) clearInterval(this.redialTimer);
    if (this.syncTimer) clearInterval(this.syncTimer);
    for (const t of this.pendingTimers.values()) clearTimeout(t);
    await this.node.stop();
  }
}

export type { FederationService };
export { X509Certificate };
