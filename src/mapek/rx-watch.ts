// Rx watch: between the monitor's polls, reads the packet counters of every interface whose one
// neighbour carries routes, ten times a second. When that interface stops receiving what its
// rate says it should, the neighbour is asked over the link echo (src/mesh/link-echo.ts) whether
// the link still carries frames. An echo that goes unanswered is recorded in the knowledge and
// a poll is asked for at once: link-findings.ts then finds the link dead in about half a second,
// where waiting for its 1 s OGMs takes two. Traffic that merely ended is answered, and nothing
// happens. A neighbour that never answered (no agent there, no IPv6) is never judged this way.
// An unanswered silence probe (or a measurement with nothing back) is also told to the neighbour
// ("I hear nothing from you"): a link dead one way leaves that end hearing us, and it asks back
// (peerDeaf) instead of sending on over the dead way until batman-adv's echo of its OGMs runs dry.
// It also measures the delivery of a nearly clean link that starts missing OGMs (suspected()):
// a fade shows there seconds before batman-adv's TQ moves (predict-link-death.ts).
import { linkKey, type Knowledge } from './knowledge.ts';
import { CheckLoop } from './check-loop.ts';
import {
  DELIVERY_DYING, DELIVERY_HEALTHY, ECHO_KEEPALIVE_MS, ECHO_KNOWN_MS, ECHO_LEARN_MS, ECHO_LEARN_TRIES, ECHO_RX_EXPECTED, ECHO_SILENT_MIN_MS, LATE_KNOWN_MS, LATE_MEMORY_MS, MEASURE_EVERY_MS, RX_WATCH_MS,
  SILENT_AFTER_MS, SUSPECT_MAX_LATES, SUSPECT_MS, CLEAN_TQ, CLEAN_TQ_SAMPLES,
} from './detection-timing.ts';

export interface LinkProber {
  probe(ifname: string, mac: string): Promise<boolean | null>;
  /** Delivery there and back, 0..1 (link-echo.ts measure). */
  measure(ifname: string, mac: string): Promise<number | null>;
  /** Tells the neighbour nothing from it arrives here (link-echo.ts tellDeaf). */
  tellDeaf(ifname: string, mac: string): void;
}

export interface RxWatchOptions {
  knowledge: Knowledge;
  /** rx_packets and tx_packets of an interface; null when unreadable. */
  readPackets: (ifname: string) => Promise<{ rx: number; tx: number } | null>;
  echo: LinkProber;
  /** Asks the monitor for a poll now (a lost echo is news). */
  pollSoon: () => void;
  /** The one-way exchanges, as they happen (rare: the agent logs them, for an operator reading logread). */
  note?: (message: string) => void;
  now?: () => number;
  everyMs?: number;
}

interface Watched {
  ifname: string;
  neighbour: string;
  key: string;
}

export class RxWatch {
  private readonly loop: CheckLoop;
  private readonly now: () => number;
  /** Links with a probe in flight: one at a time per link. */
  private readonly probing = new Set<string>();
  /** When each watched link was last asked just to learn whether its neighbour answers. */
  private readonly keptAliveAt = new Map<string, number>();
  /** Keepalives asked of each watched link before its first answer (ECHO_LEARN_TRIES). */
  private readonly learnTries = new Map<string, number>();
  /**
   * Probes asked, echoes lost, measurements made; "nothing of yours arrives" notices told and
   * heard, and links found dead one way after a notice (/metrics; the bench counts the frames on the wire).
   */
  readonly stats = { probes: 0, lost: 0, unknown: 0, measurements: 0, deafTold: 0, deafHeard: 0, oneWay: 0 };
  /** Links whose neighbour's notice (peerDeaf) came while they were being asked. */
  private readonly deafPending = new Set<string>();
  /** When each link came under suspicion of fading (suspected()). */
  private readonly suspects = new Map<string, number>();

