// The agent's MQTT side (topic contract: README, "Fleet telemetry over MQTT"): a retained online/offline state with a
// Last Will, periodic telemetry, QoS 1 events through a bounded store-and-forward queue, and
// signed commands with replies. It never blocks or fails the agent: every problem becomes the
// `telemetry` health component and a retry with jittered exponential backoff.
import { randomBytes } from 'node:crypto';
import { freemem, loadavg, totalmem } from 'node:os';
import type { Logger } from '../agent/logger.ts';
import { FleetCa } from '../federation/fleet-ca.ts';
import { defaultTrustDomain } from '../federation/settings.ts';
import { readRegularFile } from '../flash/safe-read.ts';
import { MAX_PEM_BYTES } from './broker-connection.ts';
import type { ComponentState, StatusEvent, StatusReport } from '../status/types.ts';
import { VERSION } from '../version.ts';
import { Backoff } from './backoff.ts';
import { BrokerConfigError, openBrokerClient, type MqttClient } from './broker-connection.ts';
import { redactUrl } from '../config/redact-url.ts';
import type { CommandArgs } from './command-args.ts';
import { checkCommand, nonceOf } from './command-check.ts';
import { CommandTrace } from './command-trace.ts';
import type { SpanContext, Tracer } from '../tracing/api.ts';
import { CommandCrl } from './command-crl.ts';
import { CommandRejected, type CommandName } from './command-envelope.ts';
import { describeConnectError, type ConnectProblem } from './connect-errors.ts';
import { EventQueue } from './event-queue.ts';
import { NonceCache } from './nonce-cache.ts';
import { RefusalBudget } from './refusal-budget.ts';
import type { ReplyPayload, StatePayload } from './payloads.ts';
import { loadQueueFile, QueueFile } from './queue-file.ts';
import { buildEvent, buildTelemetry, type SystemLoad } from './snapshot.ts';
import { nodeTopics, parseTopic, PAYLOAD_VERSION, TopicError, type NodeTopics } from './topics.ts';

export interface CommandContext {
  /** "CN=ops-alice (sha256 AB:CD:..)": who signed the command, for logs and the journal. */
  signer: string;
  nonce: string;
  /** The command's execute span (tracing on): work the handler starts goes under it. */
  trace?: SpanContext;
}

export type CommandHandler<K extends CommandName> = (args: CommandArgs[K], ctx: CommandContext) => unknown;
/** What the agent can do on command; a missing handler refuses that command with a reason. */
export type CommandHandlers = { [K in CommandName]?: CommandHandler<K> };

export interface TelemetryOptions {
  node: string;
  fleet: string;
  /** mqtts://host[:port], or mqtt:// on loopback (or with allowPlaintext). */
  broker: string;
  intervalS: number;
  username?: string;
  password?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Plaintext MQTT to a non-loopback broker; off by default. */
  allowPlaintext?: boolean;
  /** PEM of the fleet CA(s) that certify command signers; without it every command is refused. */
  commandCaFile?: string;
  /** SPIFFE trust domain: commands are signed by spiffe://<it>/operator/<name> certificates (default <fleet>.x0tta6bl4). */
  trustDomain?: string;
  /** The fleet's CRL (kept up to date by the federation); a revoked operator's commands are refused. */
  crlFile?: string;
  /** QoS 1 events kept while the broker is away (default 1000); the oldest go first. */
  bufferLimit?: number;
  /** Also keep the queue in this file (on flash) across agent restarts; '' = RAM only. */
  bufferFile?: string;
  /** At most one write of bufferFile per this many seconds (default 60). */
  bufferWriteIntervalS?: number;
  keepaliveS?: number;
  /** Reconnect backoff bounds (defaults 1 s and 60 s). */
  reconnectMinS?: number;
  reconnectMaxS?: number;
  /** How far a command's timestamp may be from this node's clock (default 300 s). */
  maxClockSkewS?: number;
  /** How long one command handler may take before the reply says it failed (default 60 s). */
  commandTimeoutS?: number;
  source: { status(): StatusReport };
  /** Called once; returns the unsubscribe function. */
  subscribeEvents(listener: (e: StatusEvent) => void): () => void;
  health: { set(name: string, state: ComponentState, reason: string): void };
  commands?: CommandHandlers;
  /** Spans of each command (command-trace.ts); default none. */
  tracer?: Tracer;
  log: Logger;
}

