// What the agent knows about its mesh: the latest tables, a window of samples per link, and
// the recent events. The monitor writes it; analysis, the status API and telemetry read it.
import type { Gateway, HardInterface, MeshSettings, Neighbour, Originator, RoutingAlgo } from '../mesh/driver.ts';
import type { SystemLoad } from './system-load.ts';
import type { GatewayProbeState } from './gateway-probe.ts';
import { OUTAGE_MEMORY_MS, RADIO_BASELINE_MS, RADIO_RECENT_MS, RX_HISTORY_MS, RX_RATE_MIN_SPAN_MS, RX_RATE_WINDOW_MS, STALE_READING_MS } from './detection-timing.ts';
import type { RadioSample } from './radio-fade.ts';

// The shapes below are also the status API's (status/types.ts re-exports them, schema 1):
// change them only by adding fields.

export type EventKind = 'finding' | 'action' | 'rollback' | 'fault' | 'info';

export interface StatusEvent {
  ts: string;
  kind: EventKind;
  message: string;
}

export interface LinkStatus {
  neighbour: string;
  hardIfname: string;
  metricKind: 'tq' | 'throughput';
  /** TQ 0..255 or throughput in kbit/s; null while the link has no current sample. */
  metric: number | null;
  /** Last samples, oldest first, one per poll (null where the link was absent). */
  history: (number | null)[];
}

export interface MeshSnapshot {
  interfaces: HardInterface[];
  neighbours: Neighbour[];
  originators: Originator[];
  gateways: Gateway[];
  settings: MeshSettings | null;
}

/** /sys/class/net/<if>/statistics, the part the loop reads. */
export interface IfCounters {
  rxPackets: number;
  txPackets: number;
  /** Where the reader has them: a feature of the link-failure model (frozen-ness uses packets only). */
  rxErrors?: number;
  txErrors?: number;
  rxDropped?: number;
  txDropped?: number;
}

interface LinkLife {
  live: boolean;
  /** Times the link went from heard to silent (bounded): flapping is many of these. */
  outages: number[];
  /** Whether its neighbour's last OGM is overdue (see recordLateness). */
  late: boolean;
  /** Times the link went from on time to overdue (bounded): how often it misses an OGM. */
  lates: number[];
  /** When it was first heard by this agent. */
  firstAt: number;
}

interface RouteLife {
  nextHop: string;
  /** Times the best next hop changed (bounded): route churn. */
  changes: number[];
}

/** The last link echo asked of a link, and when it last answered (null: never). */
export interface LinkEchoRecord {
  askedAt: number;
  answered: boolean;
  answeredAt: number | null;
  /** The last delivery measurement (20 echoes), when there was one. */
  delivery?: { at: number; ratio: number };
  /** This unanswered ask followed the neighbour's word that it hears nothing from us: the link died one way. */
  oneWay?: boolean;
}
const ECHO_RECORD_LIMIT = 256;

interface CounterLife {
  value: IfCounters;
  /** When the counters last moved (or were first read). */
  movedAt: number;
  /** The reading before the one that saw them move last: they certainly moved after this. */
  movedFrom: number;
  /** When they were last read. */
  readAt: number;
  /** Whether the interface was administratively up at the last reading. */
  up: boolean;
  /** The reading that last saw rxPackets move. */
  rxMovedAt: number;
  /** Readings of rxPackets over the last RX_HISTORY_MS: the rate a silence broke off. */
  rx: { at: number; packets: number }[];
}

const TRANSITION_LIMIT = 32;

export interface KnowledgeOptions {
  historyLength?: number;
  eventLimit?: number;
}

interface LinkWindow {
  neighbour: string;
  hardIfname: string;
  metricKind: 'tq' | 'throughput';
  history: (number | null)[];
}

export const linkKey = (hardIfname: string, neighbour: string) => `${hardIfname}/${neighbour}`;

/** The metric of the direct link to a neighbour: TQ of its own originator entry via itself (IV), or its throughput (V). */
export function directLinkMetric(
  algo: RoutingAlgo,
  n: Neighbour,
  originators: Originator[],
): { kind: 'tq' | 'throughput'; value: number | null } {
  if (algo === 'BATMAN_V') return { kind: 'throughput', value: n.throughputKbps ?? null };
  const o = originators.find(
    (x) => x.originator === n.neighbour && x.nextHop === n.neighbour && x.hardIfname === n.hardIfname,
  );
  return { kind: 'tq', value: o?.tq ?? null };
}

