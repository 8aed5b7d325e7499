// Link echo: a tiny UDP echo between neighbouring agents over IPv6 link-local addresses on the
// batman-adv hard interfaces, so that one link (not a route through the mesh) is asked whether
// it still carries frames. It is sent only when a link's traffic falls silent (and once in a
// while to learn which neighbours answer), so it costs next to no airtime, and it answers in
// a quarter of a second what a 1 s OGM interval answers in two.
//
// Wire format, 16 bytes: "X0E" · type (1 request, 2 reply) · 4 reserved bytes · 8-byte nonce.
// Anything else is ignored, and so are requests from beyond the link (not link-local). Replies
// go to the request's source only, one per request, at most REPLIES_PER_S a second: the echo can
// amplify nothing.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';

const MAGIC = Buffer.from('X0E', 'latin1');
const REQUEST = 1;
const REPLY = 2;
/** "I hear nothing from you": a neighbour that heard our link go silent tells us, over the way that may still work. */
const DEAF = 3;
/** Notices per telling: each may be lost on its own on a lossy way. */
const DEAF_COPIES = 3;
const SIZE = 16;
/** A neighbour's agent answers this many requests a second at most. */
export const REPLIES_PER_S = 100;

/** Requests per probe, their spacing, and how long after the last one a reply still counts. */
export interface ProbeTiming {
  count: number;
  spacingMs: number;
  waitMs: number;
}
/** Four tries: on a link losing 10 % each way all four go unanswered about once in 700 probes. */
export const DEFAULT_PROBE: ProbeTiming = { count: 4, spacingMs: 40, waitMs: 150 };
/** A delivery measurement: 20 requests over about a second, enough to tell 70 % from 95 %. */
export const DEFAULT_MEASURE: ProbeTiming = { count: 20, spacingMs: 50, waitMs: 200 };

/** Requests from one address within MEASURE_BURST_MS that make a measurement, not a probe (4) or a keepalive. */
export const MEASURE_BURST = 8;
export const MEASURE_BURST_MS = 1500;