export type TelemetryStats = {
  state: 'connecting' | 'connected' | 'retrying' | 'misconfigured' | 'stopped';
  broker: string;
  security: string | null;
  connectedSince: string | null;
  lastError: string | null;
  connects: number;
  connectFailures: number;
  eventsQueued: number;
  eventsInFlight: number;
  eventsSent: number;
  eventsDropped: number;
  bufferLimit: number;
  telemetrySent: number;
  telemetrySkipped: number;
  telemetryBytes: number;
  commandsAccepted: number;
  commandsRejected: number;
  bufferFileWrites: number;
  bufferFileErrors: number;
};

export interface Telemetry {
  stats(): TelemetryStats;
  /** Publishes a telemetry snapshot now (when connected), e.g. after a significant change. */
  publishNow(): void;
  /** Sends what it can within a few seconds, says offline, disconnects, saves the queue. */
  stop(): Promise<void>;
}

const COMPONENT = 'telemetry';
const IN_FLIGHT_WINDOW = 16;
const MAX_PENDING_COMMANDS = 16;
const MAX_REPLY_BYTES = 256 * 1024;
// A connection that lasted this long was a good one: the next failure starts backoff afresh.
const STABLE_MS = 60_000;
const STOP_DRAIN_MS = 3000;

export function startTelemetry(o: TelemetryOptions): Telemetry {
  const t = new TelemetryPublisher(o);
  t.start();
  return t;
}

class TelemetryPublisher implements Telemetry {
  private readonly boot = randomBytes(4).toString('hex');
  private readonly log: Logger;
  private readonly health0: TelemetryOptions['health'];
  private topics: NodeTopics | null = null;
  private readonly queue: EventQueue;
  private file: QueueFile | null = null;
  private readonly backoff: Backoff;
  private readonly nonces = new NonceCache();
  private readonly startedAt = Date.now();
  private trust: FleetCa | null = null;
  private readonly crl: CommandCrl | null;
  private trustProblem: string | null = null;
  private eventSeq = 0;
  private telemetrySeq = 0;
  private gen = 0;
  private client: MqttClient | null = null;
  private display: string;
  private security: string | null = null;
  private connected = false;
  private connectedAt = 0;
  private stopping = false;
  private problem: ConnectProblem | null = null;
  private loggedReason: string | null = null;
  private unsubscribe: (() => void) | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private commandChain: Promise<void> = Promise.resolve();
  private pendingCommands = 0;
  private readonly refusals = new RefusalBudget();
  private readonly counters = {
    state: 'connecting' as TelemetryStats['state'],
    connects: 0,
    connectFailures: 0,
    telemetrySent: 0,
    telemetrySkipped: 0,
    telemetryBytes: 0,
    commandsAccepted: 0,
    commandsRejected: 0,
    lastError: null as string | null,
  };

  private readonly opts: TelemetryOptions;
  /** Why the event buffer file is not used (memory only); shown in every health line. */
  private fileProblem: string | null = null;
  private lastHealth: [ComponentState, string] | null = null;

  constructor(o: TelemetryOptions) {
    // A refused buffer file keeps the component degraded, whatever the connection does.
    this.opts = { ...o, health: { set: (_name, state, reason) => this.setHealth(state, reason) } };
    this.health0 = o.health;
    this.log = o.log;
    this.queue = new EventQueue(o.bufferLimit ?? 1000);
    this.backoff = new Backoff({ minMs: (o.reconnectMinS ?? 1) * 1000, maxMs: (o.reconnectMaxS ?? 60) * 1000 });
    this.display = redactUrl(o.broker);
    this.crl = o.crlFile ? new CommandCrl(o.crlFile, (m) => this.log.warn(m)) : null;
  }

