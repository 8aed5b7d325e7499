/*
 * BATMAN_IV as the kernel runs it (net/batman-adv/bat_iv_ogm.c, originator.c), frame by frame,
 * on virtual time. What is modelled, with the kernel's constants:
 *
 * - Every active hard interface schedules its own OGM every orig_interval - 20 + rand(40) ms
 *   (BATADV_JITTER 20) with its own sequence number. The primary interface's OGM (TTL 50, carries
 *   the gateway TVLV) goes out on all interfaces; a secondary interface's OGM (TTL 2) only on its
 *   own. Originators are interface MACs, so a dual-band node shows up as its primary MAC (whole
 *   mesh) and its secondary MAC (one or two hops), as in `batctl o`.
 * - Link quality per (receiving interface, sending interface), from two 64-OGM windows
 *   (TQ_LOCAL_WINDOW_SIZE): rq = own OGMs of the neighbour received directly; eq = our own OGMs
 *   that the neighbour echoed back with the DIRECTLINK flag. calc_tq:
 *     tq_own = 255*min(eq,rq)/rq; asym = 255 - 255*(64-rq)^3/64^3; iface = 255 - hardif hop_penalty
 *     (and once more x(255-hop_penalty)/255 when forwarding out of the receiving interface, which
 *     the kernel does for wifi interfaces: all simulated interfaces are wifi);
 *     tq = tq_ogm * tq_own * asym * iface / 255^3, integer arithmetic as in C.
 *   Forwarding multiplies by (255 - hop_penalty)/255 (mesh-wide hop_penalty of the forwarder).
 * - Per (originator, neighbour) a ring of the last 5 TQs (TQ_GLOBAL_WINDOW_SIZE); a new sequence
 *   number pushes 0 into the other neighbours' rings; the average ignores zeros (as the kernel's
 *   ring_buffer_avg does). Router switch only when the new neighbour's average is higher (or equal
 *   and its echo count is higher). Duplicates of the same seqno with similar TTL also update.
 * - Purge every second: a neighbour entry after 200 s without OGMs through it (PURGE_TIMEOUT) or
 *   when its interface went down, an originator after 400 s; then the best neighbour is re-chosen.
 * - Forwarding: a single-hop neighbour's OGM is always rebroadcast (with NOT_BEST_NEXT_HOP when it
 *   did not come from the best next hop, so only the originator uses it, as an echo); others only
 *   when they came from the best next hop and the link is bidirectional; loop and echo filters.
 *
 * Simplifications (stated, deliberate):
 * - A flood is instantaneous: all copies of one OGM are processed at its send time, in hop order
 *   (breadth first), so "first copy" = fewest hops. No forwarding delay, no aggregation delay.
 * - The kernel keeps one routing table per outgoing interface. Here only the default table (the
 *   one the netlink dump shows) is kept with the kernel's hysteresis; the per-outgoing-interface
 *   router used to decide forwarding is the best default-table average after applying the
 *   same-interface penalty, evaluated once per OGM per node before its first copy is processed.
 * - NEIGH_DUP (one neighbour sending the same seqno twice) and seqno-reset protection do not occur.
 * - OGM aggregation only affects packet counters (forwarded OGMs share frames of up to 512 bytes,
 *   flushed every link tick); TT, DAT, BLA, multicast and fragmentation are not simulated.
 * - Interface error counters: a frame lost on a live link (p > 0) reaches the receiver's rx_errors
 *   with probability RX_ERROR_SHARE (heard but undecodable, an FCS/PHY error, as drivers that
 *   report them count it; the rest are never heard; a dead link is silence), so lossy and
 *   degrading links raise the receiving
 *   interface's error rate in step with their loss. A hung radio counts every frame the stack
 *   hands it in tx_errors (the tx timeouts of a stuck queue) while its packet counters stay
 *   frozen. These draws come from their own generator (seeded from the world seed), so the
 *   protocol's random sequence — and every table a seed produced before — is unchanged.
 */
import type { Fabric } from './fabric.ts';
import { Prng } from './prng.ts';
import type { NodeSettings } from './node-settings.ts';

export const TQ_MAX = 255;
export const LOCAL_WINDOW = 64;
export const GLOBAL_WINDOW = 5;
export const JITTER_MS = 20;
export const PURGE_TIMEOUT_MS = 200_000;
export const ORIG_TIMEOUT_MS = 2 * PURGE_TIMEOUT_MS;
export const PRIMARY_TTL = 50;
export const SECONDARY_TTL = 2;

const DIRECTLINK = 0x02;
const NOT_BEST_NEXT_HOP = 0x01;
const TQ_CUBE = TQ_MAX * TQ_MAX * TQ_MAX;
const WINDOW_CUBE = LOCAL_WINDOW * LOCAL_WINDOW * LOCAL_WINDOW;
const ETH_HLEN = 14;
const OGM_HLEN = 24;
const TT_TVLV_LEN = 16;
const GW_TVLV_LEN = 12;
const MAX_AGGREGATION_BYTES = 512;
/** A duplicate seqno still updates the ranking when its TTL is at most this much below the first copy's (the kernel's last_ttl - 3). */
const DUP_TTL_SLACK = 3;
/** Share of lost frames that the receiver hears but cannot decode (counted in rx_errors). */
export const RX_ERROR_SHARE = 0.4;
const WHEEL_SLOTS = 512;