export class Knowledge {
  readonly historyLength: number;
  readonly eventLimit: number;
  mesh: MeshSnapshot = { interfaces: [], neighbours: [], originators: [], gateways: [], settings: null };
  /**
   * The interval neighbours send their OGMs at, as far as known: the largest orig_interval seen
   * (ours may be lowered for a while by an action). 0 before the first poll.
   */
  ogmIntervalMs = 0;
  algo: RoutingAlgo | null = null;
  meshAddress: string | null = null;
  /** The primary hard interface (its MAC is the originator address), as the last poll read it. */
  primaryIfname: string | null = null;
  /** The router's load and memory at the last reading (null: not read, e.g. on the simulator). */
  system: SystemLoad | null = null;
  /** The last reachability probe of the selected gateway (null: probe off or not run yet). */
  gatewayProbe: GatewayProbeState | null = null;
  private readonly links = new Map<string, LinkWindow>();
  private readonly events: StatusEvent[] = [];
  private readonly eventCounts = new Map<EventKind, number>();
  private readonly listeners: ((e: StatusEvent) => void)[] = [];
  private readonly lives = new Map<string, LinkLife>();
  private readonly routes = new Map<string, RouteLife>();
  private readonly counters = new Map<string, CounterLife>();
  private readonly echoes = new Map<string, LinkEchoRecord>();
  /** Per link, its radio's station readings over the baseline and recent windows (radio-watch.ts). */
  private readonly radios = new Map<string, RadioSample[]>();

  constructor(opts: KnowledgeOptions = {}) {
    this.historyLength = opts.historyLength ?? 60;
    this.eventLimit = opts.eventLimit ?? 100;
  }

  /** One poll's link samples: links not sampled this time get a gap (null). */
  recordLinks(samples: { neighbour: string; hardIfname: string; kind: 'tq' | 'throughput'; value: number | null }[]): void {
    const seen = new Set<string>();
    for (const s of samples) {
      const key = linkKey(s.hardIfname, s.neighbour);
      seen.add(key);
      let w = this.links.get(key);
      if (!w) {
        w = { neighbour: s.neighbour, hardIfname: s.hardIfname, metricKind: s.kind, history: [] };
        this.links.set(key, w);
      }
      w.metricKind = s.kind;
      push(w.history, s.value, this.historyLength);
    }
    for (const [key, w] of this.links) {
      if (seen.has(key)) continue;
      push(w.history, null, this.historyLength);
      if (w.history.every((v) => v === null)) this.links.delete(key);
    }
  }

  /** Which links are heard right now; a heard→silent change is an outage. */
  recordLiveness(atMs: number, links: { key: string; live: boolean }[]): void {
    const seen = new Set<string>();
    for (const { key, live } of links) {
      seen.add(key);
      const l = this.lives.get(key);
      if (!l) {
        this.lives.set(key, { live, outages: [], late: false, lates: [], firstAt: atMs });
        continue;
      }
      if (l.live && !live) push(l.outages, atMs, TRANSITION_LIMIT);
      l.live = live;
    }
    // A purged link counts as silent; forget it only once it has no recent outage to tell of.
    for (const [key, l] of this.lives) {
      if (seen.has(key)) continue;
      if (l.live) push(l.outages, atMs, TRANSITION_LIMIT);
      l.live = false;
      if (l.outages.every((t) => atMs - t > OUTAGE_MEMORY_MS)) this.lives.delete(key);
    }
  }

  /**
   * Which links' neighbours are overdue with their next OGM (one and a half intervals without
   * one); an on-time → overdue change is one late event. A link that misses OGMs now and then
   * has many; a clean link has none, and its first one is news.
   */
  recordLateness(atMs: number, links: { key: string; late: boolean }[]): void {
    for (const { key, late } of links) {
      const l = this.lives.get(key);
      if (!l) continue;
      if (late && !l.late) push(l.lates, atMs, TRANSITION_LIMIT);
      l.late = late;
    }
  }

