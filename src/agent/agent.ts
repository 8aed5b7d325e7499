// The agent: wires config, mesh driver, WASM core, the monitor and the status API together,
// in one place, and owns their lifecycle. Each piece stays ignorant of the others; each gets
// its options from the config through its mapper (healing-options.ts, learning-options.ts,
// telemetryOptions, federationSettings). createAgent (create-agent.ts) builds it.
import { hostname } from 'node:os';
import { findField, type AgentConfig } from '../config/schema.ts';
import type { MeshDriver } from '../mesh/driver.ts';
import { Knowledge } from '../mapek/knowledge.ts';
import { Monitor, type CounterReader } from '../mapek/monitor.ts';
import { ActionRefused, Healer, type HealingStatus } from '../mapek/healer.ts';
import { ACTIONS } from '../mapek/actions/index.ts';
import type { ActionKind } from '../mapek/actions/action.ts';
import type { CommandRunner } from '../mapek/command-runner.ts';
import type { ScoreRoutes } from '../mapek/route-quality.ts';
import { LinkEcho, macOfLinkLocal } from '../mesh/link-echo.ts';
import { RxWatch } from '../mapek/rx-watch.ts';
import { renderMetrics } from '../status/metrics.ts';
import { startStatusServer, type StatusServer } from '../status/server.ts';
import type { HealthReport, StatusReport, StatusSource } from '../status/types.ts';
import type { CommandArgs } from '../telemetry/command-args.ts';
import { CommandRejected } from '../telemetry/command-envelope.ts';
import { VERSION } from '../version.ts';
import { adoptStoredFleetSettings, FleetServices, type ConfigChange } from './fleet-services.ts';
import { healerOptions, monitorOptions } from './healing-options.ts';
import type { HealthBoard } from './health.ts';
import type { Logger } from './logger.ts';
import { startingHealth, type StartingHealth } from './starting-health.ts';
import { nodeNames } from '../status/node-names.ts';
import type { SpanContext } from '../tracing/api.ts';
import type { AgentTracer } from '../tracing/tracer.ts';
import { renderTracingMetrics } from '../status/metrics-tracing.ts';
import { NO_LINK_ECHO, renderLinkEchoMetrics } from '../status/metrics-link-echo.ts';
import { renderRadioWatchMetrics } from '../status/metrics-radio-watch.ts';
import { RadioWatch } from '../mapek/radio-watch.ts';
import type { StationReader } from '../mesh/radio-stations.ts';

/** Where host commands, interface counters and pauses come from: the real system, a VM node or a simulated world. */
export interface AgentHost {
  run: CommandRunner;
  counters?: CounterReader;
  /** rx/tx packets of an interface, read often by the rx watch (rx-watch.ts); none: no watch. */
  packets?: (ifname: string) => Promise<{ rx: number; tx: number } | null>;
  /** Opens the reader of Wi-Fi station statistics for the radio watch (radio-watch.ts); none: no watch. */
  openStations?: () => StationReader;
  sleep?: (ms: number) => Promise<void>;
}

/** What an Agent is built from, every default resolved: createAgent (create-agent.ts) makes it. */
export interface AgentParts extends StartingHealth {
  driver: MeshDriver;
  log: Logger;
  describeMac?: (mac: string) => string;
  serveStatus: boolean;
  scoreRoutes: ScoreRoutes | null;
  host: AgentHost;
  now: () => number;
  uptimeMs: () => number;
  random: () => number;
  /** undefined: the journal's default place (healerOptions). */
  journalPath?: string | null;
  manualLoop: boolean;
  /**
   * The mesh driver could not start (no netlink bridge this CPU can run): why. The agent then
   * only serves status, with the mesh down for this reason: no loop, no actions, no fleet parts.
   */
  meshDown?: string;
  /** Spans of healing cycles, commands and learning rounds; shut down (flushed) at stop. */
  tracer: AgentTracer;
}

