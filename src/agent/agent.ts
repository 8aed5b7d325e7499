// The agent: wires config, mesh driver, WASM core, the monitor and the status API together,
// in one place, and owns their lifecycle. Each piece stays ignorant of the others.
import { hostname } from 'node:os';
import type { AgentConfig } from '../config/schema.ts';
import type { MeshDriver } from '../mesh/driver.ts';
import { Knowledge } from '../mapek/knowledge.ts';
import { Monitor } from '../mapek/monitor.ts';
import { renderMetrics } from '../status/metrics.ts';
import { startStatusServer, type StatusServer } from '../status/server.ts';
import type { HealthReport, StatusReport, StatusSource } from '../status/types.ts';
import { VERSION } from '../version.ts';
import { HealthBoard } from './health.ts';
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
  /** Names MACs in events (the demo knows node names; a router does not). */
  describeMac?: (mac: string) => string;
  /** Status API: false for agents that only live in-process (tests). */
  serveStatus?: boolean;
}

export class Agent implements StatusSource {
  readonly name: string;
  readonly knowledge = new Knowledge();
  readonly healthBoard: HealthBoard;
  private readonly monitor: Monitor;
  private server: StatusServer | null = null;
  private readonly startedAt = Date.now();

  constructor(private readonly opts: AgentOptions) {
    const c = opts.config;
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
    for (const part of ['telemetry', 'federation', 'learning'] as const) {
      if (!c[part].enabled) this.healthBoard.set(part, 'disabled', 'disabled in config');
      else this.healthBoard.set(part, 'down', 'enabled in config but not part of this build yet');
    }
    this.monitor = new Monitor(opts.driver, this.knowledge, this.healthBoard, opts.log.child('monitor'), {
      intervalMs: Math.round(c.healing.intervalS * 1000),
      describeMac: opts.describeMac,
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
    if (c.healing.enabled) this.monitor.start();
    else await this.monitor.pollOnce(); // still show the mesh once
    this.knowledge.addEvent('info', `agent ${VERSION} started on ${c.agent.meshInterface} (${this.opts.driver.kind})`);
    this.opts.log.info(`started: node ${this.name}, mesh ${c.agent.meshInterface} via ${this.opts.driver.kind}`);
  }

  async stop(): Promise<void> {
    await this.monitor.stop();
    await this.server?.close();
    this.server = null;
    await this.opts.driver.close();
  }

  get httpPort(): number | null {
    return this.server?.httpPort ?? null;
  }

  health(): HealthReport {
    return this.healthBoard.report();
  }

  status(): StatusReport {
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
      learning: null,
      federation: null,
      telemetry: null,
    };
  }

  metrics(): string {
    return renderMetrics(this.status(), { ...this.monitor.stats, eventTotals: this.knowledge.eventTotals() });
  }
}