// Entry record (12 bytes): ring[0..4], ring index, TQ average, flags; u32 last seen (ms mod 2^32).
const ENT_BYTES = 12;
const ENT_IDX = 5;
const ENT_AVG = 6;
const ENT_FLAGS = 7;
const ENT_PRESENT = 1;
const ENT_IN_WHEEL = 2;
// Entry record as u32 words: word 2 is the last seen time.
const ENT_WORDS = ENT_BYTES / 4;
const ENT_LAST_SEEN = 2;
// Originator record (32 bytes): f64 last seqno, f64 last seen, i32 router, u32 gw down, u32 gw up,
// u8 exists, u8 has-seqno, u8 last TTL, u8 in-wheel. Each field is read through the view of its
// type, so the offsets below are in units of that view (f64, 32-bit word or byte).
const RO_BYTES = 32;
const RO_F64S = RO_BYTES / 8;
const RO_WORDS = RO_BYTES / 4;
const RO_SEQNO = 0; // f64: last sequence number
const RO_LAST_SEEN = 1; // f64: when the originator was last heard (ms)
const RO_ROUTER = 4; // i32: the directed link d of the chosen router, -1 for none
const RO_GW_DOWN = 5; // u32: advertised gateway bandwidth down
const RO_GW_UP = 6; // u32: advertised gateway bandwidth up
const RO_EXISTS = 28; // u8: 1 while the originator is in the table
const RO_HAS_SEQNO = 29; // u8: 1 once a sequence number was seen
const RO_LAST_TTL = 30; // u8: TTL of the last accepted OGM
const RO_IN_WHEEL = 31; // u8: 1 while queued on the purge wheel

export class BatmanIv {
  private readonly fabric: Fabric;
  private readonly N: number;
  private readonly K: number;
  private readonly H: number;
  now = 0;
  private nowU32 = 0;

  // Entries: neighbour (directed link) d's view of originator o at d's receiving node r, laid out
  // per node, then originator, then neighbour slot, so that all neighbours of one (r, o) share a
  // few cache lines: e = entBase[r] + o * deg[r] + slot(d).
  private readonly entBase: Int32Array;
  private readonly deg: Int32Array;
  /** entBase[r] + slot(d) for d's receiving node r, so entry(d, o) = dEntBase[d] + o * dDeg[d]. */
  private readonly dEntBase: Int32Array;
  private readonly dDeg: Int32Array;
  private readonly ent8: Uint8Array;
  private readonly ent32: Uint32Array;

  // Originators per node: ro = r * H + o.
  private readonly ro8: Uint8Array;
  private readonly ro32: Int32Array;
  private readonly roU32: Uint32Array;
  private readonly ro64: Float64Array;

  // Per directed link d: the two 64-OGM windows, and the hard-interface neighbour.
  private readonly recvBits: Uint8Array;
  private readonly recvHead: Uint8Array;
  readonly recvCount: Uint8Array;
  private readonly echoBits: Uint8Array;
  private readonly echoHead: Uint8Array;
  readonly echoCount: Uint8Array;
  readonly neighLastSeen: Float64Array;
  readonly neighRef: Int32Array;
  /** Cache, per d into r: does r route towards d's sender (as an originator)? Saves a cache miss per frame. */
  private readonly dSenderRouted: Uint8Array;
  /** Cache, per d: does the entry (d, d's sender) exist? */
  private readonly dSelfEntry: Uint8Array;

  // Per interface.
  readonly seqno: Float64Array;
  // Per node.
  readonly primary: Int32Array;
  readonly selectedGw: Int32Array;
  readonly nodeHopPenalty: Uint8Array;

  /** Set by the world: the link model's per-directed-link delivery probabilities. */
  linkProb: Float64Array = new Float64Array(0);

  // Flood scratch.
  private qSender = new Int32Array(1024);
  private qTq = new Int32Array(1024);
  private qTtl = new Int32Array(1024);
  private qFlags = new Int32Array(1024);
  private qPrev = new Int32Array(1024);
  private qFrameStart = new Uint8Array(1024);
  private readonly floodTag: Int32Array;
  private readonly scratchBest = new Int32Array(8);
  private readonly scratchAvg = new Int32Array(8);
  private readonly outRouter: Int32Array;
  private floodId = 0;
  private floodGwDown = 0;
  private floodGwUp = 0;
  private floodBytes = 0;

  private readonly wheel: number[][] = Array.from({ length: WHEEL_SLOTS }, () => []);
  private readonly pendingDown: number[] = [];
  /** (r, o) pairs whose neighbour set changed during a purge. */
  private readonly dirty: number[] = [];

  /** Draws for the error counters only (see the header): never touches the protocol's sequence. */
  private readonly errRng: Prng;

