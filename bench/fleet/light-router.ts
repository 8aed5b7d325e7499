// One simulated router for bench:fleet: not an agent, only its MQTT side, following the topic
// contract v1 exactly (topics from src/telemetry/topics.ts, payloads typed by payloads.ts): a
// retained online state with the offline/lost Last Will, a retained QoS 0 snapshot every
// interval, QoS 1 events with seq 1, 2, 3… per boot, kept until PUBACK.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { EventPayload, StatePayload, TelemetryPayload } from '../../src/telemetry/payloads.ts';
import { nodeTopics, type NodeTopics } from '../../src/telemetry/topics.ts';
import { connectPacket, openWire, PINGREQ, publishPacket } from './mqtt-wire.ts';

export const mac = (i: number) => `02:00:00:${[(i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

export interface RouterStats {
  connected: number;
  snapshots: number;
  eventsSent: number;
  eventsAcked: number;
}

export class LightRouter {
  private sock: Socket | null = null;
  private readonly topics: NodeTopics;
  private readonly boot = randomBytes(6).toString('hex');
  private readonly since = new Date().toISOString();
  private seq = 0;
  private snapSeq = 0;
  private nextId = 1;
  private readonly inflight = new Map<number, string>();
  private timers: NodeJS.Timeout[] = [];
  connected = false;

  constructor(
    readonly index: number,
    readonly fleetSize: number,
    readonly fleet: string,
    private readonly port: number,
    private readonly stats: RouterStats,
  ) {
    this.topics = nodeTopics(fleet, `r${index}`);
  }

  start(intervalMs: number, onConnack: () => void): void {
    const will: StatePayload = { v: 1, fleet: this.fleet, node: `r${this.index}`, state: 'offline', reason: 'lost', since: this.since, boot: this.boot, version: 'bench' };
    this.sock = openWire(this.port, connectPacket(`bench-r${this.index}-${this.boot}`, 60, { topic: this.topics.state, payload: JSON.stringify(will) }), {
      connack: (code) => {
        if (code !== 0) return;
        this.connected = true;
        this.stats.connected++;
        onConnack();
        this.qos1(this.topics.state, JSON.stringify({ ...will, state: 'online', reason: 'connected' } satisfies StatePayload), true);
        // Snapshots spread over the interval, as routers started at different times would be.
        const first = setTimeout(() => {
          this.snapshot();
          this.timers.push(setInterval(() => this.snapshot(), intervalMs));
        }, Math.random() * intervalMs);
        this.timers.push(first, setInterval(() => this.sock?.write(PINGREQ), 30_000));
      },
      puback: (id) => {
        const kind = this.inflight.get(id);
        if (kind === undefined) return;
        this.inflight.delete(id);
        if (kind === 'event') this.stats.eventsAcked++;
      },
      close: () => {
        if (this.connected) this.stats.connected--;
        this.connected = false;
      },
    });
  }

  event(kind: 'finding' | 'action' | 'rollback' | 'info'): void {
    if (!this.connected) return;
    const message = kind === 'action' ? 'restart interface mesh0 (#1, rung 2): bench' : kind === 'rollback' ? 'orig-interval #2 made things worse (bench): rolled back' : `bench ${kind}`;
    const p: EventPayload = { v: 1, fleet: this.fleet, node: `r${this.index}`, boot: this.boot, seq: ++this.seq, ts: new Date().toISOString(), kind, message };
    this.stats.eventsSent++;
    this.qos1(this.topics.events, JSON.stringify(p), false, 'event');
  }

  get pending(): number {
    return this.inflight.size;
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.sock?.destroy();
  }

  private qos1(topic: string, payload: string, retain: boolean, kind = 'state'): void {
    const id = this.nextId;
    this.nextId = (this.nextId % 65535) + 1;
    this.inflight.set(id, kind);
    this.sock?.write(publishPacket(topic, payload, 1, retain, id));
  }

  private snapshot(): void {
    if (!this.connected) return;
    const i = this.index;
    const n = this.fleetSize;
    const ring = [1, 2, n - 1, n - 2].map((d) => (i + d) % n).filter((j, k, a) => j !== i && a.indexOf(j) === k);
    const p: TelemetryPayload = {
      v: 1, fleet: this.fleet, node: `r${i}`, ts: new Date().toISOString(), boot: this.boot, seq: ++this.snapSeq,
      agent: { version: 'bench', uptimeS: this.snapSeq * 10, driver: 'simulator', dryRun: false, core: 'wasm' },
      mesh: { iface: 'bat0', algo: 'BATMAN_IV', address: mac(i), interfaces: 1, neighbours: ring.length, originators: Math.min(n, 40), gateways: 1, gwMode: i === 0 ? 'server' : 'client' },
      gateway: i === 0 ? null : { originator: mac(0), router: mac(ring[0]!), iface: 'mesh0', tq: 200, downKbps: 50_000, upKbps: 10_000 },
      links: ring.map((j) => ({ neighbour: mac(j), iface: 'mesh0', kind: 'tq' as const, metric: 150 + ((i * 7 + j * 13 + this.snapSeq) % 100) })),
      health: { overall: 'ok', problems: [] },
      load: [0.3, 0.2, 0.1],
      memory: { totalKb: 125_000, freeKb: 60_000, agentRssKb: 38_000, agentHeapKb: 12_000 },
      learning: { round: Math.floor(this.snapSeq / 3), peersHeard: 3, quality: { heldOutAuc: 0.8 } },
      telemetry: { queued: this.inflight.size, dropped: 0, reconnects: 0 },
    };
    this.stats.snapshots++;
    this.sock?.write(publishPacket(this.topics.telemetry, JSON.stringify(p), 0, true));
  }
}
