// Peer discovery by multicast DNS on ONE interface: the mesh. @libp2p/mdns 11 cannot be bound
// to an interface (it hands multicast-dns only port and group), so it asks and answers on every
// interface and announces every address the node has, LAN and WAN included. This one:
//  - joins 224.0.0.251 and sends only via the configured interface's IPv4 address;
//  - answers only packets whose source is on that interface's subnets. Node's dgram cannot bind
//    a socket to a device or tell the arrival interface, and Linux hands a 0.0.0.0:5353 socket
//    every mDNS packet for which any socket joined the group (OpenWrt's umdns does so on the
//    LAN), so the source subnet is the check that remains;
//  - announces only listen addresses on that interface, and accepts only peer addresses on it;
//  - uses a service name per fleet, so fleets sharing a link do not chase each other;
//  - spares the radio: answers are multicast, so a node that heard another node ask within the
//    last period heard the answers too and skips its own query (RFC 6762 7.3, duplicate
//    question suppression): about one query per period on the link instead of one per router.
// It implements libp2p's PeerDiscovery: libp2p starts it and takes the peers it finds.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { createHash, randomInt } from 'node:crypto';
import { peerDiscoverySymbol, type PeerDiscovery, type PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Logger } from '../agent/logger.ts';
import { decodePacket, encodeQuery, encodeResponse, MdnsPacketError, TYPE_PTR, TYPE_TXT, type MdnsPacket } from './mdns-packet.ts';

const GROUP = '224.0.0.251';
/** Larger packets are not ours (a fleet response is well under 1500 bytes). */
const MAX_PACKET = 4096;
const MAX_ADDRS = 8;
/** Peers remembered for status; the oldest is forgotten beyond this. */
const MAX_PEERS = 256;
/** At most one answer per this long, however many queries arrive (a query storm costs one packet). */
const ANSWER_GAP_MS = 1000;
/** The same peer is handed to libp2p at most this often. */
const REPORT_GAP_MS = 2000;
const DNSADDR = /^dnsaddr=(\/ip4\/(\d{1,3}(?:\.\d{1,3}){3})\/tcp\/\d{1,5}\/p2p\/([A-Za-z0-9]{1,128}))$/;

export interface MeshDiscoveryOptions {
  /** The interface to bind to (the mesh interface). */
  ifname: string;
  fleet: string;
  /** This node's peer id (its own answers come back by multicast loopback). */
  peerId: string;
  intervalMs: number;
  port: number;
  /** This node's listen addresses, with or without /p2p/<id>. */
  addresses(): Multiaddr[];
  log: Logger;
}

export interface DiscoveredPeer {
  peerId: string;
  addrs: string[];
  lastSeen: number;
}

export interface DiscoveryStatus {
  ifname: string;
  /** The IPv4 address the group was joined on, or null while the interface has none. */
  address: string | null;
  state: 'running' | 'waiting' | 'down' | 'stopped';
  reason: string;
  service: string;
  /** What this node announces: its listen addresses on the interface (none: nothing to announce). */
  announcing: string[];
  queriesSent: number;
  /** Periodic queries skipped because another node had just asked. */
  queriesSuppressed: number;
  answersSent: number;
  packetsReceived: number;
  /** Packets not acted on, by reason: foreign (source not on the interface), malformed, oversize, self, other_service, no_address. */
  ignored: Record<string, number>;
  peersFound: number;
  peers: DiscoveredPeer[];
}

/** `<fleet>._x0tta6bl4._udp.local`; a fleet name too long for one DNS label is shortened with a hash. */
export function serviceName(fleet: string): string {
  let label = fleet.toLowerCase();
  if (label.length > 63) label = `${label.slice(0, 54)}-${createHash('sha256').update(label).digest('hex').slice(0, 8)}`;
  return `${label}._x0tta6bl4._udp.local`;
}

interface Subnet {
  addr: number;
  mask: number;
  text: string;
}

function ipv4(text: string): number | null {
  const p = text.split('.');
  if (p.length !== 4) return null;
  let n = 0;
  for (const x of p) {
    const v = Number(x);
    if (!/^\d{1,3}$/.test(x) || v > 255) return null;
    n = n * 256 + v;
  }
  return n >>> 0;
}

export class MeshDiscovery extends EventTarget {
  readonly [peerDiscoverySymbol] = this as unknown as PeerDiscovery;
  readonly [Symbol.toStringTag] = 'x0tta6bl4/mesh-discovery';
  readonly service: string;
  private socket: Socket | null = null;
  private subnets: Subnet[] = [];
  private joined: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private answerTimer: NodeJS.Timeout | null = null;
  private lastAnswer = 0;
  private lastForeignQuery = 0;
  private readonly queryId = randomInt(1, 0xffff);
  private readonly found = new Map<string, DiscoveredPeer & { reported: number }>();
  private readonly stats: DiscoveryStatus;