  constructor(
    fabric: Fabric,
    private readonly rng: Prng,
    private readonly settings: NodeSettings[],
    private readonly onGatewayChange: (node: number, gw: number) => void,
  ) {
    this.fabric = fabric;
    this.errRng = new Prng((fabric.seedWord ^ 0x5e77e770) >>> 0);
    const { N, K, H, D } = fabric;
    this.N = N;
    this.K = K;
    this.H = H;
    const E = D * H;
    this.entBase = new Int32Array(N + 1);
    this.deg = new Int32Array(N);
    this.dEntBase = new Int32Array(D);
    this.dDeg = new Int32Array(D);
    for (let r = 0; r < N; r++) {
      const start = fabric.nodeInStart[r]!;
      const deg = fabric.nodeInStart[r + 1]! - start;
      this.deg[r] = deg;
      this.entBase[r] = H * start;
      for (let slot = 0; slot < deg; slot++) {
        const d = fabric.nodeInList[start + slot]!;
        this.dEntBase[d] = H * start + slot;
        this.dDeg[d] = deg;
      }
    }
    this.entBase[N] = E;
    const entBuf = new ArrayBuffer(E * ENT_BYTES);
    this.ent8 = new Uint8Array(entBuf);
    this.ent32 = new Uint32Array(entBuf);
    const roBuf = new ArrayBuffer(N * H * RO_BYTES);
    this.ro8 = new Uint8Array(roBuf);
    this.ro32 = new Int32Array(roBuf);
    this.roU32 = new Uint32Array(roBuf);
    this.ro64 = new Float64Array(roBuf);
    for (let ro = 0; ro < N * H; ro++) this.ro32[ro * RO_WORDS + RO_ROUTER] = -1;
    this.recvBits = new Uint8Array(D * LOCAL_WINDOW);
    this.recvHead = new Uint8Array(D);
    this.recvCount = new Uint8Array(D);
    this.echoBits = new Uint8Array(D * LOCAL_WINDOW);
    this.echoHead = new Uint8Array(D);
    this.echoCount = new Uint8Array(D);
    this.neighLastSeen = new Float64Array(D);
    this.neighRef = new Int32Array(D);
    this.dSenderRouted = new Uint8Array(D);
    this.dSelfEntry = new Uint8Array(D);
    this.seqno = new Float64Array(H);
    // Random initial seqnos, as batadv_iv_ogm_iface_enable does (kept below 2^31: no wrap in a run).
    for (let h = 0; h < H; h++) this.seqno[h] = rng.int(0x7fffffff);
    this.primary = new Int32Array(N);
    for (let n = 0; n < N; n++) this.primary[n] = n * K;
    this.selectedGw = new Int32Array(N).fill(-1);
    this.nodeHopPenalty = new Uint8Array(N);
    for (let n = 0; n < N; n++) this.nodeHopPenalty[n] = settings[n]!.hopPenalty;
    this.floodTag = new Int32Array(N).fill(-1);
    this.outRouter = new Int32Array(N * K).fill(-1);
  }

  setNow(t: number): void {
    this.now = t;
    this.nowU32 = Math.floor(t) >>> 0;
  }

  // ---- read access for the netlink-like dumps ---------------------------------------------

  /** Index of neighbour d's entry for originator o. */
  entry(d: number, o: number): number {
    return this.dEntBase[d]! + o * this.dDeg[d]!;
  }

  entryPresent(e: number): boolean {
    return (this.ent8[e * ENT_BYTES + ENT_FLAGS]! & ENT_PRESENT) !== 0;
  }

  entryTq(e: number): number {
    return this.ent8[e * ENT_BYTES + ENT_AVG]!;
  }

  origExists(ro: number): boolean {
    return this.ro8[ro * RO_BYTES + RO_EXISTS] === 1;
  }

  /** The directed link currently used as router towards ro's originator, or -1. */
  origRouter(ro: number): number {
    return this.ro32[ro * RO_WORDS + RO_ROUTER]!;
  }

  origLastSeen(ro: number): number {
    return this.ro64[ro * RO_F64S + RO_LAST_SEEN]!;
  }

  /** Announced gateway bandwidth, batman-adv units (100 kbit/s); 0 = not a gateway. */
  gwDown(ro: number): number {
    return this.roU32[ro * RO_WORDS + RO_GW_DOWN]!;
  }

  gwUp(ro: number): number {
    return this.roU32[ro * RO_WORDS + RO_GW_UP]!;
  }

  /** TQ average towards originator o at node r through its router (0 when there is none). */
  routerTq(r: number, o: number): number {
    const router = this.ro32[(r * this.H + o) * RO_WORDS + RO_ROUTER]!;
    return router < 0 ? 0 : this.ent8[this.entry(router, o) * ENT_BYTES + ENT_AVG]!;
  }

  // ---- OGM origination and flooding -------------------------------------------------------

  /** Delay until interface h's next OGM: orig_interval - JITTER + rand(2 * JITTER). */
  nextEmitDelay(h: number): number {
    const interval = this.settings[Math.floor(h / this.K)]!.origIntervalMs;
    return interval - JITTER_MS + this.rng.int(2 * JITTER_MS);
  }

