// The federation: a libp2p node whose peers must prove fleet membership before anything they
// say counts, signed application messages on top of gossipsub, and the replicated fleet state
// (registry, revocations, quarantine votes, CA-signed settings). startFederation() is what the
// agent calls; the Federation interface (types.ts) is all the rest of the agent sees. The work
// is done by parts sharing one components bag (components.ts): admission (peer-admission.ts),
// state sync and anti-entropy (state-sync.ts), application gossip (app-gossip.ts), the CRL and
// setting files (crl-file.ts, setting-sync.ts), quarantine and dialling; this file wires them.
import './promise-polyfill.ts';
import './web-globals-polyfill.ts';
import { hostname } from 'node:os';
import { X509Certificate } from 'node:crypto';
import type { PeerDiscovery } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { sectionFields, type AgentConfig } from '../config/schema.ts';
import type { Logger } from '../agent/logger.ts';
import { silentLogger } from '../agent/logger.ts';
import { readRegularFile } from '../flash/safe-read.ts';
import { VERSION } from '../version.ts';
import { AppGossip } from './app-gossip.ts';
import { emptyMetrics, type FederationComponents } from './components.ts';
import { CrlFile } from './crl-file.ts';
import { peerIdOfKey, signerFor } from './ed25519.ts';
import { FederationError } from './federation-error.ts';
import { CertificateError, FleetCa, parseCertificates, verifyNodeCertificate } from './fleet-ca.ts';
import { FleetState } from './fleet-state.ts';
import { GossipGate } from './gossip-gate.ts';
import { loadOrCreateIdentity } from './identity.ts';
import { MeshDiscovery, type DiscoveryStatus } from './mesh-discovery.ts';
import { createFederationNode, type FederationNode } from './node.ts';
import { PeerAdmission } from './peer-admission.ts';
import { PeerDialer } from './peer-dialer.ts';
import { ADMISSION_PROTOCOL } from './protocols.ts';
import { FleetQuarantine } from './quarantine.ts';
import { SettingSync } from './setting-sync.ts';
import { federationSettings, type FederationSettings } from './settings.ts';
import { StateSync } from './state-sync.ts';
import type { Federation, FederationHealth, FederationMetrics, FleetStateView, MessageHandler, PeerSummary, SettingHandler, VoteCast } from './types.ts';
import { NOOP_TRACER, type SpanContext, type Tracer } from '../tracing/api.ts';
import { extractContext, injectContext } from '../tracing/propagation.ts';
import { voteTrace } from './vote-value.ts';

export { FederationError } from './federation-error.ts';
export { ADMISSION_PROTOCOL, DIGEST_PROTOCOL, STATE_PROTOCOL } from './protocols.ts';

export interface StartOptions {
  log?: Logger;
  /** Overrides of the config-derived settings (tests, benchmarks). */
  settings?: Partial<FederationSettings>;
  /** Capabilities announced in the registry entry. */
  capabilities?: string[];
  /** Spans of operator votes and of traced fleet-state entries applied here. */
  tracer?: Tracer;
}

/** Starts the federation from the agent config (federation section + state_dir). */
export async function startFederation(config: AgentConfig, opts: StartOptions = {}): Promise<Federation> {
  const settings = { ...federationSettings(config, VERSION, config.agent.nodeName || hostname()), ...opts.settings };
  return startFederationWith(settings, opts);
}

export async function startFederationWith(settings: FederationSettings, opts: StartOptions = {}): Promise<Federation> {
  const ca = FleetCa.fromPem(readInput(settings.caFile, 'fleet CA', 'run `x0tta6bl4 pki init` on the operator machine and copy fleet-ca.pem here'), `fleet CA ${settings.caFile}`);
  const { key, created } = await loadOrCreateIdentity(settings.keyFile);
  const signer = signerFor(key);
  const log = opts.log ?? silentLogger;
  if (created) log.info(`new federation identity ${signer.peerId} in ${settings.keyFile}`);
  const certPem = readInput(settings.certFile, 'node certificate', `have the operator run \`x0tta6bl4 pki issue --peer-id ${signer.peerId}\` and copy the certificate here`);
  // Refuse to start with a certificate peers would refuse anyway, and say why.
  try {
    const own = verifyNodeCertificate(ca, parseCertificates(certPem, settings.certFile), { trustDomain: settings.trustDomain });
    if (own.peerId !== signer.peerId) throw new FederationError(`${settings.certFile} is for peer ${own.peerId}, but this node is ${signer.peerId} (${settings.keyFile})`);
  } catch (e) {
    if (e instanceof CertificateError) throw new FederationError(`${settings.certFile}: ${e.message}`);
    throw e;
  }
  const f = new FederationService({ settings, ca, signer, certPem, log }, opts.capabilities ?? [], opts.tracer ?? NOOP_TRACER);
  await f.start(key);
  return f;
}

