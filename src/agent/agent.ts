// The agent: wires config, mesh driver, WASM core, the monitor and the status API together,
// in one place, and owns their lifecycle. Each piece stays ignorant of the others.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { findField, type AgentConfig } from '../config/schema.ts';
import type { Core } from '../core/index.ts';
import type { MeshDriver } from '../mesh/driver.ts';
import { Knowledge } from '../mapek/knowledge.ts';
import { Monitor, type CounterReader } from '../mapek/monitor.ts';
import { ActionRefused, Healer, type HealingStatus } from '../mapek/healer.ts';
import { ACTIONS } from '../mapek/actions/index.ts';
import { batctlPingProbe } from '../mapek/gateway-probe.ts';
import type { ActionKind } from '../mapek/actions/action.ts';
import { systemRunner, type CommandRunner } from '../mapek/command-runner.ts';
import type { ScoreRoutes } from '../mapek/route-quality.ts';
import { sysCounters, systemUptimeMs } from '../mapek/system-host.ts';
import { renderMetrics } from '../status/metrics.ts';
import { startStatusServer, type StatusServer } from '../status/server.ts';
import type { HealthReport, StatusReport, StatusSource } from '../status/types.ts';
import type { CommandArgs } from '../telemetry/command-args.ts';
import { CommandRejected } from '../telemetry/command-envelope.ts';
import { VERSION } from '../version.ts';
import { adoptStoredFleetSettings, FleetServices, type ConfigChange } from './fleet-services.ts';
import { HealthBoard } from './health.ts';
import { privilegedRunner, privilegesHealth, readPrivileges, type ProcessPrivileges } from './privileges.ts';
import type { Logger } from './logger.ts';

export interface AgentOptions {
  config: AgentConfig;
  /** Where the config came from, for messages ("embedded default" for the demo). */
  configSource: string;
  configWarnings?: string[];
  driver: MeshDriver;
  log: Logger;
  /** The WASM core's kind, or null when it could not load (the agent still runs without it). */
  core?: { kind: 'wasm' | 'js'; reason?: string } | null;
  /** The loaded core itself: route scoring and federated learning run in it. */
  coreEngine?: Core | null;
  /** Names MACs in events (the demo knows node names; a router does not). */
  describeMac?: (mac: string) => string;
  /** Status API: false for agents that only live in-process (tests). */
  serveStatus?: boolean;
  /** The core's route scoring (core.scoreRoutes); without it analysis falls back to plain TQ. */
  scoreRoutes?: ScoreRoutes;
  /**
   * Where host commands (ip, nft, wifi) and interface counters come from. Default: the real
   * system for the batman-adv driver; for the simulator nothing (a simulated mesh must never
   * take the host's interfaces down): pass simulatedHost(world, node) from src/mapek/sim-host.ts.
   */
  host?: { run: CommandRunner; counters?: CounterReader; sleep?: (ms: number) => Promise<void> };
  /** The loop's clock, time since boot and randomness (tests run them in virtual time). */
  now?: () => number;
  uptimeMs?: () => number;
  random?: () => number;
  /** Journal file; default <state_dir>/journal.json for batman-adv, memory only for the simulator. */
  journalPath?: string | null;
  /** No timers: the caller drives the loop with tick() (tests, benchmarks). */
  manualLoop?: boolean;
}

const refusingRunner: CommandRunner = async (argv) => ({ code: 127, stdout: '', stderr: `${argv[0]}: no host commands for a simulated mesh` });

export class Agent implements StatusSource {
  readonly name: string;
  readonly knowledge = new Knowledge();
  readonly healthBoard: HealthBoard;
  readonly healer: Healer | null;
  private readonly monitor: Monitor;
  private readonly fleet: FleetServices;
  private server: StatusServer | null = null;
  private readonly startedAt = Date.now();