  /** Interface h schedules and sends its own OGM (batadv_iv_ogm_schedule + emit). */
  emit(h: number): void {
    const f = this.fabric;
    const K = this.K;
    const n = Math.floor(h / K);
    const q = ++this.seqno[h]!;
    // The echo window of this interface slides with every own OGM (slide_own_bcast_window).
    for (let i = f.inStart[h]!, end = f.inStart[h + 1]!; i < end; i++) this.slideEcho(f.inList[i]!);
    if (!f.adminUp[h]) return;
    if (this.primary[n]! < 0) this.primary[n] = h;
    const isPrimary = this.primary[n] === h;
    const s = this.settings[n]!;
    const isServer = isPrimary && s.gwMode === 'server';
    this.floodGwDown = isServer ? Math.floor(s.gwBandwidthDownKbps / 100) : 0;
    this.floodGwUp = isServer ? Math.floor(s.gwBandwidthUpKbps / 100) : 0;
    this.floodBytes = ETH_HLEN + OGM_HLEN + (isPrimary ? TT_TVLV_LEN + (isServer ? GW_TVLV_LEN : 0) : 0);
    this.floodId++;
    let len = 0;
    if (isPrimary) {
      for (let k = 0; k < K; k++) {
        const x = n * K + k;
        if (!f.adminUp[x]) continue;
        len = this.enqueue(len, x, TQ_MAX, PRIMARY_TTL, 0, h, 1);
      }
    } else {
      len = this.enqueue(len, h, TQ_MAX, SECONDARY_TTL, 0, h, 1);
    }
    this.flood(h, q, len);
  }

  private enqueue(len: number, x: number, tq: number, ttl: number, flags: number, prev: number, frameStart: number): number {
    if (len === this.qSender.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.qSender = grow(this.qSender);
      this.qTq = grow(this.qTq);
      this.qTtl = grow(this.qTtl);
      this.qFlags = grow(this.qFlags);
      this.qPrev = grow(this.qPrev);
      this.qFrameStart = grow(this.qFrameStart);
    }
    this.qSender[len] = x;
    this.qTq[len] = tq;
    this.qTtl[len] = ttl;
    this.qFlags[len] = flags;
    this.qPrev[len] = prev;
    this.qFrameStart[len] = frameStart;
    return len + 1;
  }

  /** Breadth first over transmissions: copies with fewer hops are processed first. */
  private flood(o: number, q: number, len: number): void {
    const f = this.fabric;
    const rng = this.rng;
    const adminUp = f.adminUp;
    const stuck = f.stuck;
    const prob = this.linkProb;
    const bytes = this.floodBytes;
    const c = f.counters;
    for (let qi = 0; qi < len; qi++) {
      const x = this.qSender[qi]!;
      if (!adminUp[x]) continue;
      const frame = this.qFrameStart[qi]!;
      if (stuck[x]) {
        c.txErrors[x]! += frame;
        continue;
      }
      c.txBytes[x]! += bytes;
      c.txPackets[x]! += frame;
      for (let i = f.outStart[x]!, end = f.outStart[x + 1]!; i < end; i++) {
        const d = f.outList[i]!;
        f.linkAttempts[d]!++;
        if (rng.float() >= prob[d]!) {
          const L = f.dRecv[d]!;
          // a dead link (p = 0: out of range, killed, partitioned) is silence, not garbage
          if (frame && prob[d]! > 0 && adminUp[L] && !stuck[L] && this.errRng.float() < RX_ERROR_SHARE) c.rxErrors[L]! += frame;
          continue;
        }
        const J = f.dRecv[d]!;
        if (!adminUp[J] || stuck[J]) continue;
        f.linkDelivered[d]!++;
        c.rxBytes[J]! += bytes;
        c.rxPackets[J]! += frame;
        // A quarantine drops all; a steering a share, drawn per frame as nft's numgen does.
        if (f.blocked[d] && (f.blocked[d]! >= 100 || this.errRng.float() * 100 < f.blocked[d]!)) continue;
        len = this.receive(d, J, x, o, q, this.qTq[qi]!, this.qTtl[qi]!, this.qFlags[qi]!, this.qPrev[qi]!, len);
      }
    }
  }

