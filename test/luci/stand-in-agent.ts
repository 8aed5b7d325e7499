// A STAND-IN for the agent: the real status server (src/status/server.ts) fed by a scripted
// StatusSource whose numbers move on every request. Used where a test needs content the real
// agent cannot be made to produce on demand (hostile strings, an error state).
import { startStatusServer, type StatusServer } from '../../src/status/server.ts';
import type { HealthReport, StatusReport } from '../../src/status/types.ts';

export interface StandIn {
  server: StatusServer;
  requests: () => number;
  close(): Promise<void>;
}

// opts.extraLinks: that many more links in the graph (TQ 180..250), to see its colours.
// opts.names: MAC → node name, as an agent that knows its fleet reports them.
// opts.frozen: the same numbers on every request (the page and the test see the same data).
export async function startStandInAgent(
  socketPath: string,
  opts: { hostileMessage?: string; extraLinks?: number; names?: Record<string, string>; frozen?: boolean } = {},
): Promise<StandIn> {
  let n = 0;
  const health = (): HealthReport => ({
    schema: 1,
    node: 'stand-in',
    overall: 'degraded',
    components: [
      { name: 'mesh', state: 'ok', reason: '3 neighbours' },
      { name: 'telemetry', state: 'disabled', reason: 'disabled in config' },
      { name: 'loop', state: 'degraded', reason: 'link to 02:00:00:00:00:03 weak' },
    ],
  });
  const status = (): StatusReport => {
    if (!opts.frozen || n === 0) n++;
    const hist = (base: number) => Array.from({ length: Math.min(60, 10 + n) }, (_, i) => (i % 7 === 3 ? null : base - ((i * 13 + n) % 40)));
    return {
      schema: 1,
      node: {
        name: 'stand-in', fleet: 'lab', version: '0.0.0-stand-in', uptimeS: 100 + n * 7, driver: 'simulator',
        meshIf: 'bat0', algo: 'BATMAN_IV', address: '02:00:00:00:00:01', dryRun: false, core: 'wasm',
      },
      health: health(),
      mesh: {
        interfaces: [{ ifname: 'mesh0', ifindex: 3, address: '02:00:00:00:01:01', active: true, hopPenalty: 30 }],
        neighbours: [
          { neighbour: '02:00:00:00:00:02', hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 120 + n },
          { neighbour: '02:00:00:00:00:03', hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 900 },
        ],
        originators: [
          { originator: '02:00:00:00:00:02', nextHop: '02:00:00:00:00:02', hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 120, best: true, tq: 240 },
          { originator: '02:00:00:00:00:03', nextHop: '02:00:00:00:00:03', hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 900, best: true, tq: 150 - (n % 20) },
          { originator: '02:00:00:00:00:04', nextHop: '02:00:00:00:00:03', hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 310, best: false, tq: 90 },
          { originator: '02:00:00:00:00:04', nextHop: '02:00:00:00:00:02', hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 300, best: true, tq: 200 },
        ],
        gateways: [
          { originator: '02:00:00:00:00:04', router: '02:00:00:00:00:02', hardIfname: 'mesh0', hardIfindex: 3, best: true, bandwidthDownKbps: 50000, bandwidthUpKbps: 10000, tq: 200 },
        ],
        settings: null,
      },
      links: [
        { neighbour: '02:00:00:00:00:02', hardIfname: 'mesh0', metricKind: 'tq', metric: 240, history: hist(250) },
        { neighbour: '02:00:00:00:00:03', hardIfname: 'mesh0', metricKind: 'tq', metric: 150, history: hist(160) },
        ...Array.from({ length: opts.extraLinks ?? 0 }, (_, i) => ({
          neighbour: `02:00:00:00:01:${(i + 16).toString(16)}`, hardIfname: 'mesh1', metricKind: 'tq' as const, metric: 250 - i * 5, history: hist(250 - i * 5),
        })),
      ],
      events: [
        { ts: '2026-11-23T10:00:00.000Z', kind: 'finding', message: 'link 02:00:00:00:00:03 TQ fell below 160' },
        { ts: '2026-11-23T10:00:05.000Z', kind: 'action', message: 'hop_penalty mesh0 30 → 40' },
        { ts: '2026-11-23T10:01:05.000Z', kind: 'rollback', message: opts.hostileMessage ?? 'hop_penalty mesh0 40 → 30: no improvement' },
      ],
      learning: { enabled: true, rounds: n, lastLoss: 0.25 },
      federation: null,
      telemetry: { connected: false, buffered: 12 },
      ...(opts.names ? { names: opts.names } : {}),
    };
  };
  const server = await startStatusServer({ socketPath, source: { health, status, metrics: () => '' } });
  return { server, requests: () => n, close: () => server.close() };
}