  start(): void {
    try {
      this.topics = nodeTopics(this.opts.fleet, this.opts.node);
    } catch (e) {
      if (!(e instanceof TopicError)) throw e;
      this.misconfigured(e.message);
      return;
    }
    if (this.opts.bufferFile) this.restoreQueue(this.opts.bufferFile);
    this.unsubscribe = this.opts.subscribeEvents((e) => this.onEvent(e));
    this.tickTimer = setInterval(() => this.tick(), Math.max(1, this.opts.intervalS) * 1000);
    this.opts.health.set(COMPONENT, 'degraded', `connecting to ${this.display}`);
    this.connect();
  }

  private setHealth(state: ComponentState, reason: string): void {
    this.lastHealth = [state, reason];
    if (this.fileProblem && state !== 'disabled') {
      if (state === 'ok') state = 'degraded';
      reason = `${reason}; ${this.fileProblem}`;
    }
    this.health0.set(COMPONENT, state, reason);
  }

  /** The buffer file cannot be used: memory only from now on, said once in the log and always in /health. */
  private refuseFile(message: string): void {
    this.file?.close();
    this.file = null;
    this.fileProblem = `telemetry.buffer_file refused: ${message}; events kept in memory only`;
    this.log.warn(this.fileProblem);
    if (this.lastHealth) this.setHealth(...this.lastHealth);
  }

  private restoreQueue(path: string): void {
    let loaded;
    try {
      loaded = loadQueueFile(path, this.queue.limit);
    } catch (e) {
      // Not ours (or not a regular file): left byte for byte as it is, never written or deleted.
      this.refuseFile((e as Error).message);
      return;
    }
    this.file = new QueueFile({
      path,
      limit: this.queue.limit,
      minIntervalMs: (this.opts.bufferWriteIntervalS ?? 60) * 1000,
      payloads: () => this.queue.payloads(),
      onError: (m, foreign) => (foreign ? this.refuseFile(m) : this.log.warn(m)),
    });
    for (const p of loaded.payloads) this.queue.push(p);
    this.queue.dropped += loaded.dropped;
    this.file.adopt(loaded.payloads);
    if (loaded.payloads.length || loaded.skipped)
      this.log.info(`restored ${loaded.payloads.length} buffered events from ${path}${loaded.skipped ? ` (${loaded.skipped} unreadable lines skipped)` : ''}`);
  }

  private misconfigured(reason: string): void {
    this.counters.state = 'misconfigured';
    this.counters.lastError = reason;
    this.opts.health.set(COMPONENT, 'down', `${reason} (not retrying until the configuration changes)`);
    this.log.error(`telemetry disabled: ${reason}`);
  }

  private onEvent(e: StatusEvent): void {
    if (this.stopping || !this.topics) return;
    this.queue.push(buildEvent(e, { fleet: this.opts.fleet, node: this.opts.node, boot: this.boot, seq: ++this.eventSeq }));
    this.file?.markDirty();
    this.pump();
  }

  private tick(): void {
    if (this.connected) this.publishTelemetry();
    else this.counters.telemetrySkipped++; // coalesced: one fresh snapshot goes out on reconnect
  }

  publishNow(): void {
    if (this.connected) this.publishTelemetry();
  }

  private loadTrust(): void {
    if (!this.opts.commandCaFile) return;
    try {
      const pem = readRegularFile(this.opts.commandCaFile, { maxBytes: MAX_PEM_BYTES });
      if (pem === null) throw new Error(`${this.opts.commandCaFile}: does not exist`);
      this.trust = FleetCa.fromPem(pem, `fleet CA ${this.opts.commandCaFile}`);
      this.trustProblem = null;
    } catch (e) {
      // Keep the last good CA: a file being replaced must not open or close the door by accident.
      // Said once per distinct problem, not at every reconnect.
      const why = (e as Error).message;
      if (why === this.trustProblem) return;
      this.trustProblem = why;
      this.log.warn(`cannot load the fleet CA for commands: ${(e as Error).message}${this.trust ? '; keeping the previous one' : '; commands are refused'}`);
    }
  }