  /** batadv_iv_ogm_process + process_per_outif for one received copy; returns the new queue length. */
  private receive(d: number, J: number, S: number, o: number, q: number, tq: number, ttl: number, flags: number, prev: number, len: number): number {
    const K = this.K;
    const H = this.H;
    const f = this.fabric;
    const r = Math.floor(J / K);
    // Our own OGM echoed by a neighbour: counts for the link's echo window, nothing else.
    if (Math.floor(o / K) === r) {
      if (flags & DIRECTLINK && o === J) this.markEcho(d);
      return len;
    }
    if (Math.floor(prev / K) === r) return len; // our own rebroadcast coming back
    if (flags & NOT_BEST_NEXT_HOP) return len;

    const ro = r * H + o;
    const ro8 = this.ro8;
    const rb = ro * RO_BYTES;
    if (ro8[rb + RO_EXISTS] === 0) this.createOrig(ro);
    const noDup = this.acceptSeqno(r, o, ro, q);
    const singleHop = S === o;
    if (singleHop) this.markRecv(d);
    if (tq === 0) return len;
    if (singleHop) this.neighLastSeen[d] = this.now;

    // Forwarding routers per outgoing interface, as of before this OGM's first copy.
    if (this.floodTag[r] !== this.floodId) {
      this.floodTag[r] = this.floodId;
      this.computeOutRouters(r, o);
    }

    // Loop avoidance: drop what our router for o sent and someone else sent back to us.
    const router = this.ro32[ro * RO_WORDS + RO_ROUTER]!;
    if (router >= 0) {
      const ra = f.dSend[router]!;
      if (ra === prev && o !== prev) {
        const rr = this.ro32[(r * H + ra) * RO_WORDS + RO_ROUTER]!;
        if (rr >= 0 && f.dSend[rr] === ra) return len;
      }
    }
    // Gateway announcement (TVLV of primary OGMs; absent = no gateway), on every copy like
    // batadv_tvlv_ogm_receive.
    this.roU32[ro * RO_WORDS + RO_GW_DOWN] = this.floodGwDown;
    this.roU32[ro * RO_WORDS + RO_GW_UP] = this.floodGwUp;
    const origNeigh = singleHop ? o : S;
    if (!singleHop && this.dSenderRouted[d] === 0) return len; // OGM via unknown neighbour

    // calc_tq.
    const deg = this.dDeg[d]!;
    if (this.dSelfEntry[d] === 0) this.createEntry(this.dEntBase[d]! + origNeigh * deg, d, r * H + origNeigh);
    if (singleHop) this.ent32[(this.dEntBase[d]! + o * deg) * ENT_WORDS + ENT_LAST_SEEN] = this.nowU32;
    this.ro64[ro * RO_F64S + RO_LAST_SEEN] = this.now;
    const rq = this.recvCount[d]!;
    const eq = this.echoCount[d]!;
    const total = eq < rq ? eq : rq;
    const tqOwn = total < 1 || rq < 1 ? 0 : Math.floor((TQ_MAX * total) / rq);
    const inv = LOCAL_WINDOW - rq;
    const asym = TQ_MAX - Math.floor((TQ_MAX * inv * inv * inv) / WINDOW_CUBE);
    const ifPen = TQ_MAX - f.ifHopPenalty[J]!;
    const base = tq * tqOwn * asym;
    const combined = Math.floor((base * ifPen) / TQ_CUBE);

    if (combined >= 1 && (noDup || (q === this.ro64[ro * RO_F64S + RO_SEQNO] && ro8[rb + RO_LAST_TTL]! - DUP_TTL_SLACK <= ttl))) {
      this.origUpdate(r, o, ro, d, combined, noDup, ttl);
    }

    if (ttl <= 1) return len; // TTL exceeded
    return this.forward(r, J, S, o * deg, singleHop, base, ifPen, combined, ttl, len);
  }

  /**
   * The sequence-number check of (r, o): true for a new seqno, after which the receive windows of
   * the direct links from o slide to it; false for a duplicate or an older one.
   */
  private acceptSeqno(r: number, o: number, ro: number, q: number): boolean {
    const f = this.fabric;
    const rb = ro * RO_BYTES;
    const lastSeq = this.ro64[ro * RO_F64S + RO_SEQNO]!;
    if (this.ro8[rb + RO_HAS_SEQNO] === 1 && q <= lastSeq) return false;
    const diff = this.ro8[rb + RO_HAS_SEQNO] === 1 ? q - lastSeq : LOCAL_WINDOW;
    // Windows of the direct links from o slide to the newest seqno known for o.
    for (let i = f.nodeInStart[r]!, end = f.nodeInStart[r + 1]!; i < end; i++) {
      const d2 = f.nodeInList[i]!;
      if (f.dSend[d2] === o) this.slideRecv(d2, diff);
    }
    this.ro64[ro * RO_F64S + RO_SEQNO] = q;
    this.ro8[rb + RO_HAS_SEQNO] = 1;
    return true;
  }

  /**
   * Rebroadcast of a copy that arrived on J from neighbour S (oOff = o * deg of the link) out of
   * r's interfaces (batadv_iv_ogm_forward, per outgoing interface); returns the new queue length.
   */
  private forward(
    r: number, J: number, S: number, oOff: number, singleHop: boolean,
    base: number, ifPen: number, combined: number, ttl: number, len: number,
  ): number {
    const f = this.fabric;
    const K = this.K;
    const hp = this.nodeHopPenalty[r]!;
    for (let y = 0; y < K; y++) {
      const Y = r * K + y;
      if (!f.adminUp[Y]) continue;
      const same = Y === J;
      if (singleHop && ttl <= SECONDARY_TTL && !same) continue;
      const combinedY = same ? Math.floor((base * Math.floor((ifPen * (TQ_MAX - hp)) / TQ_MAX)) / TQ_CUBE) : combined;
      const ry = this.outRouter[r * K + y]!;
      const fromBest = ry >= 0 && f.dSend[ry] === S && this.ent8[(this.dEntBase[ry]! + oOff) * ENT_BYTES + ENT_AVG] !== 0;
      if (!singleHop && (combinedY < 1 || !fromBest)) continue;
      const newTq = Math.floor((combinedY * (TQ_MAX - hp)) / TQ_MAX);
      let fl = 0;
      if (singleHop) {
        if (!fromBest) fl |= NOT_BEST_NEXT_HOP;
        if (same) fl |= DIRECTLINK;
      }
      len = this.enqueue(len, Y, newTq, ttl - 1, fl, S, this.frameStartFor(Y));
    }
    return len;
  }

  /** OGM aggregation, for the packet counters only: a forwarded OGM joins the open frame. */
  private frameStartFor(Y: number): number {
    const fill = this.fabric.aggregateFill;
    if (!this.settings[Math.floor(Y / this.K)]!.aggregatedOgms) return 1;
    const b = this.floodBytes;
    if (fill[Y]! > 0 && fill[Y]! + b <= MAX_AGGREGATION_BYTES) {
      fill[Y]! += b;
      return 0;
    }
    fill[Y] = b;
    return 1;
  }