/** Built by createAgent (create-agent.ts), which resolves the defaults. */
export class Agent implements StatusSource {
  readonly name: string;
  readonly knowledge = new Knowledge();
  readonly healthBoard: HealthBoard;
  readonly healer: Healer | null;
  private readonly monitor: Monitor;
  private readonly fleet: FleetServices;
  private server: StatusServer | null = null;
  private linkEcho: LinkEcho | null = null;
  /** The link echo's trigger (healing.link_echo): null when off or not startable. */
  private rxWatch: RxWatch | null = null;
  /** The radio watch (healing.radio_watch) and its station reader: null when off. */
  private radioWatch: RadioWatch | null = null;
  private stations: StationReader | null = null;
  private readonly startedAt = Date.now();

  constructor(private readonly opts: AgentParts) {
    const { config, driver, log, host, now } = opts;
    // This router's own values: a withdrawn fleet setting returns to them.
    const uciConfig = structuredClone(config);
    if (config.federation.enabled) adoptStoredFleetSettings(config, uciConfig, log);
    this.name = config.agent.nodeName || hostname();
    this.healthBoard = startingHealth(this.name, opts);
    this.healthBoard.probe('tracing', () => opts.tracer.health());
    this.healer = config.healing.enabled && opts.meshDown === undefined
      ? new Healer(
          healerOptions(config, {
            driver,
            run: host.run,
            sleep: host.sleep,
            knowledge: this.knowledge,
            log: log.child('heal'),
            now,
            uptimeMs: opts.uptimeMs,
            random: opts.random,
            score: opts.scoreRoutes,
            journalPath: opts.journalPath,
            describeMac: opts.describeMac,
            failureProbs: () => this.fleet.failureProbabilities(),
            tracer: opts.tracer,
          }),
        )
      : null;
    this.monitor = new Monitor(driver, this.knowledge, this.healthBoard, log.child('monitor'), monitorOptions(config, {
      describeMac: opts.describeMac,
      now,
      counters: host.counters,
      afterPoll: async (pollStartedAt) => {
        this.fleet.afterPoll();
        await this.healer?.step(pollStartedAt);
        this.journalHealth();
      },
    }));
    this.fleet = new FleetServices({
      config,
      node: this.name,
      core: opts.core,
      knowledge: this.knowledge,
      health: this.healthBoard,
      log,
      status: () => this.status(),
      tracer: opts.tracer,
      now,
      uciConfig,
      applyLive: (next, change) => this.applyLive(next, change),
      telemetryHooks: {
        applyConfig: (next, change) => this.applyConfig(next, change),
        runAction: (a, trace) => this.runAction(a, trace),
      },
    });
    this.healthBoard.onChange((comp, before) => {
      if (before !== undefined && before !== comp.state)
        this.knowledge.addEvent(comp.state === 'ok' ? 'info' : 'finding', `${comp.name} ${before} → ${comp.state}: ${comp.reason}`);
    });
  }

  async start(): Promise<void> {
    const c = this.opts.config;
    if (this.opts.serveStatus) {
      this.server = await startStatusServer({ socketPath: c.status.socket, httpPort: c.status.httpPort, source: this });
      this.healthBoard.set('status', 'ok', `serving ${c.status.socket}${this.server.httpPort ? ` and 127.0.0.1:${this.server.httpPort}` : ''}`);
    }
    if (this.opts.meshDown !== undefined) return this.startMeshDown(this.opts.meshDown);
    if (this.healer) {
      try {
        await this.healer.start();
      } catch (e) {
        this.opts.log.error(`healing: could not restore what the previous run left: ${(e as Error).message}`);
      }
      this.journalHealth();
    }
    await this.fleet.start();
    if (c.healing.enabled && !this.opts.manualLoop) {
      this.monitor.start();
      await this.startRxWatch();
      this.startRadioWatch();
    } else await this.monitor.pollOnce(); // still show the mesh once
    this.knowledge.addEvent('info', `agent ${VERSION} started on ${c.agent.meshInterface} (${this.opts.driver.kind})`);
    this.opts.log.info(`started: node ${this.name}, mesh ${c.agent.meshInterface} via ${this.opts.driver.kind}`);
  }