  private statePayload(state: 'online' | 'offline', reason: StatePayload['reason'], since: number): string {
    const p: StatePayload = {
      v: PAYLOAD_VERSION,
      fleet: this.opts.fleet,
      node: this.opts.node,
      state,
      reason,
      since: new Date(since).toISOString(),
      boot: this.boot,
      version: VERSION,
    };
    return JSON.stringify(p);
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.stopping || !this.topics) return;
    const topics = this.topics;
    const gen = ++this.gen;
    this.loadTrust();
    let opened;
    try {
      opened = openBrokerClient({
        broker: this.opts.broker,
        clientId: `x0tta6bl4-${this.opts.fleet}-${this.opts.node}`,
        username: this.opts.username,
        password: this.opts.password,
        caFile: this.opts.caFile,
        certFile: this.opts.certFile,
        keyFile: this.opts.keyFile,
        allowPlaintext: this.opts.allowPlaintext,
        keepaliveS: this.opts.keepaliveS,
        will: { topic: topics.state, payload: this.statePayload('offline', 'lost', Date.now()), qos: 1, retain: true },
      });
    } catch (e) {
      if (!(e instanceof BrokerConfigError)) throw e;
      if (e.permanent) return this.misconfigured(e.message);
      this.problem = { reason: e.message, needsOperator: true };
      this.scheduleReconnect(false);
      return;
    }
    const { client, target, security } = opened;
    this.client = client;
    this.display = target.display;
    this.security = security;
    client.on('connect', () => gen === this.gen && this.onConnected(client, topics));
    client.on('error', (err) => {
      if (gen === this.gen) this.problem = describeConnectError(err);
    });
    client.on('close', () => gen === this.gen && this.onClosed(client));
    client.on('message', (topic, payload) => gen === this.gen && this.onMessage(topic, payload));
  }

  private onConnected(client: MqttClient, topics: NodeTopics): void {
    this.connected = true;
    this.connectedAt = Date.now();
    this.problem = null;
    this.loggedReason = null;
    this.counters.connects++;
    this.counters.state = 'connected';
    this.opts.health.set(COMPONENT, 'ok', `connected to ${this.display} (${this.security})`);
    this.log.info(`connected to ${this.display} (${this.security}); ${this.queue.size} events to send`);
    client.publish(topics.state, this.statePayload('online', 'connected', this.connectedAt), { qos: 1, retain: true });
    client.subscribe(topics.commands, { qos: 1 }, (err, granted) => {
      if (err || granted?.[0]?.qos === 128)
        this.log.warn(`broker refused the command subscription ${topics.commands}${err ? `: ${err.message}` : ' (ACL?)'}; commands will not arrive`);
    });
    this.queue.rewind();
    this.pump();
    this.publishTelemetry();
  }

  private onClosed(client: MqttClient): void {
    const wasConnected = this.connected;
    this.connected = false;
    this.queue.rewind();
    this.retire(client);
    if (this.stopping) return;
    if (wasConnected && Date.now() - this.connectedAt >= STABLE_MS) this.backoff.reset();
    if (!this.problem) this.problem = { reason: wasConnected ? 'connection lost' : 'connection closed before CONNACK', needsOperator: false };
    this.scheduleReconnect(wasConnected);
  }

  private retire(client: MqttClient): void {
    if (this.client === client) this.client = null;
    client.removeAllListeners();
    client.on('error', () => {}); // late errors of a dead connection are not news
    client.end(true);
  }

  private scheduleReconnect(wasConnected: boolean): void {
    const problem = this.problem!;
    if (!wasConnected) this.counters.connectFailures++;
    this.counters.state = 'retrying';
    this.counters.lastError = problem.reason;
    const delay = this.backoff.next();
    this.opts.health.set(COMPONENT, problem.needsOperator ? 'down' : 'degraded', `${this.display}: ${problem.reason}; retrying`);
    // One log line per distinct problem, not one per retry.
    if (this.loggedReason !== problem.reason) {
      this.loggedReason = problem.reason;
      this.log.warn(`${this.display}: ${problem.reason}; retrying with backoff (next in ${(delay / 1000).toFixed(1)} s), ${this.queue.size} events buffered`);
    }
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Sends unsent events, keeping at most IN_FLIGHT_WINDOW awaiting PUBACK. */
  private pump(): void {
    const client = this.client;
    const topics = this.topics;
    if (!this.connected || !client || !topics) return;
    const gen = this.gen;
    while (this.queue.inFlight < IN_FLIGHT_WINDOW) {
      const e = this.queue.takeUnsent();
      if (!e) break;
      client.publish(topics.events, e.payload, { qos: 1 }, (err) => {
        if (err || gen !== this.gen) return; // resent from the queue on the next connection
        this.queue.ack(e);
        this.file?.markDirty();
        this.pump();
      });
    }
  }

  private systemLoad(): SystemLoad {
    const mem = process.memoryUsage();
    const [a = 0, b = 0, c = 0] = loadavg();
    return {
      load: [a, b, c],
      totalKb: Math.round(totalmem() / 1024),
      freeKb: Math.round(freemem() / 1024),
      agentRssKb: Math.round(mem.rss / 1024),
      agentHeapKb: Math.round(mem.heapUsed / 1024),
    };
  }

  private publishTelemetry(): void {
    const client = this.client;
    if (!client || !this.topics) return;
    let json: string;
    try {
      json = buildTelemetry(this.opts.source.status(), {
        boot: this.boot,
        seq: ++this.telemetrySeq,
        now: Date.now(),
        system: this.systemLoad(),
        queue: { queued: this.queue.size, dropped: this.queue.dropped, reconnects: Math.max(0, this.counters.connects - 1) },
      }).json;
    } catch (e) {
      this.log.warn(`telemetry snapshot failed: ${(e as Error).message}`);
      return;
    }
    client.publish(this.topics.telemetry, json, { qos: 0, retain: true });
    this.counters.telemetrySent++;
    this.counters.telemetryBytes = Buffer.byteLength(json);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (!t || t.kind !== 'command' || t.fleet !== this.opts.fleet || t.node !== this.opts.node) return;
    const name = t.command!;
    if (this.pendingCommands >= MAX_PENDING_COMMANDS) {
      this.reject(name, payload, new CommandRejected('busy', `${MAX_PENDING_COMMANDS} commands already waiting; retry later`));
      return;
    }
    this.pendingCommands++;
    this.commandChain = this.commandChain
      .then(() => this.runCommand(name, payload))
      .catch((e) => this.log.error(`command ${name}: ${(e as Error).stack ?? e}`))
      .finally(() => this.pendingCommands--);
  }

  private async runCommand(name: string, raw: Buffer): Promise<void> {
    const trace = CommandTrace.begin(this.opts.tracer, name);
    let accepted;
    try {
      accepted = checkCommand(raw, name, {
        fleet: this.opts.fleet,
        node: this.opts.node,
        trust: this.trust,
        trustDomain: this.opts.trustDomain ?? defaultTrustDomain(this.opts.fleet),
        ...(this.crl && this.trust ? { revoked: (cert) => this.crl!.revoked(this.trust!, cert) } : {}),
        maxSkewMs: (this.opts.maxClockSkewS ?? 300) * 1000,
        notBeforeMs: this.startedAt,
        nonces: this.nonces,
        now: Date.now(),
      });
    } catch (e) {
      if (!(e instanceof CommandRejected)) throw e;
      trace?.rejected(raw, e);
      this.reject(name, raw, e);
      trace?.replied(false, e.code);
      return;
    }
    const { envelope, signer } = accepted;
    const handler = this.opts.commands?.[accepted.name] as CommandHandler<CommandName> | undefined;
    if (!handler) {
      const e = new CommandRejected('disabled', `this agent has no '${name}' command`);
      trace?.rejected(raw, e);
      this.reject(name, raw, e);
      trace?.replied(false, e.code);
      return;
    }
    const context = trace?.accepted(envelope, signer);
    this.counters.commandsAccepted++;
    this.log.info(`command ${name} ${JSON.stringify(envelope.args)} from ${signer}`);
    const base = { cmd: name, nonce: envelope.nonce, signer };
    const timeoutMs = (this.opts.commandTimeoutS ?? 60) * 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        Promise.resolve().then(() => handler(accepted.args as never, { signer, nonce: envelope.nonce, ...(context ? { trace: context } : {}) })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CommandRejected('failed', `no result within ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
      trace?.executed(true);
      this.reply({ ...base, ok: true, result: result ?? null });
      trace?.replied(true);
    } catch (e) {
      const code = e instanceof CommandRejected ? e.code : 'failed';
      this.log.warn(`command ${name} from ${signer} failed: ${(e as Error).message}`);
      trace?.executed(false, code, (e as Error).message);
      this.reply({ ...base, ok: false, code, error: (e as Error).message ?? String(e) });
      trace?.replied(false, code);
    } finally {
      clearTimeout(timer);
    }
  }

  private reject(name: string, raw: Buffer, e: CommandRejected): void {
    this.counters.commandsRejected++;
    // Refusals are cheap to provoke: logged and answered in a burst, then at most 2 per second.
    const spoken = this.refusals.take();
    if (!spoken) return;
    const more = spoken.skipped ? ` (${spoken.skipped} more refused since the last one logged)` : '';
    this.log.warn(`command ${name.slice(0, 64)} rejected: ${e.code}: ${e.message}${more}`);
    this.reply({ cmd: name, nonce: nonceOf(raw), ok: false, code: e.code, error: e.message });
  }

  private reply(r: Omit<ReplyPayload, 'v' | 'fleet' | 'node' | 'ts'>): void {
    if (!this.client || !this.connected || !this.topics) return;
    const p: ReplyPayload = { v: PAYLOAD_VERSION, fleet: this.opts.fleet, node: this.opts.node, ...r, ts: new Date().toISOString() };
    let json = JSON.stringify(p);
    if (Buffer.byteLength(json) > MAX_REPLY_BYTES) {
      const { result: _dropped, ...rest } = p;
      json = JSON.stringify({ ...rest, ok: false, code: 'failed', error: `result of ${Buffer.byteLength(json)} bytes is too large for a reply` });
    }
    this.client.publish(this.topics.reply(r.cmd), json, { qos: 1 });
  }

  stats(): TelemetryStats {
    return {
      state: this.counters.state,
      broker: this.display,
      security: this.security,
      connectedSince: this.connected ? new Date(this.connectedAt).toISOString() : null,
      lastError: this.counters.lastError,
      connects: this.counters.connects,
      connectFailures: this.counters.connectFailures,
      eventsQueued: this.queue.size,
      eventsInFlight: this.queue.inFlight,
      eventsSent: this.queue.acked,
      eventsDropped: this.queue.dropped,
      bufferLimit: this.queue.limit,
      telemetrySent: this.counters.telemetrySent,
      telemetrySkipped: this.counters.telemetrySkipped,
      telemetryBytes: this.counters.telemetryBytes,
      commandsAccepted: this.counters.commandsAccepted,
      commandsRejected: this.counters.commandsRejected,
      bufferFileWrites: this.file?.writes ?? 0,
      bufferFileErrors: this.file?.errors ?? 0,
    };
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.unsubscribe?.();
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (client && this.connected && this.topics) {
      const deadline = Date.now() + STOP_DRAIN_MS;
      while (this.queue.size > 0 && this.connected && Date.now() < deadline) await sleep(25);
      const offline = this.statePayload('offline', 'stopped', Date.now());
      await Promise.race([
        new Promise<void>((resolve) => client.publish(this.topics!.state, offline, { qos: 1, retain: true }, () => resolve())),
        sleep(Math.max(250, deadline - Date.now())),
      ]);
      // A clean DISCONNECT: the broker discards the Last Will, the retained 'stopped' stays.
      await Promise.race([new Promise<void>((resolve) => client.end(false, {}, () => resolve())), sleep(1000)]);
    }
    this.connected = false;
    if (this.client) this.retire(this.client);
    this.gen++;
    this.file?.flushNow();
    this.file?.close();
    this.counters.state = 'stopped';
    this.opts.health.set(COMPONENT, 'disabled', 'stopped');
    await Promise.race([this.commandChain, sleep(1000)]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
