// What the agent knows about its mesh: the latest tables, a window of samples per link, and
// the recent events. The monitor writes it; analysis, the status API and telemetry read it.
import type { Neighbour, Originator, RoutingAlgo } from '../mesh/driver.ts';
import type { EventKind, LinkStatus, MeshSnapshot, StatusEvent } from '../status/types.ts';

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
  algo: RoutingAlgo | null = null;
  meshAddress: string | null = null;
  private readonly links = new Map<string, LinkWindow>();
  private readonly events: StatusEvent[] = [];
  private readonly eventCounts = new Map<EventKind, number>();
  private readonly listeners: ((e: StatusEvent) => void)[] = [];

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