  constructor(private readonly opts: AgentOptions) {
    const c = opts.config;
    // This router's own values: a withdrawn fleet setting returns to them.
    const uciConfig = structuredClone(c);
    if (c.federation.enabled) adoptStoredFleetSettings(c, uciConfig, opts.log);
    this.name = c.agent.nodeName || hostname();
    this.healthBoard = new HealthBoard(this.name);
    const warnings = opts.configWarnings ?? [];
    this.healthBoard.set(
      'config',
      warnings.length ? 'degraded' : 'ok',
      warnings.length ? `${opts.configSource}: ${warnings.length} warning(s): ${warnings[0]}` : opts.configSource,
    );
    this.healthBoard.set('mesh', 'degraded', 'not polled yet');
    this.healthBoard.set('loop', c.healing.enabled ? 'degraded' : 'disabled', c.healing.enabled ? 'starting' : 'disabled in config');
    const core = opts.core;
    this.healthBoard.set(
      'core',
      core == null ? 'down' : core.kind === 'wasm' ? 'ok' : 'degraded',
      core == null ? 'WASM core unavailable' : core.kind === 'wasm' ? 'WebAssembly' : `portable JS fallback: ${core.reason ?? ''}`,
    );
    for (const part of ['telemetry', 'federation', 'learning'] as const)
      this.healthBoard.set(part, c[part].enabled ? 'degraded' : 'disabled', c[part].enabled ? 'starting' : 'disabled in config');
    const now = opts.now ?? Date.now;
    const simulated = opts.driver.kind === 'simulator';
    let privileges: ProcessPrivileges | null = null;
    try {
      privileges = readPrivileges();
      const ph = privilegesHealth(privileges, { needsNetAdmin: !simulated });
      this.healthBoard.set('privileges', ph.state, ph.reason);
    } catch (e) {
      this.healthBoard.set('privileges', 'degraded', (e as Error).message);
    }
    // As the unprivileged user, reboot and wifi reload go through ubus and root-only commands are refused.
    const realRun = privileges ? privilegedRunner(systemRunner, privileges) : systemRunner;
    const host = opts.host ?? (simulated ? { run: refusingRunner } : { run: realRun, counters: sysCounters });
    const h = c.healing;
    const started = now();
    this.healer = h.enabled
      ? new Healer({
          driver: opts.driver,
          run: host.run,
          sleep: host.sleep,
          knowledge: this.knowledge,
          log: opts.log.child('heal'),
          now,
          // Boot grace counts from boot; where /proc/uptime is unreadable, from the agent's start.
          uptimeMs: opts.uptimeMs ?? (() => systemUptimeMs() ?? now() - started),
          random: opts.random ?? Math.random,
          score: opts.scoreRoutes ?? opts.coreEngine?.scoreRoutes ?? null,
          journalPath: opts.journalPath !== undefined ? opts.journalPath : simulated ? null : join(c.agent.stateDir, 'journal.json'),
          plan: {
            dryRun: c.agent.dryRun,
            bootGraceMs: h.bootGraceS * 1000,
            startupJitterMs: h.startupJitterS * 1000,
            maxDisruptivePerHour: h.maxDisruptivePerHour,
            allowReboot: h.allowReboot,
            cooldownMs: {},
            defaultCooldownMs: h.cooldownS * 1000,
          },
          execute: { verifyWindowMs: h.verifyWindowS * 1000, holdMs: h.holdS * 1000, quarantineMs: h.quarantineS * 1000 },
          fastOrigIntervalMs: Math.round(h.fastOrigIntervalS * 1000),
          describeMac: opts.describeMac,
          failureProbs: () => this.fleet.failureProbabilities(),
          // batctl ping through the host runner; never on a simulated mesh (no batctl there).
          gatewayProbe: !simulated && h.gatewayProbe ? { probe: batctlPingProbe(host.run, c.agent.meshInterface), everyMs: h.gatewayProbeIntervalS * 1000 } : null,
        })
      : null;
    this.monitor = new Monitor(opts.driver, this.knowledge, this.healthBoard, opts.log.child('monitor'), {
      intervalMs: Math.round(c.healing.intervalS * 1000),
      describeMac: opts.describeMac,
      now,
      counters: host.counters,
      afterPoll: async () => {
        this.fleet.afterPoll();
        await this.healer?.step();
        this.journalHealth();
      },
    });
    this.fleet = new FleetServices({
      config: c,
      node: this.name,
      core: opts.coreEngine ?? null,
      knowledge: this.knowledge,
      health: this.healthBoard,
      log: opts.log,
      status: () => this.status(),
      uciConfig,
      applyLive: (next, change) => this.applyLive(next, change),
      telemetryHooks: {
        applyConfig: (next, change) => this.applyConfig(next, change),
        runAction: (a) => this.runAction(a),
      },
    });
    this.healthBoard.onChange((comp, before) => {
      if (before !== undefined && before !== comp.state)
        this.knowledge.addEvent(comp.state === 'ok' ? 'info' : 'finding', `${comp.name} ${before} → ${comp.state}: ${comp.reason}`);
    });
  }

  async start(): Promise<void> {
    const c = this.opts.config;
    if (this.opts.serveStatus !== false) {
      this.server = await startStatusServer({ socketPath: c.status.socket, httpPort: c.status.httpPort, source: this });
      this.healthBoard.set('status', 'ok', `serving ${c.status.socket}${this.server.httpPort ? ` and 127.0.0.1:${this.server.httpPort}` : ''}`);
    }
    if (this.healer) {
      try {
        await this.healer.start();
      } catch (e) {
        this.opts.log.error(`healing: could not restore what the previous run left: ${(e as Error).message}`);
      }
      this.journalHealth();
    }
    await this.fleet.start();
    if (c.healing.enabled && !this.opts.manualLoop) this.monitor.start();
    else await this.monitor.pollOnce(); // still show the mesh once
    this.knowledge.addEvent('info', `agent ${VERSION} started on ${c.agent.meshInterface} (${this.opts.driver.kind})`);
    this.opts.log.info(`started: node ${this.name}, mesh ${c.agent.meshInterface} via ${this.opts.driver.kind}`);
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
    await this.monitor.stop();
    await this.fleet.stop().catch((e: Error) => this.opts.log.error(`fleet services: stop failed: ${e.message}`));
    // Temporary changes (lowered orig_interval, quarantines) do not outlive the agent.
    await this.healer?.stop().catch((e: Error) => this.opts.log.error(`healing: restore at stop failed: ${e.message}`));
    await this.server?.close();
    this.server = null;
    await this.opts.driver.close();
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
  private async runAction({ action, ifname, neighbour }: CommandArgs['run-action']): Promise<unknown> {
    if (!this.healer) throw new CommandRejected('disabled', 'self-healing is disabled in config (healing.enabled)');
    if (!Object.hasOwn(ACTIONS, action)) throw new CommandRejected('bad-args', `unknown action '${action}' (one of ${Object.keys(ACTIONS).join(', ')})`);
    let e;
    try {
      e = await this.healer.force(action as ActionKind, { ...(ifname !== undefined ? { ifname } : {}), ...(neighbour !== undefined ? { neighbour } : {}) }, 'operator command over MQTT');
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
      ...this.fleet.report(),
      healing: this.healer?.status() ?? null,
    };
  }

  metrics(): string {
    const base = renderMetrics(this.status(), { ...this.monitor.stats, eventTotals: this.knowledge.eventTotals() });
    return base + (this.healer?.metrics(this.name) ?? '') + this.fleet.metrics();
  }
}
