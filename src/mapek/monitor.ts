// Monitor: polls the mesh driver at a fixed interval, keeps Knowledge current, and turns what
// changed between two polls into events. It never throws out of a poll: a driver failure
// becomes the mesh component's health and an event, and the next poll tries again.
import { MeshError, type Gateway, type MeshDriver, type Neighbour, type Originator } from '../mesh/driver.ts';
import type { HealthBoard } from '../agent/health.ts';
import type { Logger } from '../agent/logger.ts';
import { directLinkMetric, linkKey, type IfCounters, type Knowledge, type MeshSnapshot } from './knowledge.ts';
import { procLoadReader, type SystemLoadReader } from './system-load.ts';
import { DEGRADED_TQ, DUE_MIN_GAP_MS, DUE_SLACK_MS, FAST_POLL_MS, LATE_INTERVALS, SILENT_AFTER_MS, SUSPECT_INTERVALS, staleAfterMs } from './detection-timing.ts';

/** Reads an interface's packet counters (/sys/class/net/<if>/statistics); null when it has none. */
export type CounterReader = (ifname: string) => Promise<IfCounters | null>;

export interface MonitorOptions {
  intervalMs: number;
  /** A direct link whose TQ falls from above `degradedTq` + 50 to below it is reported degrading. */
  degradedTq?: number;
  /** Names MACs in messages (the demo maps them to node names). */
  describeMac?: (mac: string) => string;
  now?: () => number;
  /** A neighbour not heard for this long counts as silent for liveness windows (default SILENT_AFTER_MS). */
  silentAfterMs?: number;
  /** Interface counters, read every poll for every hard interface (stuck-radio detection). */
  counters?: CounterReader;
  /**
   * Load and memory (/proc/loadavg, /proc/meminfo), read every systemEveryMs (default 5 s).
   * Default: /proc for the batman-adv driver; nothing for the simulator (the host's load is not
   * the simulated router's). null: never.
   */
  system?: SystemLoadReader | null;
  systemEveryMs?: number;
  /** The poll interval while a neighbour is overdue with its OGM (default FAST_POLL_MS, never above intervalMs). */
  fastIntervalMs?: number;
  /**
   * Runs after every successful poll, inside it: the loop never overlaps itself. pollStartedAt:
   * wall-clock ms when the poll began (a traced cycle's monitor span starts there).
   */
  afterPoll?: (pollStartedAt: number) => Promise<void>;
}

export interface MonitorStats {
  polls: number;
  pollErrors: number;
  consecutiveErrors: number;
  lastPollDurationMs: number;
  lastError: string | null;
}

export class Monitor {
  readonly stats: MonitorStats = { polls: 0, pollErrors: 0, consecutiveErrors: 0, lastPollDurationMs: 0, lastError: null };
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly name: (mac: string) => string;
  private readonly now: () => number;
  private lastGateway: GatewayView | null = null;
  private stopped = false;
  /** A neighbour is overdue: poll at fastIntervalMs. */
  urgent = false;
  /**
   * When the next neighbour alone on its interface becomes overdue, from the last poll: a light
   * poll is due then. Its traffic can tell a dead link at that moment (analyze.ts), and the
   * interval would otherwise hold the reading back by up to a whole poll interval.
   */
  private dueInMs = Infinity;
  private lastFullPollAt = -Infinity;
  /** pollSoon() was called: the next poll comes at once. */
  private soon = false;
  private tick: () => void = () => {};
  private readonly system: SystemLoadReader | null;
  private systemReadAt = -Infinity;

  constructor(
    private readonly driver: MeshDriver,
    private readonly knowledge: Knowledge,
    private readonly health: HealthBoard,
    private readonly log: Logger,
    private readonly opts: MonitorOptions,
  ) {
    this.name = opts.describeMac ?? ((m) => m);
    this.now = opts.now ?? Date.now;
    this.system = opts.system !== undefined ? opts.system : driver.kind === 'batman-adv' ? procLoadReader() : null;
  }

  start(): void {
    if (this.timer) return;
    this.health.set('loop', 'ok', `polling every ${this.opts.intervalMs} ms`);
    this.stopped = false;
    const fast = Math.min(this.opts.fastIntervalMs ?? FAST_POLL_MS, this.opts.intervalMs);
    // One poll at a time: a slow driver stretches the interval instead of piling up requests.
    // While a neighbour is overdue the next poll comes sooner: detection is not held back by
    // the poll interval when it matters.
    let due = false;
    this.tick = () => {
      const started = Date.now();
      const light = (this.urgent || due || this.soon) && started - this.lastFullPollAt < this.opts.intervalMs;
      this.soon = false;
      this.running = (light ? this.pollNeighbours() : this.pollOnce()).finally(() => {
        this.running = null;
        if (this.stopped) return;
        const every = this.soon ? 0 : this.urgent ? fast : this.opts.intervalMs;
        const wait = Math.max(0, every - (Date.now() - started));
        const dueWait = Math.max(this.dueInMs + DUE_SLACK_MS, DUE_MIN_GAP_MS) - (Date.now() - started);
        due = dueWait < wait;
        this.timer = setTimeout(this.tick, due ? Math.max(0, dueWait) : wait);
      });
    };
    this.timer = setTimeout(this.tick, 0);
  }