  /** Late events of a link since `sinceMs`, and since when it is known (null: unknown link). */
  latenessOf(key: string, sinceMs: number): { lates: number[]; late: boolean; knownSinceMs: number } | null {
    const l = this.lives.get(key);
    return l ? { lates: l.lates.filter((t) => t >= sinceMs), late: l.late, knownSinceMs: l.firstAt } : null;
  }

  /** Outages of a link since `sinceMs`. */
  outagesSince(key: string, sinceMs: number): number[] {
    return (this.lives.get(key)?.outages ?? []).filter((t) => t >= sinceMs);
  }

  /** The best next hop of each originator this poll; a change is one step of churn. */
  recordBestHops(atMs: number, best: { originator: string; nextHop: string }[]): void {
    for (const { originator, nextHop } of best) {
      const r = this.routes.get(originator);
      if (!r) this.routes.set(originator, { nextHop, changes: [] });
      else if (r.nextHop !== nextHop) {
        push(r.changes, atMs, TRANSITION_LIMIT);
        r.nextHop = nextHop;
      }
    }
  }

  /** Originators whose best next hop changed at least once since `sinceMs`, with the change times. */
  routeChanges(sinceMs: number): { originator: string; nextHop: string; changes: number[] }[] {
    const out = [];
    for (const [originator, r] of this.routes) {
      const changes = r.changes.filter((t) => t >= sinceMs);
      if (changes.length) out.push({ originator, nextHop: r.nextHop, changes });
    }
    return out;
  }

  recordCounters(atMs: number, ifname: string, value: IfCounters, up: boolean): void {
    const c = this.counters.get(ifname);
    const changed = c !== undefined && (c.value.rxPackets !== value.rxPackets || c.value.txPackets !== value.txPackets);
    const moved = !c || !c.up || changed;
    const rxMoved = !c || !c.up || !up || c.value.rxPackets !== value.rxPackets;
    const rx = (c?.rx ?? []).filter((r) => atMs - r.at <= RX_HISTORY_MS);
    rx.push({ at: atMs, packets: value.rxPackets });
    this.counters.set(ifname, {
      value, up, readAt: atMs,
      movedAt: moved || !up ? atMs : c.movedAt,
      movedFrom: changed ? c.readAt : c?.movedFrom ?? -Infinity,
      rxMovedAt: rxMoved ? atMs : c.rxMovedAt,
      rx,
    });
  }

  /**
   * Packet counters read between two polls (the rx watch), folded into the last full reading:
   * the error counters it does not read stay as they were. Ignored before the first full reading.
   */
  recordPackets(atMs: number, ifname: string, rxPackets: number, txPackets: number): void {
    const c = this.counters.get(ifname);
    if (c && atMs > c.readAt) this.recordCounters(atMs, ifname, { ...c.value, rxPackets, txPackets }, c.up);
  }

  /** A link echo's outcome (link-echo.ts): asked at askedAtMs, answered or not (oneWay: see LinkEchoRecord). */
  recordEcho(key: string, askedAtMs: number, answered: boolean, oneWay = false): void {
    const e = this.echoes.get(key);
    this.echoes.delete(key);
    this.echoes.set(key, { askedAt: askedAtMs, answered, answeredAt: answered ? askedAtMs : e?.answeredAt ?? null, ...(e?.delivery ? { delivery: e.delivery } : {}), ...(oneWay ? { oneWay } : {}) });
    // Bounded like the other per-link records: the oldest-asked link goes first.
    if (this.echoes.size > ECHO_RECORD_LIMIT) this.echoes.delete(this.echoes.keys().next().value!);
  }

  echoOf(key: string): LinkEchoRecord | null {
    return this.echoes.get(key) ?? null;
  }

  /** One reading of a link's radio station statistics (radio-watch.ts); older than the windows is dropped. */
  recordRadio(key: string, sample: RadioSample): void {
    let xs = this.radios.get(key);
    if (!xs) {
      xs = [];
      // Bounded like the echoes: the link read least recently first.
      if (this.radios.size >= ECHO_RECORD_LIMIT) this.radios.delete(this.radios.keys().next().value!);
    } else this.radios.delete(key);
    this.radios.set(key, xs);
    if (xs.length && sample.at <= xs.at(-1)!.at) return;
    xs.push(sample);
    const keepFrom = sample.at - RADIO_RECENT_MS - RADIO_BASELINE_MS - 1000;
    while (xs.length > 2 && xs[0]!.at < keepFrom) xs.shift();
  }