/** A CA bundle or certificate chain in PEM is far smaller; anything bigger is the wrong file. */
const MAX_PEM_BYTES = 1024 * 1024;

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


/** What startFederationWith has checked before the service starts. */
type ServiceBasics = Pick<FederationComponents, 'settings' | 'ca' | 'signer' | 'certPem' | 'log'>;

class FederationService implements Federation {
  readonly peerId: string;
  readonly state: FleetState;
  readonly fleet: FleetStateView;
  private readonly components: FederationComponents;
  private readonly admission: PeerAdmission;
  private readonly gate: GossipGate;
  private readonly sync: StateSync;
  private readonly gossip: AppGossip;
  private readonly quarantine: FleetQuarantine;
  private readonly crlFile: CrlFile;
  private readonly settingSync: SettingSync;
  private readonly dialer: PeerDialer;
  private readonly rtt = new Map<string, number>();
  private discoverer: MeshDiscovery | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    basics: ServiceBasics,
    private readonly capabilities: string[],
    private readonly tracer: Tracer,
  ) {
    const { settings, ca, signer, certPem } = basics;
    this.peerId = signer.peerId;
    this.state = new FleetState({
      fleet: settings.fleet,
      trustDomain: settings.trustDomain,
      ca,
      signer,
      certPem,
      quorum: settings.quarantineQuorum,
      entryTtlMs: settings.entryTtlMs,
      maxSkewMs: settings.maxClockSkewMs,
    });
    // The node is set in start(), before any part uses it.
    const components: FederationComponents = { ...basics, peerId: signer.peerId, state: this.state, metrics: emptyMetrics(), node: undefined as unknown as FederationNode, stopped: false };
    this.components = components;
    const gossipState = (entries: Uint8Array[]) => this.sync.gossip(entries);
    this.quarantine = new FleetQuarantine(components, { isAdmitted: (id) => this.admission.has(id), gossip: gossipState });
    this.admission = new PeerAdmission(components, {
      quarantined: (id) => this.quarantine.has(id),
      onFirstAdmitted: (peer) => void this.sync.pushState(peer),
      onGone: (id) => this.gate.forget(id),
    });
    this.gate = new GossipGate(components, { admission: this.admission });
    this.sync = new StateSync(components, { admission: this.admission, gate: this.gate });
    this.gossip = new AppGossip(components, { admission: this.admission, gate: this.gate, quarantine: this.quarantine });
    this.crlFile = new CrlFile(components, { gossip: gossipState });
    this.settingSync = new SettingSync(components, { gossip: gossipState });
    this.dialer = new PeerDialer(components, { isDenied: (id) => this.admission.isDenied(id) });
    this.state.onChange((kind, key) => this.onStateChange(kind, key));
    this.fleet = this.fleetView();
  }

  private fleetView(): FleetStateView {
    return {
      nodes: () => this.state.nodes(),
      quarantined: () => this.quarantine.list(),
      voteQuarantine: (target, reason, vote = true) => void this.quarantine.vote(target, reason, vote),
      castVote: (peer, vote, reason, trace) => this.castVote(peer, vote, reason, trace),
      setting: (name) => this.state.setting(name),
      settings: () => this.state.settings(),
      digest: () => this.state.digest(),
    };
  }

  /** The libp2p node (tests reach into its pubsub). */
  private get node(): FederationNode {
    return this.components.node;
  }

  private get settings(): FederationSettings {
    return this.components.settings;
  }

  async start(key: Parameters<typeof createFederationNode>[0]['privateKey']): Promise<void> {
    const { settings, log } = this.components;
    if (settings.mdns) {
      this.discoverer = new MeshDiscovery({
        ifname: settings.mdnsInterface,
        fleet: settings.fleet,
        peerId: this.peerId,
        intervalMs: settings.mdnsIntervalMs,
        port: settings.mdnsPort,
        addresses: () => (this.node ? this.node.getMultiaddrs() : []),
        log,
      });
    }
    this.components.node = await createFederationNode({
      privateKey: key,
      listen: settings.listen,
      maxConnections: settings.maxConnections,
      maxMessageBytes: settings.maxMessageBytes,
      discovery: this.discoverer ? (this.discoverer as unknown as PeerDiscovery) : null,
      inboundPerHostPerSecond: settings.inboundPerHostPerSecond,
      denyPeer: (p) => this.admission.isDenied(p.toString()),
      admitted: (id) => this.admission.has(id),
    });
    await this.register();
    await this.node.start();
    this.sync.start();
    this.crlFile.load();
    this.settingSync.loadFiles();
    this.state.announce(this.nodeInfo());
    this.dialer.start();
    this.timer = setInterval(() => this.refresh(), settings.refreshMs);
    this.timer.unref();
    log.info(`federation up as ${this.peerId} on ${this.node.getMultiaddrs().map(String).join(', ')}`);
  }

  /** Protocol handlers, topic validators and connection events, before the node starts. */
  private async register(): Promise<void> {
    const n = this.node;
    const admission = this.admission;
    await n.handle(ADMISSION_PROTOCOL, ({ stream, connection }) => void admission.onAdmissionStream(stream, connection), { maxInboundStreams: 4 });
    await this.sync.register();
    n.addEventListener('peer:connect', (e) => admission.onConnect(e.detail));
    n.addEventListener('connection:open', (e) => {
      if (!admission.isDenied(e.detail.remotePeer.toString())) void admission.presentCertificate(e.detail);
    });
    n.addEventListener('peer:disconnect', (e) => admission.onDisconnect(e.detail.toString()));
    n.addEventListener('peer:discovery', (e) => this.dialer.onDiscovered(e.detail.id));
  }

  /** Listening addresses with the /p2p suffix (what peers dial). */
  addresses(): string[] {
    return this.node.getMultiaddrs().map(String);
  }

  private nodeInfo() {
    return { name: this.settings.nodeName, addrs: this.node.getMultiaddrs().map(String).slice(0, 16), version: this.settings.version, capabilities: this.capabilities };
  }

  /**
   * The operator's vote (command `quarantine-vote`). With tracing on, a `fleet-state.write` span
   * under the command's span, whose context the entry carries (signed, in its value) so that the
   * routers applying it record their span in the same trace.
   */
  private castVote(peer: string, vote: boolean, reason: string, trace?: SpanContext): VoteCast {
    if (this.components.stopped) throw new FederationError('the federation is stopped');
    const target = this.quarantine.resolve(peer);
    const key = `vote/${target.peerId}/${this.peerId}`;
    const span = this.tracer.enabled
      ? this.tracer.startSpan('fleet-state.write', {
          kind: 'producer',
          ...(trace ? { parent: trace } : {}),
          attributes: { 'x0tta6bl4.state.key': key, 'x0tta6bl4.quarantine.target': target.peerId, 'x0tta6bl4.vote': vote },
        })
      : null;
    try {
      const e = this.quarantine.vote(target.peerId, reason, vote, span ? injectContext(span.context) : undefined);
      const quarantined = this.quarantine.has(target.peerId);
      span?.setAttribute('x0tta6bl4.quarantined', quarantined);
      return {
        key,
        target: target.peerId,
        name: target.name,
        vote,
        reason: vote ? reason.slice(0, 200) : reason,
        stamp: { ...e.stamp },
        quarantined,
        quorum: this.settings.quarantineQuorum,
        votes: this.state.voters(target.peerId).length,
        ...(span ? { traceId: span.context.traceId } : {}),
      };
    } catch (e) {
      span?.setStatus('error', (e as Error).message);
      throw e;
    } finally {
      span?.end();
    }
  }

  /** A vote from another router that carries a trace context: a span in the sender's trace. */
  private traceApplied(key: string): void {
    const e = this.state.entry(key);
    if (!e) return;
    let voter: string;
    try {
      voter = peerIdOfKey(e.author);
    } catch {
      return;
    }
    if (voter === this.peerId) return; // our own write: fleet-state.write has it
    // Anti-entropy re-sends old entries (to a new or restarted peer): only fresh ones join a trace.
    if (Date.now() - e.stamp.wall > this.settings.maxMessageAgeMs) return;
    const carried = voteTrace(e.value);
    const parent = carried ? extractContext({ ...carried }) : undefined;
    if (!parent) return;
    const target = key.split('/')[1]!;
    this.tracer
      .startSpan('fleet-state.apply', {
        kind: 'consumer',
        parent,
        attributes: {
          'x0tta6bl4.state.key': key,
          'x0tta6bl4.peer': voter,
          'x0tta6bl4.quarantine.target': target,
          'x0tta6bl4.vote': !e.tombstone,
          'x0tta6bl4.quarantined': this.quarantine.has(target),
        },
      })
      .end();
  }

  private onStateChange(kind: string, key: string): void {
    this.components.metrics.stateEntries = this.state.size;
    if (kind === 'crl') this.admission.enforceRevocations();
    if (kind === 'vote' || kind === 'node' || kind === 'crl') this.quarantine.recompute();
    if (kind === 'vote' && this.tracer.enabled) this.traceApplied(key);
    if (kind === 'node' && this.node && !this.components.stopped) this.dialer.peerExchange(key.slice(5));
    if (kind === 'crl') this.crlFile.keep();
    if (kind === 'setting') this.settingSync.changed(key.slice('setting/'.length));
  }

  onSetting(handler: SettingHandler): () => void {
    return this.settingSync.onSetting(handler);
  }

  reconfigure(config: AgentConfig): { applied: string[]; restart: string[] } {
    const next = federationSettings(config, this.settings.version, this.settings.nodeName);
    const applied: string[] = [];
    const restart: string[] = [];
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    // The schema flags which federation options a running federation takes over (apply: 'live');
    // the rest are wired into the libp2p node or the identity. federation.enabled is no setting here.
    const current = this.settings as unknown as Record<string, unknown>;
    for (const [k, field] of sectionFields('federation')) {
      if (!Object.hasOwn(current, k) || same(next[k as keyof FederationSettings], current[k])) continue;
      if (field.apply === 'restart') restart.push(k);
      else {
        current[k] = next[k as keyof FederationSettings];
        applied.push(k);
      }
    }
    this.takeOver(applied);
    const { log } = this.components;
    if (applied.length) log.info(`federation reconfigured: ${applied.join(', ')}`);
    if (restart.length) log.info(`federation options changed that take effect at the next start: ${restart.join(', ')}`);
    return { applied, restart };
  }

  /** Puts live options the settings now hold into the parts that copied them. */
  private takeOver(applied: string[]): void {
    const settings = this.settings;
    if (applied.includes('ratePerSecond') || applied.includes('rateBurst')) this.gate.setRate(settings.ratePerSecond, settings.rateBurst);
    if (applied.includes('quarantineQuorum')) {
      this.state.setQuorum(settings.quarantineQuorum);
      this.quarantine.recompute();
    }
    if (applied.includes('peerExchange') && settings.peerExchange) for (const n of this.state.nodes()) this.dialer.peerExchange(n.peerId);
  }

  discovery(): DiscoveryStatus | null {
    return this.discoverer?.status() ?? null;
  }

  /** Adopts a CRL (e.g. one the operator pushed over MQTT); it spreads to the fleet. */
  offerCrl(der: Uint8Array): boolean {
    const e = this.state.offerCrl(der);
    if (e) this.sync.gossip([e.bytes]);
    return e !== null;
  }

  offerEntry(entry: Uint8Array): boolean {
    const r = this.state.merge(entry);
    if (!r.ok) throw new FederationError(`fleet state entry refused: ${r.reason}`);
    if (r.changed) this.sync.gossip([entry]);
    return r.changed;
  }

  connect(addr: string): Promise<void> {
    return this.dialer.connect(addr);
  }

  publish(topic: string, payload: Uint8Array, opts: { round?: number } = {}): Promise<void> {
    return this.gossip.publish(topic, payload, opts);
  }

  subscribe(topic: string, handler: MessageHandler): () => void {
    return this.gossip.subscribe(topic, handler);
  }

  // ---- upkeep, reporting ----

  private refresh(): void {
    if (this.components.stopped) return;
    this.state.sweep();
    this.sync.gossip([this.state.announce(this.nodeInfo()).bytes, ...this.quarantine.renewedVotes()]);
    this.crlFile.load();
    this.settingSync.loadFiles();
    for (const id of this.admission.ids()) {
      this.node.services.ping
        .ping(peerIdFromString(id), { signal: AbortSignal.timeout(5000) })
        .then((ms) => this.rtt.set(id, ms))
        .catch(() => this.rtt.delete(id));
    }
  }

  peers(): PeerSummary[] {
    return this.admission.entries().map(([peerId, a]) => ({
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
    if (this.components.stopped) return { state: 'down', reason: 'stopped' };
    const n = this.admission.size;
    // Discovery trouble is worth a word (static peers may still carry the fleet), not a state.
    const d = this.discoverer?.status();
    const mdns = !d ? '' : d.state !== 'running' ? `; mDNS ${d.state}: ${d.reason}` : d.announcing.length ? '' : `; mDNS: no listen address on ${d.ifname} to announce`;
    if (n === 0) return { state: 'degraded', reason: `no admitted peers (${this.node.getPeers().length} connected)${mdns}` };
    return { state: 'ok', reason: `${n} admitted peer(s), ${this.quarantine.size} quarantined${mdns}` };
  }

  metrics(): FederationMetrics {
    const m = this.components.metrics;
    return { ...m, admissionsRejected: { ...m.admissionsRejected }, messagesDropped: { ...m.messagesDropped }, stateEntries: this.state.size };
  }

  async stop(): Promise<void> {
    if (this.components.stopped) return;
    this.components.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.dialer.stop();
    this.sync.stop();
    this.admission.stop();
    await this.node.stop();
  }
}

export type { FederationService };
export { X509Certificate };
