// Monitor: polls the mesh driver at a fixed interval, keeps Knowledge current, and turns what
// changed between two polls into events. It never throws out of a poll: a driver failure
// becomes the mesh component's health and an event, and the next poll tries again.
import { MeshError, type Gateway, type MeshDriver, type Neighbour } from '../mesh/driver.ts';
import type { HealthBoard } from '../agent/health.ts';
import type { Logger } from '../agent/logger.ts';
import { directLinkMetric, linkKey, type Knowledge } from './knowledge.ts';

export interface MonitorOptions {
  intervalMs: number;
  /** A direct link whose TQ falls from above `degradedTq` + 50 to below it is reported degrading. */
  degradedTq?: number;
  /** Names MACs in messages (the demo maps them to node names). */
  describeMac?: (mac: string) => string;
  now?: () => number;
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

  constructor(
    private readonly driver: MeshDriver,
    private readonly knowledge: Knowledge,
    private readonly health: HealthBoard,
    private readonly log: Logger,
    private readonly opts: MonitorOptions,
  ) {
    this.name = opts.describeMac ?? ((m) => m);
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.health.set('loop', 'ok', `polling every ${this.opts.intervalMs} ms`);
    const tick = () => {
      // Never overlap polls: a slow driver stretches the interval instead of piling up requests.
      if (!this.running) this.running = this.pollOnce().finally(() => (this.running = null));
    };
    this.timer = setInterval(tick, this.opts.intervalMs);
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  async pollOnce(): Promise<void> {
    const started = this.now();
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
      k.algo = mesh.algo;
      k.meshAddress = mesh.meshAddress;
      k.mesh = { interfaces, neighbours, originators, gateways, settings };
      k.recordLinks(
        neighbours.map((n) => {
          const m = directLinkMetric(mesh.algo, n, originators);
          return { neighbour: n.neighbour, hardIfname: n.hardIfname, kind: m.kind, value: m.value };
        }),
      );
      if (this.stats.polls > 0) this.diff(before.neighbours, neighbours, before.gateways, gateways);
      this.stats.consecutiveErrors = 0;
      this.stats.lastError = null;
      this.health.set(
        'mesh',
        neighbours.length > 0 ? 'ok' : 'degraded',
        neighbours.length > 0
          ? `${neighbours.length} neighbours, ${new Set(originators.map((o) => o.originator)).size} originators`
          : 'no neighbours seen',
      );
    } catch (e) {
      this.recordError(e);
    } finally {
      this.stats.polls++;
      this.stats.lastPollDurationMs = this.now() - started;
    }
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

  private diff(oldN: Neighbour[], newN: Neighbour[], oldG: Gateway[], newG: Gateway[]): void {
    const k = this.knowledge;
    const at = this.now();
    const key = (n: Neighbour) => linkKey(n.hardIfname, n.neighbour);
    const oldKeys = new Set(oldN.map(key));
    const newKeys = new Set(newN.map(key));
    for (const n of newN)
      if (!oldKeys.has(key(n))) k.addEvent('info', `neighbour ${this.name(n.neighbour)} appeared on ${n.hardIfname}`, at);
    for (const n of oldN)
      if (!newKeys.has(key(n))) k.addEvent('finding', `neighbour ${this.name(n.neighbour)} lost on ${n.hardIfname}`, at);

    const threshold = this.opts.degradedTq ?? 100;
    for (const l of k.linkStatus()) {
      if (l.metricKind !== 'tq' || l.history.length < 2) continue;
      const prev = l.history.at(-2);
      const cur = l.history.at(-1);
      if (prev != null && cur != null && prev >= threshold && cur < threshold)
        k.addEvent('finding', `link to ${this.name(l.neighbour)} on ${l.hardIfname} degrading: TQ ${prev} → ${cur}`, at);
    }

    const oldBest = oldG.find((g) => g.best);
    const newBest = newG.find((g) => g.best);
    if (oldBest?.originator !== newBest?.originator) {
      if (!newBest) k.addEvent('finding', `gateway ${this.name(oldBest!.originator)} lost; no gateway selected`, at);
      else if (!oldBest) k.addEvent('info', `gateway ${this.name(newBest.originator)} selected`, at);
      else k.addEvent('finding', `gateway changed ${this.name(oldBest.originator)} → ${this.name(newBest.originator)}`, at);
    }
  }
}