  /**
   * The link echo and the rx watch (healing.link_echo): real interfaces only. A port that cannot
   * be bound leaves the loop as it was, on OGMs alone, and says why in /health.
   */
  private async startRxWatch(): Promise<void> {
    const c = this.opts.config;
    const packets = this.opts.host.packets;
    if (!c.healing.linkEcho || !packets || this.opts.driver.kind !== 'batman-adv') return;
    // A neighbour measuring our shared link suspects a fade: this end measures it too.
    const peerOf = (address: string, then: (ifname: string, mac: string) => void) => {
      const peer = macOfLinkLocal(address);
      if (peer) then(peer.ifname, peer.mac);
    };
    const echo = new LinkEcho({
      port: c.healing.linkEchoPort,
      onMeasured: (address) => peerOf(address, (i, m) => this.rxWatch?.peerMeasuring(i, m)),
      // A neighbour that hears nothing from us: this end checks whether the way to it died.
      onDeaf: (address) => peerOf(address, (i, m) => this.rxWatch?.peerDeaf(i, m)),
    });
    try {
      await echo.start();
    } catch (e) {
      this.healthBoard.set('link-echo', 'degraded', `${(e as Error).message}: dead links are found from OGMs alone`);
      return;
    }
    this.healthBoard.set('link-echo', 'ok', `answering and asking on UDP port ${c.healing.linkEchoPort}`);
    this.linkEcho = echo;
    this.rxWatch = new RxWatch({
      knowledge: this.knowledge, readPackets: packets, echo, pollSoon: () => this.monitor.pollSoon(), now: this.opts.now,
      note: (m) => this.opts.log.info(m),
    });
    this.rxWatch.start();
  }

  /** The radio watch (healing.radio_watch): real interfaces only; a node without Wi-Fi mesh interfaces never opens its reader's bridge. */
  private startRadioWatch(): void {
    const open = this.opts.host.openStations;
    if (!this.opts.config.healing.radioWatch || !open || this.opts.driver.kind !== 'batman-adv') return;
    const reader = open();
    this.stations = reader;
    this.radioWatch = new RadioWatch({ knowledge: this.knowledge, stations: (ifname) => reader.stations(ifname), pollSoon: () => this.monitor.pollSoon(), now: this.opts.now });
    this.radioWatch.start();
  }

  /** Status only: /health, /metrics and the LuCI page say why the mesh is not watched. */
  private startMeshDown(reason: string): void {
    const c = this.opts.config;
    const h = this.healthBoard;
    h.set('mesh', 'down', reason);
    h.set('loop', 'down', 'not running: no mesh driver, nothing to watch or heal');
    for (const part of ['telemetry', 'federation', 'learning'] as const) if (c[part].enabled) h.set(part, 'down', 'not started: no mesh driver');
    this.opts.log.info(`serving status only: node ${this.name}, mesh ${c.agent.meshInterface} not watched`);
  }

  /** The action journal on flash: a refused file or failing writes show in /health, not only in stats. */
  private journalHealth(): void {
    const j = this.healer?.journal;
    if (!j || (!j.path && !j.refused)) return; // memory only by design (simulator, tests)
    const problem = j.problem();
    this.healthBoard.set('journal', problem ? 'degraded' : 'ok', problem ?? `writing ${j.path}`);
  }

  /** One poll and one turn of the loop (manualLoop). */
  async tick(): Promise<void> {
    await this.monitor.pollOnce();
  }

  async stop(): Promise<void> {
    this.rxWatch?.stop();
    this.linkEcho?.stop();
    this.radioWatch?.stop();
    await this.stations?.close();
    await this.monitor.stop();
    await this.fleet.stop().catch((e: Error) => this.opts.log.error(`fleet services: stop failed: ${e.message}`));
    // Temporary changes (lowered orig_interval, quarantines) do not outlive the agent.
    await this.healer?.stop().catch((e: Error) => this.opts.log.error(`healing: restore at stop failed: ${e.message}`));
    await this.server?.close();
    this.server = null;
    await this.opts.driver.close();
    // Last: the spans of the restores above go out too.
    await this.opts.tracer.shutdown().catch((e: Error) => this.opts.log.error(`tracing: shutdown failed: ${e.message}`));
  }