/** The interface and MAC of a modified-EUI-64 link-local address (fe80::…:xxff:fexx:…%ifname); null for any other address. */
export function macOfLinkLocal(address: string): { ifname: string; mac: string } | null {
  const m = /^fe80::([0-9a-f:]+)%([A-Za-z0-9_.-]{1,15})$/i.exec(address);
  if (!m) return null;
  const groups = m[1]!.split(':');
  if (groups.length > 4 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  const words = [...Array(4 - groups.length).fill('0'), ...groups].map((g) => parseInt(g, 16));
  const b = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (b[3] !== 0xff || b[4] !== 0xfe) return null;
  const mac = [b[0]! ^ 0x02, b[1]!, b[2]!, b[5]!, b[6]!, b[7]!].map((x) => x.toString(16).padStart(2, '0')).join(':');
  return { ifname: m[2]!, mac };
}

/** fe80:: address of a MAC by modified EUI-64 (RFC 4291 appendix A), as Linux forms it by default; null for a malformed MAC. */
export function linkLocalOf(mac: string): string | null {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(mac);
  if (!m) return null;
  const b = m.slice(1).map((h) => parseInt(h, 16));
  b[0]! ^= 0x02;
  const words = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | 0xff, (0xfe << 8) | b[3]!, (b[4]! << 8) | b[5]!];
  // The URL parser writes IPv6 in its canonical (RFC 5952) form.
  return new URL(`http://[fe80:0:0:0:${words.map((w) => w.toString(16)).join(':')}]/`).hostname.slice(1, -1);
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
/** Whether a request from `address` is answered: fe80::/10 (with its scope), or the loopback (tests; nothing from outside can be it). */
export function answersFrom(address: string): boolean {
  return /^(fe[89ab][0-9a-f]:[0-9a-f:]*(%[^%]+)?|::1)$/i.test(address);
}

function packet(type: number, nonce: Buffer): Buffer {
  const p = Buffer.alloc(SIZE);
  MAGIC.copy(p, 0);
  p[3] = type;
  nonce.copy(p, 8);
  return p;
}

export interface LinkEchoOptions {
  port: number;
  /**
   * A neighbour is measuring this link (MEASURE_BURST requests within MEASURE_BURST_MS from one
   * address): it suspects the link, and this end may want to measure it too. Called with the
   * asker's address (fe80::…%ifname; macOfLinkLocal reads it), at most once per burst.
   */
  onMeasured?: (address: string) => void;
  /** A neighbour says it hears nothing from us (tellDeaf): called with its address (fe80::…%ifname), at most once a second per address. */
  onDeaf?: (address: string) => void;
  /** The port neighbours answer on (default: port, as every agent uses the same; tests run two). */
  peerPort?: number;
  /** Where requests go: the neighbour's link-local address by default (tests pass ::1). */
  addressOf?: (ifname: string, mac: string) => string | null;
  now?: () => number;
}

/**
 * One UDP socket that answers neighbours' requests and sends this agent's own. probe() says
 * true (an answer came), false (none came: the link or the neighbour is gone) or null (it could
 * not be asked: no address, no route, the socket is closed), which callers must treat as
 * "unknown", never as dead.
 */
export class LinkEcho {
  private socket: dgram.Socket | null = null;
  private readonly waiting = new Map<string, () => void>();
  private readonly now: () => number;
  private budget = REPLIES_PER_S;
  private budgetAt = 0;
  private readonly askers = new Map<string, { since: number; count: number }>();
  private readonly deafFrom = new Map<string, number>();
  /** Datagrams ignored as malformed, and replies withheld by the rate limit. */
  readonly stats = { ignored: 0, limited: 0, answered: 0 };

  constructor(private readonly opts: LinkEchoOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Binds [::]:port; rejects with the reason (port taken, no IPv6) and leaves nothing open. */
  async start(): Promise<void> {
    if (this.socket) return;
    const s = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.opts.port, '::', () => {
        s.off('error', reject);
        resolve();
      });
    }).catch((e: unknown) => {
      s.close();
      throw new Error(`link echo: cannot bind UDP port ${this.opts.port}: ${(e as Error).message}`);
    });
    // A send that fails later (ICMP errors on this unconnected socket) must not kill the agent.
    s.on('error', () => {});
    s.on('message', (m, r) => this.receive(m, r.address, r.port));
    this.socket = s;
  }

  /** Counts requests per asker; a burst is a measurement (see onMeasured). Bounded: old askers are forgotten. */
  private noteAsker(address: string, now: number): void {
    if (!this.opts.onMeasured) return;
    const a = this.askers.get(address);
    if (!a || now - a.since > MEASURE_BURST_MS) {
      if (this.askers.size >= 64) for (const [k, v] of this.askers) if (now - v.since > MEASURE_BURST_MS) this.askers.delete(k);
      if (this.askers.size < 64) this.askers.set(address, { since: now, count: 1 });
      return;
    }
    if (++a.count === MEASURE_BURST) this.opts.onMeasured(address);
  }

  /** One callback per address and second: a neighbour's copies (or a flood) make one. Bounded like the askers. */
  private noteDeaf(address: string): void {
    const now = this.now();
    const last = this.deafFrom.get(address);
    if (!this.opts.onDeaf || (last !== undefined && now - last < 1000)) return;
    if (this.deafFrom.size >= 64) for (const [k, at] of this.deafFrom) if (now - at >= 1000) this.deafFrom.delete(k);
    if (this.deafFrom.size >= 64) return;
    this.deafFrom.set(address, now);
    this.opts.onDeaf(address);
  }

  /** The neighbour's link-local address with its scope (fe80::…%ifname); null for a bad name or MAC. */
  private addressOf(ifname: string, mac: string): string | null {
    if (!IFNAME.test(ifname)) return null;
    return (this.opts.addressOf ?? ((i, m) => { const a = linkLocalOf(m); return a && `${a}%${i}`; }))(ifname, mac) || null;
  }

  /** Tells the neighbour `mac` on `ifname` that nothing from it arrives here (no answer expected). */
  tellDeaf(ifname: string, mac: string): void {
    const s = this.socket;
    const ll = this.addressOf(ifname, mac);
    if (!s || !ll) return;
    for (let i = 0; i < DEAF_COPIES; i++) s.send(packet(DEAF, randomBytes(8)), this.opts.peerPort ?? this.opts.port, ll, () => {});
  }

  stop(): void {
    this.socket?.close();
    this.socket = null;
    for (const done of this.waiting.values()) done();
    this.waiting.clear();
  }

  private receive(m: Buffer, address: string, port: number): void {
    if (m.length !== SIZE || !m.subarray(0, 3).equals(MAGIC)) {
      this.stats.ignored++;
      return;
    }
    const nonce = m.subarray(8).toString('hex');
    if (m[3] === REPLY) {
      this.waiting.get(nonce)?.();
      return;
    }
    if (m[3] === DEAF && answersFrom(address)) {
      this.noteDeaf(address);
      return;
    }
    // Only neighbours ask, from their link-local addresses: nothing beyond the link (a WAN
    // whose firewall lets the port through) gets an answer.
    if (m[3] !== REQUEST || !answersFrom(address)) {
      this.stats.ignored++;
      return;
    }
    const now = this.now();
    this.budget = Math.min(REPLIES_PER_S, this.budget + ((now - this.budgetAt) * REPLIES_PER_S) / 1000);
    this.budgetAt = now;
    if (this.budget < 1) {
      this.stats.limited++;
      return;
    }
    this.budget--;
    this.stats.answered++;
    this.noteAsker(address, now);
    this.socket?.send(packet(REPLY, m.subarray(8)), port, address, () => {});
  }

  /** Asks the neighbour `mac` on `ifname` whether the link carries frames (see the class comment). */
  async probe(ifname: string, mac: string, timing: ProbeTiming = DEFAULT_PROBE): Promise<boolean | null> {
    const r = await this.ask(ifname, mac, timing, true);
    return r === null ? null : r.answered > 0;
  }

  /**
   * The share of `timing.count` requests answered: the link's delivery there and back, measured
   * (ETX's figure). null when it could not be asked.
   */
  async measure(ifname: string, mac: string, timing: ProbeTiming = DEFAULT_MEASURE): Promise<number | null> {
    const r = await this.ask(ifname, mac, timing, false);
    return r === null ? null : Math.min(1, r.answered / r.sent);
  }

  private async ask(ifname: string, mac: string, timing: ProbeTiming, firstAnswerEnds: boolean): Promise<{ sent: number; answered: number } | null> {
    const s = this.socket;
    const ll = this.addressOf(ifname, mac);
    if (!s || !ll) return null;
    const nonces = Array.from({ length: timing.count }, () => randomBytes(8));
    let sent = 0;
    let failed = 0;
    let answered = 0;
    return new Promise((resolve) => {
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (ended: boolean) => {
        if (settled) return;
        settled = true;
        timers.forEach(clearTimeout);
        for (const n of nonces) this.waiting.delete(n.toString('hex'));
        resolve(ended || sent === 0 || !this.socket ? null : { sent, answered });
      };
      for (const n of nonces) {
        const key = n.toString('hex');
        this.waiting.set(key, () => {
          this.waiting.delete(key);
          answered++;
          if (!this.socket) finish(true);
          else if (firstAnswerEnds) finish(false);
        });
      }
      nonces.forEach((n, i) => {
        timers.push(setTimeout(() => {
          s.send(packet(REQUEST, n), this.opts.peerPort ?? this.opts.port, ll, (e) => {
            if (e) failed++;
            else sent++;
            if (failed === timing.count) finish(true);
          });
        }, i * timing.spacingMs));
      });
      timers.push(setTimeout(() => finish(false), (timing.count - 1) * timing.spacingMs + timing.waitMs));
    });
  }
}
