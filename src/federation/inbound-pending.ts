// Fair shares of the inbound connections that are not admitted yet (TCP accepted, but the noise
// handshake, muxer negotiation or certificate exchange has not finished). libp2p's own cap
// (maxIncomingPendingConnections) is global: one address holding half-open connections fills it
// and every other peer is refused until they time out — a certified peer took ~24 s to get in
// during a 300-connection flood from one address (issue 14). Here one source (an IPv4 address,
// an IPv6 /64) holds at most `perSource`; when all `total` are taken, a newcomer from a source
// holding fewer than the biggest holder displaces that holder's oldest connection (max-min
// fairness), so a flood from a few addresses never locks out the others.
import type { MultiaddrConnection, MultiaddrConnectionTimeline } from '@libp2p/interface';

interface Pending {
  source: string;
  // The connection's own timeline object: the upgrader later wraps maConn.timeline in a Proxy
  // that writes through to it, so `upgraded` and `close` show up here.
  timeline: MultiaddrConnectionTimeline;
  peer?: string;
  abort(err: Error): void;
}

export interface InboundPendingOptions {
  /** Unadmitted inbound connections held at once, all sources together. */
  total: number;
  /** Of those, from one source. */
  perSource: number;
  /** Whether the peer a connection authenticated as has been admitted; without it, upgraded is done. */
  admitted?(peerId: string): boolean;
}

export class InboundPending {
  // Oldest first; never longer than `total`, so memory stays a few hundred bytes.
  private pending: Pending[] = [];
  refused = 0;
  displaced = 0;

  constructor(private readonly options: InboundPendingOptions) {}

  /** A new inbound TCP connection: true if it must be refused. May abort an older one to make room. */
  refuse(maConn: Pick<MultiaddrConnection, 'remoteAddr' | 'timeline' | 'abort'>): boolean {
    this.prune();
    const source = sourceOf(maConn);
    const counts = this.counts();
    const mine = counts.get(source) ?? 0;
    if (mine >= this.options.perSource) return this.refuseNewest();
    if (this.pending.length >= this.options.total) {
      let biggest: string | undefined;
      for (const [s, n] of counts) if (biggest === undefined || n > counts.get(biggest)!) biggest = s;
      // Only from a source with at least two more: taking one from a source with one more would
      // just swap the roles and let two sources displace each other back and forth.
      if (biggest === undefined || counts.get(biggest)! <= mine + 1) return this.refuseNewest();
      const i = this.pending.findIndex((p) => p.source === biggest);
      const [old] = this.pending.splice(i, 1);
      this.displaced++;
      old!.abort(new Error(`inbound connection from ${biggest} displaced: ${counts.get(biggest)} unadmitted connections from there, ${mine} from ${source}`));
    }
    this.pending.push({ source, timeline: maConn.timeline, abort: (e) => maConn.abort(e) });
    return false;
  }

  /** The noise handshake of a connection named its peer; it stays pending until that peer is admitted. */
  identified(maConn: Pick<MultiaddrConnection, 'timeline'>, peerId: string): void {
    const p = this.pending.find((x) => x.timeline === maConn.timeline);
    if (p) p.peer = peerId;
  }

  /** Unadmitted inbound connections per source (for tests and diagnostics). */
  counts(): Map<string, number> {
    this.prune();
    const m = new Map<string, number>();
    for (const p of this.pending) m.set(p.source, (m.get(p.source) ?? 0) + 1);
    return m;
  }

  private refuseNewest(): boolean {
    this.refused++;
    return true;
  }

  private prune(): void {
    const admitted = this.options.admitted;
    this.pending = this.pending.filter((p) => {
      if (p.timeline.close !== undefined) return false;
      if (p.timeline.upgraded === undefined) return true;
      return admitted !== undefined && !(p.peer !== undefined && admitted(p.peer));
    });
  }
}

/** The source a connection counts against: the IPv4 address, or the /64 of an IPv6 one (one host's usual share). */
export function sourceOf(maConn: Pick<MultiaddrConnection, 'remoteAddr'>): string {
  let address: string;
  try {
    address = maConn.remoteAddr.nodeAddress().address;
  } catch {
    return maConn.remoteAddr.toString();
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const g = expand6(address);
  // An IPv4 peer on a dual-stack listener, written in hex (::ffff:a00:3).
  if (g.slice(0, 5).every((x) => x === '0') && g[5] === 'ffff') {
    const n = (parseInt(g[6]!, 16) << 16) | parseInt(g[7]!, 16);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  return `${g.slice(0, 4).join(':')}::/64`;
}

function expand6(a: string): string[] {
  const [head, tail] = a.split('%')[0]!.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0');
  return [...h, ...fill, ...t].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}
