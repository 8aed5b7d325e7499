// The fleet exporter: one MQTT subscription to the topic contract v1, one FleetModel, and an HTTP
// server that renders it as Prometheus text on /metrics. It connects like the agent does (the
// same broker-connection: TLS verified, optional client certificate, jittered backoff, fresh
// client per attempt) and runs on the operator's backend host, never on a router.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createGzip } from 'node:zlib';
import { Backoff } from '../telemetry/backoff.ts';
import { openBrokerClient, type ConnectSettings, type MqttClient } from '../telemetry/broker-connection.ts';
import { describeConnectError } from '../telemetry/connect-errors.ts';
import { checkLevel, TOPIC_ROOT } from '../telemetry/topics.ts';
import { cacheNode, Exposition, renderFleet, type Shard } from './exposition.ts';
import { FleetModel, type ModelLimits } from './fleet-model.ts';

export interface ExporterOptions {
  connect: Omit<ConnectSettings, 'clientId' | 'will' | 'clean'>;
  /** Only this fleet, or every fleet on the broker (null). */
  fleet: string | null;
  host: string;
  port: number;
  limits: ModelLimits;
  names?: ReadonlyMap<string, string>;
  log: (line: string) => void;
  /**
   * A persistent session under this MQTT client id (clean=false): the broker keeps the
   * subscription and queues QoS 1 events while the exporter is away or restarting. Null or
   * absent: a clean session with a random id (events sent meanwhile are lost to it).
   */
  sessionId?: string | null;
  /** Compress /metrics for a scraper that sends Accept-Encoding: gzip (Prometheus does). */
  gzip?: boolean;
  /** Reconnect delays (tests shorten them). */
  backoff?: { minMs: number; maxMs: number };
}

export function exporterSubscriptions(fleet: string | null): string[] {
  const f = fleet === null ? '+' : checkLevel('fleet', fleet);
  return ['state', 'telemetry', 'events'].map((k) => `${TOPIC_ROOT}/${f}/+/${k}`);
}

/**
 * `?shard=I&shards=K` (0 <= I < K <= 64): only the nodes whose hash is I modulo K. Prometheus
 * scrapes each shard as its own target, at its own offset in the interval, so one large scrape
 * becomes K small ones (docs/fleet-exporter.md, "Scale"). A bad value is a message, not a crash.
 */
export function parseShard(q: URLSearchParams): Shard | undefined | string {
  const i = q.get('shard');
  const k = q.get('shards');
  if (i === null && k === null) return undefined;
  const index = Number(i);
  const count = Number(k);
  if (!/^\d{1,2}$/.test(i ?? '') || !/^\d{1,2}$/.test(k ?? '') || count < 1 || count > 64 || index >= count)
    return `shard=I&shards=K needs integers 0 <= I < K <= 64, got shard=${JSON.stringify(i)} shards=${JSON.stringify(k)}`;
  return { index, count };
}

export class FleetExporter {
  readonly model: FleetModel;
  private client: MqttClient | null = null;
  private server: Server | null = null;
  private retry: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly backoff: Backoff;
  readonly stats = { connected: false, connects: 0, connectFailures: 0, scrapes: 0, lastRenderMs: 0, lastRenderCpuMs: 0, lastError: null as string | null };

  constructor(private readonly o: ExporterOptions) {
    this.model = new FleetModel(o.limits, o.names);
    this.backoff = new Backoff(o.backoff ?? {});
  }

