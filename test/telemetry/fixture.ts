// A status report as the agent's status API produces it (src/status/types.ts), written by hand:
// the telemetry tests need one node's view, not a mesh. The health part is a real HealthBoard.
import { HealthBoard } from '../../src/agent/health.ts';
import type { StatusEvent, StatusReport } from '../../src/status/types.ts';

export function statusFixture(node: string, fleet: string, health: HealthBoard = new HealthBoard(node), links = 3): StatusReport {
  const mac = (i: number) => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;
  return {
    schema: 1,
    node: { name: node, fleet, version: '0.1.0', uptimeS: 42, driver: 'simulator', meshIf: 'bat0', algo: 'BATMAN_IV', address: mac(1), dryRun: false, core: 'wasm' },
    health: health.report(),
    mesh: {
      interfaces: [{ ifname: 'mesh0', ifindex: 3, address: mac(1), active: true, hopPenalty: 30 }],
      neighbours: Array.from({ length: links }, (_, i) => ({ neighbour: mac(i + 2), hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 200 })),
      originators: Array.from({ length: links }, (_, i) => ({ originator: mac(i + 2), nextHop: mac(i + 2), hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 200, best: true, tq: 200 })),
      gateways: [
        { originator: mac(2), router: mac(2), hardIfname: 'mesh0', hardIfindex: 3, best: false, bandwidthDownKbps: 10000, bandwidthUpKbps: 2000, tq: 180 },
        { originator: mac(3), router: mac(2), hardIfname: 'mesh0', hardIfindex: 3, best: true, bandwidthDownKbps: 50000, bandwidthUpKbps: 10000, tq: 220 },
      ],
      settings: null,
    },
    links: Array.from({ length: links }, (_, i) => ({ neighbour: mac(i + 2), hardIfname: 'mesh0', metricKind: 'tq' as const, metric: 255 - i, history: [255 - i] })),
    events: [],
    learning: { rounds: 3, loss: 0.25 },
    federation: null,
    telemetry: null,
  };
}

/** What the lead's Knowledge.onEvent gives: listeners, and a way to emit. */
export class EventSource {
  private readonly listeners = new Set<(e: StatusEvent) => void>();
  subscribe = (l: (e: StatusEvent) => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  emit(kind: StatusEvent['kind'], message: string): StatusEvent {
    const e = { ts: new Date().toISOString(), kind, message };
    for (const l of this.listeners) l(e);
    return e;
  }
  get count(): number {
    return this.listeners.size;
  }
}