  /** One pass over (r, o)'s neighbours: per outgoing interface, the best after the same-interface penalty. */
  private computeOutRouters(r: number, o: number): void {
    const f = this.fabric;
    const K = this.K;
    const ent8 = this.ent8;
    const keep = TQ_MAX - this.nodeHopPenalty[r]!;
    const start = f.nodeInStart[r]!;
    const deg = this.deg[r]!;
    const base = this.entBase[r]! + o * deg;
    const outBase = r * K;
    // The best neighbour heard on each of our interfaces is all that is needed.
    const perIf = this.scratchBest;
    const perIfAvg = this.scratchAvg;
    for (let y = 0; y < K; y++) {
      perIf[y] = -1;
      perIfAvg[y] = 0;
    }
    for (let slot = 0; slot < deg; slot++) {
      const b = (base + slot) * ENT_BYTES;
      const avg = ent8[b + ENT_AVG]!;
      if (avg === 0 || (ent8[b + ENT_FLAGS]! & ENT_PRESENT) === 0) continue;
      const d = f.nodeInList[start + slot]!;
      const y = f.dRecv[d]! - outBase;
      if (avg > perIfAvg[y]!) {
        perIfAvg[y] = avg;
        perIf[y] = d;
      }
    }
    for (let y = 0; y < K; y++) {
      // Out of interface y, a neighbour heard on y loses (255 - hop_penalty)/255, the others nothing.
      let router = perIf[y]!;
      let score = router >= 0 ? perIfAvg[y]! * keep : 0;
      for (let z = 0; z < K; z++) {
        if (z !== y && perIf[z]! >= 0 && perIfAvg[z]! * TQ_MAX > score) {
          score = perIfAvg[z]! * TQ_MAX;
          router = perIf[z]!;
        }
      }
      this.outRouter[outBase + y] = router;
    }
  }

  /** batadv_iv_ogm_orig_update: ring buffers, then maybe a new router. */
  private origUpdate(r: number, o: number, ro: number, d: number, tq: number, noDup: boolean, ttl: number): void {
    const ent8 = this.ent8;
    const deg = this.deg[r]!;
    const base = this.entBase[r]! + o * deg;
    const e = this.dEntBase[d]! + o * deg;
    if (noDup) {
      for (let e2 = base, end = base + deg; e2 < end; e2++) {
        if (e2 !== e && (ent8[e2 * ENT_BYTES + ENT_FLAGS]! & ENT_PRESENT) !== 0) this.ringPush(e2, 0);
      }
    }
    if ((ent8[e * ENT_BYTES + ENT_FLAGS]! & ENT_PRESENT) === 0) this.createEntry(e, d, ro);
    this.ent32[e * ENT_WORDS + ENT_LAST_SEEN] = this.nowU32;
    this.ringPush(e, tq);
    if (noDup) this.ro8[ro * RO_BYTES + RO_LAST_TTL] = ttl;
    const router = this.ro32[ro * RO_WORDS + RO_ROUTER]!;
    if (router === d) return;
    if (router >= 0) {
      const ra = ent8[(this.dEntBase[router]! + o * deg) * ENT_BYTES + ENT_AVG]!;
      const na = ent8[e * ENT_BYTES + ENT_AVG]!;
      if (ra > na) return;
      if (ra === na && this.echoCount[router]! >= this.echoCount[d]!) return;
    }
    this.setRouter(ro, d);
  }

  /** Every router change goes through here, to keep the per-link cache right. */
  private setRouter(ro: number, d: number): void {
    this.ro32[ro * RO_WORDS + RO_ROUTER] = d;
    const f = this.fabric;
    const r = Math.floor(ro / this.H);
    const o = ro - r * this.H;
    for (let i = f.nodeInStart[r]!, end = f.nodeInStart[r + 1]!; i < end; i++) {
      const d2 = f.nodeInList[i]!;
      if (f.dSend[d2] === o) this.dSenderRouted[d2] = d >= 0 ? 1 : 0;
    }
  }

  /** batadv_ring_buffer_set + batadv_ring_buffer_avg (the average ignores zeros). */
  private ringPush(e: number, v: number): void {
    const ent8 = this.ent8;
    const b = e * ENT_BYTES;
    const idx = ent8[b + ENT_IDX]!;
    ent8[b + idx] = v;
    ent8[b + ENT_IDX] = idx === GLOBAL_WINDOW - 1 ? 0 : idx + 1;
    let sum = 0;
    let cnt = 0;
    for (let i = 0; i < GLOBAL_WINDOW; i++) {
      const x = ent8[b + i]!;
      if (x !== 0) {
        sum += x;
        cnt++;
      }
    }
    ent8[b + ENT_AVG] = cnt === 0 ? 0 : Math.floor(sum / cnt);
  }