  /** Serves /metrics and starts connecting; resolves with the URL once the server listens. */
  async start(): Promise<string> {
    const topics = exporterSubscriptions(this.o.fleet);
    this.connect(topics);
    const server = createServer((req, res) => {
      const [path, query] = (req.url ?? '/').split('?') as [string, string | undefined];
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
      if (path === '/metrics') {
        const shard = parseShard(new URLSearchParams(query ?? ''));
        if (typeof shard === 'string') return void res.writeHead(400, { 'content-type': 'text/plain' }).end(`${shard}\n`);
        const e = this.render(Date.now(), shard);
        const gz = this.o.gzip === true && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', ...(gz ? { 'content-encoding': 'gzip', vary: 'accept-encoding' } : {}) });
        if (req.method === 'HEAD') return void res.end();
        if (!gz) {
          for (const chunk of e.chunks()) res.write(chunk);
          return void res.end();
        }
        // Level 1: most of the size for a fraction of the CPU of the default level.
        const z = createGzip({ level: 1 });
        z.on('error', () => res.destroy());
        z.pipe(res);
        for (const chunk of e.chunks()) z.write(chunk);
        return void z.end();
      }
      if (path === '/') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('x0tta6bl4 fleet exporter: /metrics\n');
      res.writeHead(404).end();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    const sweepMs = Math.max(1000, Math.min(30_000, (this.o.limits.ttlS * 1000) / 4));
    this.sweeper = setInterval(() => this.model.sweep(Date.now()), sweepMs);
    const a = server.address() as { port: number };
    const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    return `http://${host}:${a.port}/metrics`;
  }

  /** The fleet, or one shard of it; the exporter's own series are in shard 0 only (no double counts). */
  render(now: number, shard?: Shard): Exposition {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    this.model.sweep(now);
    const e = renderFleet(this.model, now, shard);
    if (!shard || shard.index === 0) this.renderSelf(e);
    this.stats.scrapes++;
    this.stats.lastRenderMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    this.stats.lastRenderCpuMs = (cpu.user + cpu.system) / 1000;
    return e;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.sweeper) clearInterval(this.sweeper);
    const c = this.client;
    this.client = null;
    if (c) await new Promise<void>((r) => c.end(false, {}, () => r()));
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  private connect(topics: string[]): void {
    if (this.stopping) return;
    // Throws BrokerConfigError for a URL or TLS file that cannot work: start() passes it on.
    const session = this.o.sessionId ? { clientId: this.o.sessionId, clean: false } : { clientId: `x0tta6bl4-exporter-${randomBytes(4).toString('hex')}` };
    const { client, target } = openBrokerClient({ ...this.o.connect, ...session });
    this.client = client;
    let lastError: unknown = null;
    client.on('message', (topic, payload, packet) => {
      const n = this.model.update(topic, payload, packet.retain, Date.now());
      if (n) cacheNode(n, this.model);
    });
    client.on('error', (e) => (lastError = e));
    client.on('connect', (connack) => {
      if (this.o.sessionId) this.o.log(`fleet exporter: session ${this.o.sessionId} ${connack.sessionPresent ? 'resumed (events kept by the broker follow)' : 'new (nothing kept from before)'}`);
      this.stats.connected = true;
      this.stats.connects++;
      this.backoff.reset();
      client.subscribe(topics, { qos: 1 }, (err, granted) => {
        const refused = err ?? (granted?.some((g) => g.qos === 128) ? new Error(`the broker refused the subscription to ${topics.join(', ')} (ACL?)`) : null);
        if (refused) {
          this.stats.lastError = refused.message;
          this.o.log(`fleet exporter: ${target.display}: ${refused.message}`);
        } else this.o.log(`fleet exporter: connected to ${target.display}, subscribed to ${topics.join(' ')}`);
      });
    });
    client.on('close', () => {
      if (this.client !== client) return;
      if (this.stats.connected) this.o.log(`fleet exporter: connection to ${target.display} lost${lastError ? `: ${describeConnectError(lastError).reason}` : ''}`);
      else this.stats.connectFailures++;
      this.stats.connected = false;
      if (lastError) this.stats.lastError = describeConnectError(lastError).reason;
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
      if (this.stopping) return;
      this.scheduleConnect(topics);
    });
  }

  /** The next attempt after a backoff delay; a TLS file that became unreadable is said and retried, never thrown. */
  private scheduleConnect(topics: string[]): void {
    this.retry = setTimeout(() => {
      try {
        this.connect(topics);
      } catch (e) {
        this.stats.lastError = (e as Error).message;
        this.stats.connectFailures++;
        this.o.log(`fleet exporter: ${(e as Error).message}; retrying`);
        this.scheduleConnect(topics);
      }
    }, this.backoff.next());
  }

  private renderSelf(e: Exposition): void {
    const m = this.model;
    const p = 'x0tta6bl4_fleet_exporter_';
    e.family(`${p}connected`, 'gauge', 'Connected to the broker: 1 or 0.', [['', this.stats.connected ? 1 : 0]]);
    e.family(`${p}connects_total`, 'counter', 'Successful broker connections.', [['', this.stats.connects]]);
    e.family(`${p}connect_failures_total`, 'counter', 'Connection attempts that failed before CONNACK.', [['', this.stats.connectFailures]]);
    e.family(`${p}messages_total`, 'counter', 'Messages received, by topic kind.', Object.entries(m.messages).map(([k, v]) => [`topic="${k}"`, v] as [string, number]));
    e.family(`${p}messages_ignored_total`, 'counter', 'Messages ignored, by reason (not contract v1, too large, wrong identity, too old, node limit).', [...m.invalid].map(([k, v]) => [`reason="${k}"`, v] as [string, number]));
    e.family(`${p}nodes`, 'gauge', 'Nodes known to the exporter.', [['', m.nodes.size]]);
    e.family(`${p}nodes_expired_total`, 'counter', 'Nodes forgotten after the TTL.', [['', m.expired]]);
    e.family(`${p}render_seconds`, 'gauge', 'Wall time the previous /metrics took to render.', [['', this.stats.lastRenderMs / 1000]]);
    e.family(`${p}render_cpu_seconds`, 'gauge', 'CPU time the previous /metrics took to render (wall time minus waiting for a loaded CPU).', [['', this.stats.lastRenderCpuMs / 1000]]);
    const mem = process.memoryUsage();
    e.family('process_resident_memory_bytes', 'gauge', 'Resident memory of the exporter process.', [['', mem.rss]]);
    e.family('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap in use by the exporter.', [['', mem.heapUsed]]);
    e.family('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap reserved by the exporter.', [['', mem.heapTotal]]);
    e.family('nodejs_external_memory_bytes', 'gauge', 'Memory outside the V8 heap (buffers) of the exporter.', [['', mem.external + mem.arrayBuffers]]);
  }
}