  radioOf(key: string): readonly RadioSample[] {
    return this.radios.get(key) ?? [];
  }

  /** A link's delivery there and back, measured over the link echo at atMs (rx-watch.ts). */
  recordDelivery(key: string, atMs: number, ratio: number): void {
    const e = this.echoes.get(key);
    if (e) e.delivery = { at: atMs, ratio };
  }

  /**
   * How long an up interface has received nothing, and how many packets a second it received in
   * the RX_RATE_WINDOW_MS before; null when its counters are not read (or not lately), or the
   * readings before the silence span less than RX_RATE_MIN_SPAN_MS. The silence starts where the packets counted
   * by the last reading that saw any would have ended at that rate: readings are a second apart
   * until the loop polls fast, and a stream that stopped just after one reading shows only a few
   * packets at the next.
   */
  rxSilence(ifname: string, atMs: number): { silentMs: number; ratePerS: number } | null {
    const c = this.counters.get(ifname);
    if (!c || !c.up || atMs - c.readAt > STALE_READING_MS) return null;
    const last = c.rx.findIndex((r) => r.at === c.rxMovedAt);
    const prev = c.rx[last - 1];
    const start = c.rx.find((r) => r.at >= c.rxMovedAt - RX_RATE_WINDOW_MS);
    if (last < 0 || !prev || !start || prev.at - start.at < RX_RATE_MIN_SPAN_MS) return null;
    // Counters that went back (a driver that resets them on restart) tell nothing about a rate.
    if (c.rx[last]!.packets < prev.packets || prev.packets < start.packets) return null;
    const ratePerS = ((prev.packets - start.packets) * 1000) / (prev.at - start.at);
    const stoppedAt = ratePerS > 0 ? Math.min(c.rxMovedAt, prev.at + ((c.rx[last]!.packets - prev.packets) * 1000) / ratePerS) : c.rxMovedAt;
    return { silentMs: c.readAt - stoppedAt, ratePerS };
  }

  /**
   * Whether an up interface certainly passed packets after `sinceMs` (two readings after it
   * differ); null when its counters are not read. A hard interface always sends its OGMs, so
   * false means it has passed nothing since then.
   */
  countersMovedSince(ifname: string, sinceMs: number): boolean | null {
    const c = this.counters.get(ifname);
    if (!c || !c.up || c.readAt < sinceMs) return null;
    return c.movedFrom >= sinceMs;
  }

  /** How long an up interface's counters have not moved (0 when they moved at the last reading or it is down). */
  countersFrozenMs(ifname: string, atMs: number): { frozenMs: number; value: IfCounters } | null {
    const c = this.counters.get(ifname);
    // Frozen is what the readings show: a reading that failed (or none for a while) is no
    // evidence of a hang.
    if (!c || atMs - c.readAt > STALE_READING_MS) return null;
    return { frozenMs: c.up ? c.readAt - c.movedAt : 0, value: c.value };
  }

  linkStatus(): LinkStatus[] {
    return [...this.links.values()].map((w) => ({
      neighbour: w.neighbour,
      hardIfname: w.hardIfname,
      metricKind: w.metricKind,
      metric: w.history.at(-1) ?? null,
      history: [...w.history],
    }));
  }

  addEvent(kind: EventKind, message: string, atMs: number = Date.now()): StatusEvent {
    const e = { ts: new Date(atMs).toISOString(), kind, message };
    push(this.events, e, this.eventLimit);
    this.eventCounts.set(kind, (this.eventCounts.get(kind) ?? 0) + 1);
    for (const l of this.listeners) l(e);
    return e;
  }

  onEvent(listener: (e: StatusEvent) => void): void {
    this.listeners.push(listener);
  }

  recentEvents(): StatusEvent[] {
    return [...this.events];
  }

  /** Events ever recorded, by kind (the event list itself is bounded). */
  eventTotals(): ReadonlyMap<EventKind, number> {
    return this.eventCounts;
  }
}

function push<T>(ring: T[], value: T, limit: number): void {
  ring.push(value);
  if (ring.length > limit) ring.splice(0, ring.length - limit);
}