  private slideRecv(d: number, diff: number): void {
    const base = d * LOCAL_WINDOW;
    if (diff >= LOCAL_WINDOW) {
      this.recvBits.fill(0, base, base + LOCAL_WINDOW);
      this.recvCount[d] = 0;
      return;
    }
    let head = this.recvHead[d]!;
    let count = this.recvCount[d]!;
    for (let i = 0; i < diff; i++) {
      head = head === LOCAL_WINDOW - 1 ? 0 : head + 1;
      if (this.recvBits[base + head]) {
        this.recvBits[base + head] = 0;
        count--;
      }
    }
    this.recvHead[d] = head;
    this.recvCount[d] = count;
  }

  private markRecv(d: number): void {
    const i = d * LOCAL_WINDOW + this.recvHead[d]!;
    if (!this.recvBits[i]) {
      this.recvBits[i] = 1;
      this.recvCount[d]!++;
    }
  }

  private slideEcho(d: number): void {
    const head = this.echoHead[d] === LOCAL_WINDOW - 1 ? 0 : this.echoHead[d]! + 1;
    this.echoHead[d] = head;
    const i = d * LOCAL_WINDOW + head;
    if (this.echoBits[i]) {
      this.echoBits[i] = 0;
      this.echoCount[d]!--;
    }
  }

  private markEcho(d: number): void {
    const i = d * LOCAL_WINDOW + this.echoHead[d]!;
    if (!this.echoBits[i]) {
      this.echoBits[i] = 1;
      this.echoCount[d]!++;
    }
  }

  // ---- table life cycle -------------------------------------------------------------------

  private createOrig(ro: number): void {
    const rb = ro * RO_BYTES;
    this.ro8[rb + RO_EXISTS] = 1;
    this.ro8[rb + RO_HAS_SEQNO] = 0;
    this.setRouter(ro, -1);
    this.ro64[ro * RO_F64S + RO_LAST_SEEN] = this.now;
    if (this.ro8[rb + RO_IN_WHEEL] === 0) {
      this.ro8[rb + RO_IN_WHEEL] = 1;
      this.wheelAdd(-(ro + 1), this.now + ORIG_TIMEOUT_MS);
    }
  }

  private createEntry(e: number, d: number, ro: number): void {
    const b = e * ENT_BYTES;
    this.ent8[b + ENT_FLAGS]! |= ENT_PRESENT;
    this.ent32[e * ENT_WORDS + ENT_LAST_SEEN] = this.nowU32;
    if (this.fabric.dSend[d] === ro % this.H) this.dSelfEntry[d] = 1;
    if (this.neighRef[d] === 0) this.neighLastSeen[d] = this.now;
    this.neighRef[d]!++;
    if (this.ro8[ro * RO_BYTES + RO_EXISTS] === 0) this.createOrig(ro);
    if ((this.ent8[b + ENT_FLAGS]! & ENT_IN_WHEEL) === 0) {
      this.ent8[b + ENT_FLAGS]! |= ENT_IN_WHEEL;
      this.wheelAdd(e, this.now + PURGE_TIMEOUT_MS);
    }
  }

  private removeEntry(e: number, d: number, ro: number): void {
    const b = e * ENT_BYTES;
    this.ent8.fill(0, b, b + ENT_FLAGS);
    this.ent8[b + ENT_FLAGS]! &= ~ENT_PRESENT;
    if (this.fabric.dSend[d] === ro % this.H) this.dSelfEntry[d] = 0;
    this.neighRef[d]!--;
    if (this.ro32[ro * RO_WORDS + RO_ROUTER] === d) this.setRouter(ro, -1);
    this.dirty.push(ro);
  }

  private removeOrig(ro: number): void {
    const f = this.fabric;
    const H = this.H;
    const r = Math.floor(ro / H);
    const o = ro - r * H;
    const deg = this.deg[r]!;
    const base = this.entBase[r]! + o * deg;
    const start = f.nodeInStart[r]!;
    for (let slot = 0; slot < deg; slot++) {
      if (this.entryPresent(base + slot)) this.removeEntry(base + slot, f.nodeInList[start + slot]!, ro);
    }
    const rb = ro * RO_BYTES;
    this.ro8[rb + RO_EXISTS] = 0;
    this.ro8[rb + RO_HAS_SEQNO] = 0;
    this.setRouter(ro, -1);
    this.roU32[ro * RO_WORDS + RO_GW_DOWN] = 0;
    this.roU32[ro * RO_WORDS + RO_GW_UP] = 0;
  }

  /** The timing wheel: item e >= 0 is an entry, -(ro+1) an originator; checked at the first purge after `at`. */
  private wheelAdd(item: number, at: number): void {
    const slot = (Math.floor(at / 1000) + 1) % WHEEL_SLOTS;
    this.wheel[slot]!.push(item);
  }

  /** An interface went down: its neighbours go at the next purge, as the kernel's purge does. */
  interfaceDown(h: number): void {
    this.pendingDown.push(h);
    const n = Math.floor(h / this.K);
    if (this.primary[n] === h) {
      this.primary[n] = -1;
      for (let k = 0; k < this.K; k++) {
        const x = n * this.K + k;
        if (this.fabric.adminUp[x]) {
          this.primary[n] = x;
          break;
        }
      }
    }
  }

  interfaceUp(h: number): void {
    const n = Math.floor(h / this.K);
    if (this.primary[n]! < 0) this.primary[n] = h;
  }