  constructor(private readonly opts: RxWatchOptions) {
    this.now = opts.now ?? Date.now;
    this.loop = new CheckLoop(() => this.check(), opts.everyMs ?? RX_WATCH_MS);
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** The links worth watching: a heard neighbour alone on its interface that is some route's next hop. */
  watched(): Watched[] {
    const { neighbours, originators } = this.opts.knowledge.mesh;
    const heard = neighbours.filter((n) => n.lastSeenMs < SILENT_AFTER_MS);
    return heard
      .filter((n) => heard.filter((x) => x.hardIfname === n.hardIfname).length === 1)
      .filter((n) => originators.some((o) => o.best && o.nextHop === n.neighbour && o.hardIfname === n.hardIfname))
      .map((n) => ({ ifname: n.hardIfname, neighbour: n.neighbour, key: linkKey(n.hardIfname, n.neighbour) }));
  }

  /** One round: read, judge, probe. Exposed for tests. */
  async check(): Promise<void> {
    const k = this.opts.knowledge;
    const watched = this.watched();
    this.prune(new Set(watched.map((w) => w.key)));
    for (const w of watched) {
      const at = this.now();
      const p = await this.opts.readPackets(w.ifname).catch(() => null);
      if (p) k.recordPackets(at, w.ifname, p.rx, p.tx);
      if (this.probing.has(w.key)) continue;
      // Learn (and keep knowing) whether the neighbour answers at all.
      const tries = k.echoOf(w.key)?.answeredAt == null ? this.learnTries.get(w.key) ?? 0 : ECHO_LEARN_TRIES;
      if (at - (this.keptAliveAt.get(w.key) ?? -Infinity) >= (tries < ECHO_LEARN_TRIES ? ECHO_LEARN_MS : ECHO_KEEPALIVE_MS)) {
        this.keptAliveAt.set(w.key, at);
        if (tries < ECHO_LEARN_TRIES) this.learnTries.set(w.key, tries + 1);
        void this.ask(w, at, false);
        continue;
      }
      const echo = k.echoOf(w.key);
      if (echo?.answeredAt == null || at - echo.answeredAt >= ECHO_KNOWN_MS) continue;
      const rx = k.rxSilence(w.ifname, at);
      // Once per silence.
      if (rx && rx.silentMs >= ECHO_SILENT_MIN_MS && (rx.ratePerS * rx.silentMs) / 1000 >= ECHO_RX_EXPECTED && echo.askedAt < at - rx.silentMs) void this.ask(w, at, true, p?.rx);
      else if (this.suspected(w, at)) void this.measure(w, at);
    }
  }

  /**
   * Whether to measure the link's delivery now: it was nearly clean and is late with an OGM (the
   * first sign of a fade), or was so within SUSPECT_MS and no measurement since found it healthy.
   */
  private suspected(w: Watched, at: number): boolean {
    const k = this.opts.knowledge;
    const since = this.suspects.get(w.key);
    const last = k.echoOf(w.key)?.delivery;
    if (since !== undefined && at - since <= SUSPECT_MS) {
      if (last && last.at >= since && last.ratio >= DELIVERY_HEALTHY) return false;
      return !last || at - last.at >= MEASURE_EVERY_MS;
    }
    if (!k.latenessOf(w.key, at - LATE_MEMORY_MS)?.late || !this.nearlyClean(w.key, at)) return false;
    // A new suspicion, not the same late OGM again.
    if (since !== undefined && at - since <= SUSPECT_MS + MEASURE_EVERY_MS) return false;
    this.suspects.set(w.key, at);
    return true;
  }

  /**
   * The neighbour at the other end is measuring this link (link-echo.ts onMeasured): it saw the
   * link miss an OGM. This end may not have: a neighbour in its fast-OGM spell is never late here.
   * A nearly clean link is then measured from this end too, now; what it finds decides, not the
   * neighbour's word (the same bounds as a suspicion of our own).
   */
  peerMeasuring(ifname: string, mac: string): void {
    const at = this.now();
    const w = this.watched().find((x) => x.ifname === ifname && x.neighbour === mac);
    if (!w || this.probing.has(w.key)) return;
    const k = this.opts.knowledge;
    const answeredAt = k.echoOf(w.key)?.answeredAt;
    if (answeredAt == null || at - answeredAt >= ECHO_KNOWN_MS) return;
    const since = this.suspects.get(w.key);
    if (since !== undefined && at - since <= SUSPECT_MS + MEASURE_EVERY_MS) return;
    if (!this.nearlyClean(w.key, at)) return;
    this.suspects.set(w.key, at);
    void this.measure(w, at);
  }

  /**
   * At most SUSPECT_MAX_LATES late OGMs per LATE_MEMORY_MS, pro rata over a shorter acquaintance
   * (the one late now not counted): a link known for half a minute with two misses is a lossy one,
   * not a clean one starting to fade (a healthy 10 %-loss link got steered that way on the kernel).
   */
  private nearlyClean(key: string, at: number): boolean {
    const late = this.opts.knowledge.latenessOf(key, at - LATE_MEMORY_MS);
    if (!late || at - late.knownSinceMs < LATE_KNOWN_MS) return false;
    const span = Math.min(LATE_MEMORY_MS, at - late.knownSinceMs);
    if (late.lates.length - (late.late ? 1 : 0) > Math.floor((SUSPECT_MAX_LATES * span) / LATE_MEMORY_MS)) return false;
    // And its TQ at the top before this: a 10 %-loss link sits near 200 (its misses both ways), a clean one near 255.
    const tq = this.opts.knowledge.linkStatus().find((l) => linkKey(l.hardIfname, l.neighbour) === key);
    const before = (tq?.metricKind === 'tq' ? tq.history.slice(-CLEAN_TQ_SAMPLES - 1, -1) : []).filter((v): v is number => v !== null);
    return before.length >= CLEAN_TQ_SAMPLES && before.every((v) => v >= CLEAN_TQ);
  }

  private async measure(w: Watched, at: number): Promise<void> {
    this.probing.add(w.key);
    this.stats.measurements++;
    try {
      const ratio = await this.opts.echo.measure(w.ifname, w.neighbour);
      if (ratio === null) return;
      this.opts.knowledge.recordDelivery(w.key, at, ratio);
      // Not one of 20 came back: as for a lost silence probe, the neighbour is told.
      if (ratio === 0) this.tell(w);
      if (ratio <= DELIVERY_DYING) this.opts.pollSoon();
    } finally {
      this.askEnded(w);
    }
  }

  /** Tells the neighbour that its echo exchange with us fails: nothing of its comes back here. */
  private tell(w: Watched): void {
    this.opts.echo.tellDeaf(w.ifname, w.neighbour);
    this.stats.deafTold++;
    this.opts.note?.(`link echo: ${w.neighbour} on ${w.ifname} unanswered: told it nothing of its arrives here`);
  }

  /** An ask is over: a neighbour's notice that came meanwhile is asked about now. */
  private askEnded(w: Watched): void {
    this.probing.delete(w.key);
    if (this.deafPending.delete(w.key)) this.peerDeaf(w.ifname, w.neighbour);
  }

  /** A keepalive only records an answer; a silence's probe records either, and a lost one is news. */
  /** rxBefore: the reading that found the silence (silences only), to tell whether frames came while asking. */
  private async ask(w: Watched, at: number, silence: boolean, rxBefore?: number): Promise<void> {
    this.probing.add(w.key);
    this.stats.probes++;
    try {
      let answered = await this.opts.echo.probe(w.ifname, w.neighbour);
      // Frames came in while it was asked: the link lives, and its neighbour's agent is only slow
      // (a long task on a small router) or gone; either way nothing for the loop to act on.
      if (answered === false && rxBefore !== undefined) {
        const after = await this.opts.readPackets(w.ifname).catch(() => null);
        if (after && after.rx > rxBefore) answered = true;
      }
      if (answered === null) this.stats.unknown++;
      else if (answered || silence) this.opts.knowledge.recordEcho(w.key, at, answered);
      if (answered === false && silence) {
        this.stats.lost++;
        // The way from it may be all that died: the neighbour learns so over the way to it.
        this.tell(w);
        this.opts.pollSoon();
      }
    } finally {
      this.askEnded(w);
    }
  }

  /**
   * The neighbour says it hears nothing from us (link-echo.ts onDeaf) while we still hear it: the
   * link may be dead from us to it only, which batman-adv here learns only as its echoes of our
   * OGMs run dry, over many seconds. Asked now; unanswered is recorded as a one-way death
   * (link-findings.ts), answered is nothing. Its word alone decides nothing.
   */
  peerDeaf(ifname: string, mac: string): void {
    const at = this.now();
    const w = this.watched().find((x) => x.ifname === ifname && x.neighbour === mac);
    const said = `link echo: ${mac} on ${ifname} says nothing of ours arrives there`;
    this.stats.deafHeard++;
    if (!w) return this.opts.note?.(`${said}: not a link this node routes over alone, not asked`);
    if (this.probing.has(w.key)) {
      // Asked once the ask under way ends (a measurement's 20 echoes hold the link for a second).
      this.deafPending.add(w.key);
      return this.opts.note?.(`${said}: asked when the ask under way ends`);
    }
    this.probing.add(w.key);
    this.stats.probes++;
    void this.opts.echo.probe(w.ifname, w.neighbour).then((answered) => {
      this.opts.note?.(`${said}: asked, ${answered === null ? 'could not ask' : answered ? 'it answered (the link works both ways)' : 'no answer: dead one way'}`);
      if (answered === null) this.stats.unknown++;
      else this.opts.knowledge.recordEcho(w.key, at, answered, !answered);
      if (answered === false) {
        this.stats.lost++;
        this.stats.oneWay++;
        this.opts.pollSoon();
      }
    }).finally(() => this.askEnded(w));
  }

  /** Forgets links no longer watched (bounded by the neighbours heard). */
  private prune(keys: ReadonlySet<string>): void {
    for (const key of this.keptAliveAt.keys()) if (!keys.has(key)) this.keptAliveAt.delete(key);
    for (const key of this.learnTries.keys()) if (!keys.has(key)) this.learnTries.delete(key);
    for (const key of this.suspects.keys()) if (!keys.has(key)) this.suspects.delete(key);
    for (const key of this.deafPending) if (!keys.has(key)) this.deafPending.delete(key);
  }
}