  /**
   * A (light) poll now, not at the next interval: news came between polls (rx-watch.ts). During
   * a poll, the next one follows it at once.
   */
  pollSoon(): void {
    if (this.stopped || !this.timer) return;
    this.soon = true;
    if (this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(this.tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Liveness and lateness of every neighbour link, and whether to poll fast. */
  private recordNeighbours(at: number, neighbours: Neighbour[], staleMs: number): void {
    const k = this.knowledge;
    const silentAfter = this.opts.silentAfterMs ?? SILENT_AFTER_MS;
    k.recordLiveness(at, neighbours.map((n) => ({ key: linkKey(n.hardIfname, n.neighbour), live: n.lastSeenMs < silentAfter })));
    const lateMs = LATE_INTERVALS * k.ogmIntervalMs;
    k.recordLateness(at, neighbours.map((n) => ({ key: linkKey(n.hardIfname, n.neighbour), late: n.lastSeenMs >= lateMs && n.lastSeenMs < staleMs })));
    // A neighbour overdue with its OGM is polled for closely until it is heard or given up.
    const suspectMs = SUSPECT_INTERVALS * k.ogmIntervalMs;
    this.urgent = neighbours.some((n) => n.lastSeenMs >= suspectMs && n.lastSeenMs < staleMs);
    const heard = neighbours.filter((n) => n.lastSeenMs < staleMs);
    const alone = heard.filter((n) => heard.filter((x) => x.hardIfname === n.hardIfname).length === 1 && n.lastSeenMs < suspectMs);
    this.dueInMs = suspectMs > 0 ? Math.min(Infinity, ...alone.map((n) => suspectMs - n.lastSeenMs)) : Infinity;
  }

  private async readCounters(at: number, interfaces: readonly { ifname: string; active: boolean }[]): Promise<void> {
    if (!this.opts.counters) return;
    for (const i of interfaces) {
      const c = await this.opts.counters(i.ifname).catch(() => null);
      if (c) this.knowledge.recordCounters(at, i.ifname, c, i.active);
    }
  }

  /**
   * The fast poll while a neighbour is overdue: the neighbour table alone (one request instead
   * of six; the other tables are at most one interval old), counters, then the loop.
   */
  async pollNeighbours(): Promise<void> {
    const wallStart = Date.now();
    const k = this.knowledge;
    const settings = k.mesh.settings;
    if (!settings) return this.pollOnce();
    let ok = false;
    try {
      const neighbours = await this.driver.neighbours();
      const at = this.now();
      k.mesh = { ...k.mesh, neighbours };
      this.recordNeighbours(at, neighbours, staleAfterMs(settings.origIntervalMs));
      await this.readCounters(at, k.mesh.interfaces);
      ok = true;
    } catch (e) {
      this.recordError(e);
    }
    if (ok) await this.runAfterPoll(wallStart);
  }

  private async runAfterPoll(wallStart: number): Promise<void> {
    if (!this.opts.afterPoll) return;
    try {
      await this.opts.afterPoll(wallStart);
    } catch (e) {
      // The loop's own failure must not stop the monitor: report it and poll on.
      this.log.error(`after poll: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }

  async pollOnce(): Promise<void> {
    const started = this.now();
    const wallStart = (this.lastFullPollAt = Date.now());
    let ok = false;
    try {
      const [mesh, settings, interfaces, neighbours, originators, gateways] = await Promise.all([
        this.driver.mesh(),
        this.driver.settings(),
        this.driver.interfaces(),
        this.driver.neighbours(),
        this.driver.originators(),
        this.driver.gateways(),
      ]);
      const k = this.knowledge;
      const before = k.mesh;
      // A silent neighbour stays listed until batman-adv purges it: its age tells (staleAfterMs).
      // Neighbours send at their own interval, not ours: a lowered local orig_interval (a healing
      // action) must not shorten this.
      const staleMs = staleAfterMs(settings.origIntervalMs);
      k.algo = mesh.algo;
      k.meshAddress = mesh.meshAddress;
      k.primaryIfname = mesh.primaryIfname ?? null;
      k.mesh = { interfaces, neighbours, originators, gateways, settings };
      k.recordLinks(
        neighbours.map((n) => {
          const m = directLinkMetric(mesh.algo, n, originators);
          const value = n.lastSeenMs > staleMs ? null : m.value;
          return { neighbour: n.neighbour, hardIfname: n.hardIfname, kind: m.kind, value };
        }),
      );
      const at = this.now();
      k.ogmIntervalMs = Math.max(k.ogmIntervalMs, settings.origIntervalMs);
      this.recordNeighbours(at, neighbours, staleMs);
      k.recordBestHops(at, originators.filter((o) => o.best).map((o) => ({ originator: o.originator, nextHop: o.nextHop })));
      await this.readCounters(at, interfaces);
      if (this.system && at - this.systemReadAt >= (this.opts.systemEveryMs ?? 5000)) {
        this.systemReadAt = at;
        const load = await this.system().catch(() => null);
        k.system = load ? { ...load, atMs: at } : null;
      }
      const live = neighbours.filter((n) => n.lastSeenMs <= staleMs);
      const gateway = selectedGateway(gateways, originators, staleMs);
      if (this.stats.polls > 0) this.diff(before, k.mesh, staleMs, gateway);
      this.lastGateway = gateway;
      this.stats.consecutiveErrors = 0;
      this.stats.lastError = null;
      const silent = neighbours.length - live.length;
      const origCount = new Set(originators.filter((o) => o.lastSeenMs <= staleMs).map((o) => o.originator)).size;
      const problems: string[] = [];
      if (live.length === 0) problems.push('no neighbour heard');
      else if (silent > live.length) problems.push(`${silent} of ${neighbours.length} neighbour links silent`);
      if (settings.gwMode === 'client' && gateway.state !== 'ok') problems.push(gateway.state === 'none' ? 'no gateway' : `gateway ${this.name(gateway.originator!)} unreachable`);
      this.health.set(
        'mesh',
        problems.length ? 'degraded' : 'ok',
        problems.length ? problems.join('; ') : `${live.length} neighbour links, ${origCount} originators reachable`,
      );
      ok = true;
    } catch (e) {
      this.recordError(e);
    } finally {
      this.stats.polls++;
      this.stats.lastPollDurationMs = this.now() - started;
    }
    if (ok) await this.runAfterPoll(wallStart);
  }

  private recordError(e: unknown): void {
    this.stats.pollErrors++;
    this.stats.consecutiveErrors++;
    const msg = e instanceof Error ? e.message : String(e);
    const first = this.stats.lastError !== msg;
    this.stats.lastError = msg;
    // No active interface is a state of the mesh, not a broken driver.
    const state = e instanceof MeshError && e.code === 'NO_PRIMARY' ? 'degraded' : 'down';
    this.health.set('mesh', state, msg);
    if (first) {
      this.knowledge.addEvent('finding', `mesh unreadable: ${msg}`, this.now());
      this.log.warn(`poll failed: ${msg}`);
    }
  }

  private diff(before: MeshSnapshot, now: MeshSnapshot, staleMs: number, gateway: GatewayView): void {
    const k = this.knowledge;
    const at = this.now();
    const liveKeys = (ns: Neighbour[]) => new Set(ns.filter((n) => n.lastSeenMs <= staleMs).map((n) => linkKey(n.hardIfname, n.neighbour)));
    const was = liveKeys(before.neighbours);
    const is = liveKeys(now.neighbours);
    for (const n of now.neighbours) {
      const key = linkKey(n.hardIfname, n.neighbour);
      if (is.has(key) && !was.has(key)) k.addEvent('info', `neighbour ${this.name(n.neighbour)} heard on ${n.hardIfname}`, at);
    }
    for (const key of was) {
      if (is.has(key)) continue;
      const n = now.neighbours.find((x) => linkKey(x.hardIfname, x.neighbour) === key);
      const [ifname, mac] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
      k.addEvent('finding', `link to ${this.name(mac)} on ${ifname} dead: ${n ? `silent for ${(n.lastSeenMs / 1000).toFixed(1)} s` : 'purged'}`, at);
    }

    const threshold = this.opts.degradedTq ?? DEGRADED_TQ;
    for (const l of k.linkStatus()) {
      if (l.metricKind !== 'tq' || l.history.length < 2) continue;
      const prev = l.history.at(-2);
      const cur = l.history.at(-1);
      if (prev != null && cur != null && prev >= threshold && cur < threshold)
        k.addEvent('finding', `link to ${this.name(l.neighbour)} on ${l.hardIfname} degrading: TQ ${prev} → ${cur}`, at);
    }

    const old = this.lastGateway;
    if (old && (old.originator !== gateway.originator || old.state !== gateway.state)) {
      if (gateway.state === 'none') k.addEvent('finding', 'no gateway selected', at);
      else if (gateway.state === 'stale') k.addEvent('finding', `gateway ${this.name(gateway.originator!)} unreachable`, at);
      else if (old.state !== 'ok') k.addEvent('info', `gateway ${this.name(gateway.originator!)} reachable`, at);
      else k.addEvent('finding', `gateway changed ${this.name(old.originator!)} → ${this.name(gateway.originator!)}`, at);
    }
  }
}

interface GatewayView {
  state: 'ok' | 'stale' | 'none';
  originator: string | null;
}

/** The selected gateway, and whether its originator entry is still being refreshed. */
function selectedGateway(gateways: Gateway[], originators: Originator[], staleMs: number): GatewayView {
  const best = gateways.find((g) => g.best);
  if (!best) return { state: 'none', originator: null };
  const entry = originators.find((o) => o.originator === best.originator && o.best);
  return { state: entry && entry.lastSeenMs <= staleMs ? 'ok' : 'stale', originator: best.originator };
}