  /** batadv_purge_orig (every second): timeouts, interfaces gone, best neighbour, gateway election. */
  purge(): void {
    const f = this.fabric;
    const H = this.H;
    const now = this.now;
    while (this.pendingDown.length) {
      const h = this.pendingDown.pop()!;
      if (f.adminUp[h]) continue;
      const r = Math.floor(h / this.K);
      for (let i = f.inStart[h]!, end = f.inStart[h + 1]!; i < end; i++) {
        const d = f.inList[i]!;
        const step = this.dDeg[d]!;
        for (let o = 0, e = this.dEntBase[d]!; o < H; o++, e += step) if (this.entryPresent(e)) this.removeEntry(e, d, r * H + o);
      }
    }
    const slot = Math.floor(now / 1000) % WHEEL_SLOTS;
    const items = this.wheel[slot]!;
    this.wheel[slot] = [];
    for (const item of items) {
      if (item >= 0) {
        const e = item;
        const b = e * ENT_BYTES;
        if (!this.entryPresent(e)) {
          this.ent8[b + ENT_FLAGS]! &= ~ENT_IN_WHEEL;
          continue;
        }
        const age = (this.nowU32 - this.ent32[e * ENT_WORDS + ENT_LAST_SEEN]!) >>> 0;
        if (age > PURGE_TIMEOUT_MS) {
          this.ent8[b + ENT_FLAGS]! &= ~ENT_IN_WHEEL;
          const r = this.nodeOfEntry(e);
          const deg = this.deg[r]!;
          const off = e - this.entBase[r]!;
          const o = Math.floor(off / deg);
          const d = f.nodeInList[f.nodeInStart[r]! + off - o * deg]!;
          this.removeEntry(e, d, r * H + o);
        } else this.wheelAdd(e, now - age + PURGE_TIMEOUT_MS);
      } else {
        const ro = -item - 1;
        const rb = ro * RO_BYTES;
        if (this.ro8[rb + RO_EXISTS] === 0) {
          this.ro8[rb + RO_IN_WHEEL] = 0;
          continue;
        }
        const seen = this.ro64[ro * RO_F64S + RO_LAST_SEEN]!;
        if (now > seen + ORIG_TIMEOUT_MS) {
          this.ro8[rb + RO_IN_WHEEL] = 0;
          this.removeOrig(ro);
        } else this.wheelAdd(-(ro + 1), seen + ORIG_TIMEOUT_MS);
      }
    }
    while (this.dirty.length) {
      const ro = this.dirty.pop()!;
      this.setRouter(ro, this.bestNeighbour(ro));
    }
    this.electGateways();
  }

  private nodeOfEntry(e: number): number {
    let lo = 0;
    let hi = this.N - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.entBase[mid]! <= e) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** batadv_find_best_neighbor: highest average, the first one found wins ties. */
  private bestNeighbour(ro: number): number {
    const f = this.fabric;
    const H = this.H;
    const r = Math.floor(ro / H);
    const o = ro - r * H;
    const deg = this.deg[r]!;
    const base = this.entBase[r]! + o * deg;
    let best = -1;
    let bestAvg = 0;
    for (let slot = 0; slot < deg; slot++) {
      if (!this.entryPresent(base + slot)) continue;
      const avg = this.entryTq(base + slot);
      if (best >= 0 && avg <= bestAvg) continue;
      best = f.nodeInList[f.nodeInStart[r]! + slot]!;
      bestAvg = avg;
    }
    return best;
  }

  /**
   * Gateway client selection (batadv_gw_election + batadv_iv_gw_is_eligible), once a second:
   * class 1 by tq^2 * bandwidth, otherwise by TQ; a selected gateway is kept until it goes away,
   * except that class 3 switches to any better TQ and class > 3 to one at least `class` better.
   */
  private electGateways(): void {
    const H = this.H;
    for (let r = 0; r < this.N; r++) {
      const s = this.settings[r]!;
      const cur = this.selectedGw[r]!;
      if (s.gwMode !== 'client') {
        if (cur >= 0) this.setGateway(r, -1);
        continue;
      }
      let curValid = cur >= 0 && this.gwDown(r * H + cur) > 0 && this.routerTq(r, cur) > 0;
      const cls = s.gwSelClass;
      let best = -1;
      let bestTq = 0;
      let bestFactor = 0;
      for (let o = 0; o < H; o++) {
        const ro = r * H + o;
        const down = this.gwDown(ro);
        if (down === 0) continue;
        const tq = this.routerTq(r, o);
        if (tq === 0) continue;
        if (cls === 1) {
          const factor = Math.floor((tq * tq * down * 10_000) / 262_144);
          if (factor > bestFactor || (factor === bestFactor && tq > bestTq)) {
            best = o;
            bestFactor = factor;
            bestTq = tq;
          }
        } else if (tq > bestTq) {
          best = o;
          bestTq = tq;
        }
      }
      if (curValid && best >= 0 && best !== cur && cls > 2) {
        const curTq = this.routerTq(r, cur);
        if (bestTq > curTq && (cls === 3 || bestTq - curTq >= cls)) curValid = false;
      }
      if (!curValid && best !== cur) this.setGateway(r, best);
    }
  }

  private setGateway(r: number, gw: number): void {
    this.selectedGw[r] = gw;
    this.onGatewayChange(r, gw);
  }
}