  /**
   * A change that passed the schema (MQTT `set`/`dry-run`, a fleet setting), applied while
   * running where the schema flags the option `apply: 'live'`: agent.dry_run here, the
   * federation's live options through its reconfigure. False: the option is read only when
   * the parts start. Nothing is written to /etc/config.
   */
  private applyLive(next: AgentConfig, change: ConfigChange): boolean {
    if (findField(change.section, change.option)?.[1].apply !== 'live') return false;
    const c = this.opts.config;
    if (change.section === 'agent' && change.option === 'dry_run') {
      c.agent.dryRun = next.agent.dryRun;
      this.healer?.setDryRun(next.agent.dryRun);
      return true;
    }
    if (change.section === 'federation' && this.fleet.reconfigureFederation(next)) {
      c.federation = next.federation;
      return true;
    }
    return false;
  }

  /** MQTT `set` / `dry-run`: refused, with what to do instead, when it cannot apply while running. */
  private applyConfig(next: AgentConfig, change: ConfigChange): string {
    if (!this.applyLive(next, change))
      throw new Error(`${change.section}.${change.option} takes effect only when the agent starts: set it with uci and 'uci commit x0tta6bl4' (procd restarts the agent)`);
    this.knowledge.addEvent('info', `${change.section}.${change.option} changed over MQTT (until the agent restarts)`);
    return 'applied until the agent restarts; not persisted to /etc/config';
  }

  /**
   * MQTT `run-action KIND[/IFNAME[/NEIGHBOUR]]`: one action through the loop's commit-confirm
   * path and its safety rules (allow_reboot, cool-downs, hourly limit, dry run); a refusal
   * names the rule.
   */
  private async runAction({ action, ifname, neighbour }: CommandArgs['run-action'], trace?: SpanContext): Promise<unknown> {
    if (!this.healer) throw new CommandRejected('disabled', 'self-healing is disabled in config (healing.enabled)');
    if (!Object.hasOwn(ACTIONS, action)) throw new CommandRejected('bad-args', `unknown action '${action}' (one of ${Object.keys(ACTIONS).join(', ')})`);
    let e;
    try {
      e = await this.healer.force(action as ActionKind, { ...(ifname !== undefined ? { ifname } : {}), ...(neighbour !== undefined ? { neighbour } : {}) }, 'operator command over MQTT', trace);
    } catch (err) {
      if (err instanceof ActionRefused) throw new CommandRejected(err.rule === 'bad-target' ? 'bad-args' : err.rule, err.message);
      throw err;
    }
    if (e.state === 'dry-run') return { dryRun: true, id: e.id, action: e.action, target: e.target, note: 'dry run: not applied' };
    return { id: e.id, action: e.action, target: e.target, state: e.state, outcome: e.outcome ?? null };
  }

  get httpPort(): number | null {
    return this.server?.httpPort ?? null;
  }

  health(): HealthReport {
    return this.healthBoard.report();
  }

  status(): StatusReport & { healing: HealingStatus | null } {
    const c = this.opts.config;
    const k = this.knowledge;
    return {
      schema: 1,
      node: {
        name: this.name,
        fleet: c.agent.fleet,
        version: VERSION,
        uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
        driver: this.opts.driver.kind,
        meshIf: c.agent.meshInterface,
        algo: k.algo,
        address: k.meshAddress,
        dryRun: c.agent.dryRun,
        core: this.opts.core?.kind ?? null,
      },
      health: this.health(),
      mesh: k.mesh,
      links: k.linkStatus(),
      events: k.recentEvents(),
      names: nodeNames(k.mesh, k.linkStatus(), this.opts.describeMac),
      ...this.fleet.report(),
      healing: this.healer?.status() ?? null,
    };
  }

  metrics(): string {
    const base = renderMetrics(this.status(), { ...this.monitor.stats, eventTotals: this.knowledge.eventTotals() });
    return base + (this.healer?.metrics(this.name) ?? '') + this.fleet.metrics() + renderTracingMetrics(this.name, this.opts.tracer.enabled, this.opts.tracer.stats()) +
      renderLinkEchoMetrics(this.name, this.linkEcho !== null, { ...NO_LINK_ECHO, ...this.rxWatch?.stats, ...this.linkEcho?.stats }) +
      renderRadioWatchMetrics(this.name, this.radioWatch !== null, { ...(this.radioWatch?.stats ?? { reads: 0, wireless: 0, fades: 0 }), failing: this.stations?.problem != null });
  }
}