  constructor(private readonly options: MeshDiscoveryOptions) {
    super();
    this.service = serviceName(options.fleet);
    this.stats = {
      ifname: options.ifname,
      address: null,
      state: 'stopped',
      reason: 'not started',
      service: this.service,
      announcing: [],
      queriesSent: 0,
      queriesSuppressed: 0,
      answersSent: 0,
      packetsReceived: 0,
      ignored: {},
      peersFound: 0,
      peers: [],
    };
  }

  status(): DiscoveryStatus {
    const announcing = this.joined && this.socket ? this.ownAddresses() : [];
    return { ...this.stats, announcing, ignored: { ...this.stats.ignored }, peers: [...this.found.values()].map(({ peerId, addrs, lastSeen }) => ({ peerId, addrs, lastSeen })) };
  }

  /** libp2p Startable: binds the socket. Never throws: discovery is optional, the node runs on without it. */
  async start(): Promise<void> {
    if (this.socket) return;
    const s = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = s;
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(this.options.port, () => {
          s.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.setState('down', `cannot bind UDP port ${this.options.port}: ${(e as Error).message}`);
      s.close();
      this.socket = null;
      return;
    }
    s.on('error', (e) => this.options.log.debug(`mDNS socket: ${e.message}`));
    s.on('message', (msg, rinfo) => this.onPacket(msg, rinfo));
    s.setMulticastTTL(255); // RFC 6762 11: receivers may check it, and it never leaves the link anyway
    s.setMulticastLoopback(true); // other agents on this host (tests) hear us; our own packets are recognised
  }

  /** libp2p Startable: the transports listen now, so there is something to announce. */
  async afterStart(): Promise<void> {
    if (!this.socket) return;
    this.tick(true);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.timer = this.answerTimer = null;
    const s = this.socket;
    this.socket = null;
    this.joined = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    this.setState('stopped', 'stopped');
  }

  private setState(state: DiscoveryStatus['state'], reason: string): void {
    if (this.stats.state !== state || this.stats.reason !== reason) {
      if (state === 'down' || state === 'waiting') this.options.log.warn(`mDNS on ${this.options.ifname}: ${reason}`);
      else if (state === 'running') this.options.log.info(`mDNS on ${this.options.ifname}: ${reason}`);
    }
    this.stats.state = state;
    this.stats.reason = reason;
  }

  /** Follows the interface's address (it may come up, change or vanish), then asks the link. */
  private tick(first = false): void {
    if (!this.socket) return;
    this.refreshInterface();
    if (this.joined) {
      // A start always asks: a new node must not wait for others' periods.
      if (!first && Date.now() - this.lastForeignQuery < this.options.intervalMs * 0.8) this.stats.queriesSuppressed++;
      else {
        this.send(encodeQuery(this.queryId, this.service), 'query');
        // Nobody answers their own question: the asker announces itself with it, so that the
        // others keep hearing from it (and a node that just came up is known at once).
        if (first || Date.now() - this.lastAnswer > this.options.intervalMs / 2) this.answer();
      }
    }
    // ±10 % so that routers booted together do not ask in lockstep.
    const next = this.options.intervalMs * (0.9 + Math.random() * 0.2);
    this.timer = setTimeout(() => this.tick(), next);
    this.timer.unref();
  }

  private refreshInterface(): void {
    const s = this.socket!;
    const list = (networkInterfaces()[this.options.ifname] ?? []).filter((a) => a.family === 'IPv4');
    this.subnets = list.flatMap((a) => {
      const addr = ipv4(a.address);
      const mask = ipv4(a.netmask);
      return addr === null || mask === null ? [] : [{ addr, mask, text: a.address }];
    });
    const want = this.subnets[0]?.text ?? null;
    if (want !== null && want === this.joined) return;
    if (this.joined) {
      try {
        s.dropMembership(GROUP, this.joined);
      } catch {
        /* the address is gone with the interface */
      }
      this.joined = null;
    }
    this.stats.address = want;
    if (!want) {
      this.setState('waiting', `${this.options.ifname} has no IPv4 address (a bridged mesh interface: set federation.mdns_interface to the bridge)`);
      return;
    }
    try {
      s.addMembership(GROUP, want);
      s.setMulticastInterface(want);
      this.joined = want;
      this.setState('running', `service ${this.service} on ${want}`);
    } catch (e) {
      this.setState('waiting', `cannot join ${GROUP} on ${this.options.ifname} (${want}): ${(e as Error).message}`);
    }
  }

  private send(packet: Buffer, kind: 'query' | 'answer'): void {
    this.socket?.send(packet, this.options.port, GROUP, (err) => {
      if (err) this.options.log.debug(`mDNS ${kind} on ${this.options.ifname}: ${err.message}`);
    });
    if (kind === 'query') this.stats.queriesSent++;
    else this.stats.answersSent++;
  }

  private ignore(reason: string): void {
    this.stats.ignored[reason] = (this.stats.ignored[reason] ?? 0) + 1;
  }

  private onLink(address: string): boolean {
    const a = ipv4(address);
    return a !== null && this.subnets.some((s) => ((a & s.mask) >>> 0) === ((s.addr & s.mask) >>> 0));
  }

  private onPacket(msg: Buffer, rinfo: RemoteInfo): void {
    this.stats.packetsReceived++;
    if (!this.joined) return this.ignore('not_joined');
    if (msg.length > MAX_PACKET) return this.ignore('oversize');
    // Cheapest check first: a packet from another interface's network is never parsed.
    if (!this.onLink(rinfo.address)) return this.ignore('foreign');
    let p: MdnsPacket;
    try {
      p = decodePacket(msg);
    } catch (e) {
      if (!(e instanceof MdnsPacketError)) throw e;
      return this.ignore('malformed');
    }
    if (p.response) this.onResponse(p);
    else this.onQuery(p, rinfo);
  }

  private onQuery(p: MdnsPacket, rinfo: RemoteInfo): void {
    const svc = this.service;
    if (!p.questions.some((q) => (q.type === TYPE_PTR || q.type === 255) && q.name.toLowerCase() === svc)) return this.ignore('other_service');
    if (p.id === this.queryId && this.subnets.some((s) => s.text === rinfo.address)) return this.ignore('self');
    this.lastForeignQuery = Date.now();
    const wait = this.lastAnswer + ANSWER_GAP_MS - Date.now();
    if (wait <= 0) this.answer();
    else if (!this.answerTimer) {
      this.answerTimer = setTimeout(() => {
        this.answerTimer = null;
        this.answer();
      }, wait);
      this.answerTimer.unref();
    }
  }

  /** Our addresses on the mesh interface only: never a LAN, WAN or loopback address. */
  private ownAddresses(): string[] {
    const mine = new Set(this.subnets.map((s) => s.text));
    const out: string[] = [];
    for (const ma of this.options.addresses()) {
      let s = ma.toString();
      const m = /^\/ip4\/([\d.]+)\/tcp\/\d+(\/p2p\/[A-Za-z0-9]+)?$/.exec(s);
      if (!m || !mine.has(m[1]!)) continue;
      if (!m[2]) s += `/p2p/${this.options.peerId}`;
      if (!out.includes(s)) out.push(s);
    }
    return out.slice(0, MAX_ADDRS);
  }

  private answer(): void {
    if (!this.joined) return;
    const addrs = this.ownAddresses();
    if (!addrs.length) {
      this.options.log.debug(`mDNS: no listen address on ${this.options.ifname} (${this.joined}) to announce`);
      return;
    }
    this.lastAnswer = Date.now();
    this.send(encodeResponse(this.service, `${this.options.peerId}.${this.service}`, addrs.map((a) => `dnsaddr=${a}`)), 'answer');
  }

  private onResponse(p: MdnsPacket): void {
    const suffix = `.${this.service}`;
    let ours = false;
    for (const r of p.records) {
      if (r.type !== TYPE_TXT || !Array.isArray(r.data) || !r.name.toLowerCase().endsWith(suffix)) continue;
      ours = true;
      const instance = r.name.slice(0, -suffix.length);
      if (instance === this.options.peerId) {
        this.ignore('self');
        continue;
      }
      const addrs: string[] = [];
      for (const t of r.data) {
        const m = DNSADDR.exec(t);
        // Every address must name the instance's own peer id and lie on the mesh: an answer
        // cannot send us dialling elsewhere.
        if (m && m[3] === instance && this.onLink(m[2]!) && addrs.length < MAX_ADDRS && !addrs.includes(m[1]!)) addrs.push(m[1]!);
      }
      if (!addrs.length) {
        this.ignore('no_address');
        continue;
      }
      let id: PeerId;
      let mas: Multiaddr[];
      try {
        id = peerIdFromString(instance);
        mas = addrs.map((a) => multiaddr(a));
      } catch {
        this.ignore('malformed');
        continue;
      }
      this.report(instance, id, addrs, mas);
    }
    if (!ours) this.ignore('other_service');
  }

  private report(key: string, id: PeerId, addrs: string[], mas: Multiaddr[]): void {
    const now = Date.now();
    const old = this.found.get(key);
    if (old) this.found.delete(key); // re-insert: the map stays in last-seen order
    else {
      this.stats.peersFound++;
      if (this.found.size >= MAX_PEERS) this.found.delete(this.found.keys().next().value!);
    }
    const reported = old && now - old.reported < REPORT_GAP_MS && old.addrs.join() === addrs.join() ? old.reported : now;
    this.found.set(key, { peerId: key, addrs, lastSeen: now, reported });
    if (reported === now) this.dispatchEvent(new CustomEvent('peer', { detail: { id, multiaddrs: mas } }));
  }
}
