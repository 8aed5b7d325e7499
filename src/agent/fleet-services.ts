// The parts of the agent that talk to the rest of the fleet: MQTT telemetry, the libp2p
// federation and federated learning on top of it. Each is optional (UCI `enabled`) and none
// may stop the agent from watching and healing its mesh: a part that fails to start is
// reported down in /health with the reason, and the rest runs on.
import type { AgentConfig, SectionName } from '../config/schema.ts';
import type { Core } from '../core/index.ts';
import { readFileSync } from 'node:fs';
import { startFederation } from '../federation/federation.ts';
import { parseCertificates } from '../federation/fleet-ca.ts';
import { federationSettings } from '../federation/settings.ts';
import { fleetSettingChange } from '../federation/fleet-settings.ts';
import { storedFleetSettings } from '../federation/stored-settings.ts';
import { addFederationMetrics, federationStatus } from '../federation/report.ts';
import type { Federation } from '../federation/types.ts';
import { federationTransport } from '../learning/federation-transport.ts';
import { LearningService } from '../learning/learning-service.ts';
import { renderLearningMetrics } from '../learning/status.ts';
import type { Knowledge } from '../mapek/knowledge.ts';
import { MetricsText } from '../status/metrics.ts';
import type { StatusReport } from '../status/types.ts';
import { startAgentTelemetry, type AgentTelemetry, type AgentTelemetrySources } from '../telemetry/agent-telemetry.ts';
import type { HealthBoard } from './health.ts';
import { learningOptions } from './learning-options.ts';
import type { Logger } from './logger.ts';
import type { Tracer } from '../tracing/api.ts';

export interface ConfigChange {
  section: SectionName;
  option: string;
}

/**
 * Fleet settings kept in <state_dir>/fleet-settings/ (signed by the fleet CA), applied to the
 * config before the agent's parts read it: most options are read only when they start.
 */
export function adoptStoredFleetSettings(config: AgentConfig, uciConfig: AgentConfig, log: Logger): void {
  const { settings, problems } = storedFleetSettings(config);
  for (const p of problems) log.warn(`fleet setting ignored: ${p}`);
  for (const [name, value] of Object.entries(settings)) {
    const r = fleetSettingChange(config, uciConfig, name, value);
    if (!r.ok) {
      log.warn(`fleet setting ${name} not applied: ${r.reason}`);
      continue;
    }
    (config as Record<string, unknown>)[r.section] = r.config[r.section];
    log.info(`fleet setting ${name} = ${value} (signed by the fleet CA)`);
  }
}

/** The leaf's notAfter of the node certificate the federation started with; null if unreadable now. */
function certificateNotAfter(file: string): string | null {
  try {
    const t = Date.parse(parseCertificates(readFileSync(file, 'latin1'), file)[0]!.validTo);
    return Number.isFinite(t) ? new Date(t).toISOString() : null;
  } catch {
    return null;
  }
}

export interface FleetServicesDeps {
  /** The running config (fleet settings adopted); uciConfig: the router's own, for withdrawals. */
  config: AgentConfig;
  uciConfig: AgentConfig;
  /** Applies a change while running where possible; false: it needs a restart. */
  applyLive(next: AgentConfig, change: ConfigChange): boolean;
  node: string;
  core: Core | null;
  knowledge: Knowledge;
  health: HealthBoard;
  log: Logger;
  status(): StatusReport;
  /** Spans of commands and learning rounds. */
  tracer: Tracer;
  /** The agent's clock (label horizons); default Date.now. */
  now?: () => number;
  /** MQTT commands that reach into the agent (dry-run, set, run-action). */
  telemetryHooks?: Pick<AgentTelemetrySources, 'applyConfig' | 'runAction'>;
}

export class FleetServices {
  private federation: Federation | null = null;
  private learning: LearningService | null = null;
  private telemetry: AgentTelemetry | null = null;
  /** When this node's fleet certificate expires (ISO time), read once the federation accepted it. */
  private certNotAfter: string | null = null;

  constructor(private readonly deps: FleetServicesDeps) {}

  async start(): Promise<void> {
    const { config, health, log } = this.deps;
    if (config.federation.enabled) {
      try {
        this.federation = await startFederation(config, { log: log.child('federation'), tracer: this.deps.tracer });
        this.federation.onSetting((name, value) => this.onFleetSetting(name, value));
        this.certNotAfter = certificateNotAfter(federationSettings(config, '', this.deps.node).certFile);
        const h = this.federation.health();
        health.set('federation', h.state, h.reason);
      } catch (e) {
        health.set('federation', 'down', `could not start: ${(e as Error).message}`);
      }
    } else health.set('federation', 'disabled', 'disabled in config');

    if (config.learning.enabled) this.startLearning();
    else health.set('learning', 'disabled', 'disabled in config');

    // Telemetry last: its first snapshot then already shows federation and learning.
    this.telemetry = startAgentTelemetry(config, {
      node: this.deps.node,
      status: this.deps.status,
      onEvent: (l) => this.deps.knowledge.onEvent(l),
      health,
      log,
      learningRound: this.learning ? (trace) => this.learning!.runRound(trace) : undefined,
      quarantineVote: this.federation ? (a, trace) => this.federation!.fleet.castVote(a.peer, a.vote, a.reason, trace) : undefined,
      tracer: this.deps.tracer,
      ...this.deps.telemetryHooks,
    });
  }

  private startLearning(): void {
    const { config, health, core, knowledge } = this.deps;
    if (!core) {
      health.set('learning', 'down', 'the WASM core did not load (learning trains and aggregates in it)');
      return;
    }
    try {
      this.learning = new LearningService({
        tracer: this.deps.tracer,
        ...learningOptions(config, {
          core,
          ...(this.deps.now ? { now: this.deps.now } : {}),
          // Without the federation the model still learns from this router's own links.
          transport: this.federation ? federationTransport(this.federation) : null,
          onRound: (round) => {
            const result = round.applied ? 'applied' : `skipped: ${round.skipped}`;
            knowledge.addEvent('info', `learning round ${round.round}: ${round.heard} updates, ${result}, AUC ${round.auc.toFixed(3)}`);
          },
        }),
      });
      this.learning.start();
      // A refused seed model: the agent learns on from the random init, and says why.
      const bad = this.learning.seedError;
      if (bad) this.deps.log.warn(bad);
      health.set('learning', bad ? 'degraded' : 'ok', bad ?? (this.federation ? 'training; rounds over the federation' : 'training on local data only (federation off)'));
    } catch (e) {
      health.set('learning', 'down', `could not start: ${(e as Error).message}`);
    }
  }

  /** A fleet setting (signed by the fleet CA) came in, changed or was withdrawn (value null). */
  private onFleetSetting(name: string, value: string | null): void {
    const { config, uciConfig, knowledge, log } = this.deps;
    const r = fleetSettingChange(config, uciConfig, name, value);
    if (!r.ok) {
      log.warn(`fleet setting ${name} not applied: ${r.reason}`);
      knowledge.addEvent('finding', `fleet setting ${name} refused: ${r.reason}`);
      return;
    }
    // Already in force (adopted from state_dir at start, or heard twice).
    if (JSON.stringify(r.previous) === JSON.stringify(r.value)) return;
    const what = `fleet setting ${r.section}.${r.option} = ${String(r.value)}${value === null ? ' (withdrawn: this router\'s own value)' : ''}`;
    if (this.deps.applyLive(r.config, r)) knowledge.addEvent('info', `${what} applied (signed by the fleet CA)`);
    else knowledge.addEvent('info', `${what} adopted (signed by the fleet CA); takes effect at the next start of the agent`);
  }

  /** A changed federation section while running: true when the running federation took all of it. */
  reconfigureFederation(next: AgentConfig): boolean {
    if (!this.federation) return false;
    const r = this.federation.reconfigure(next);
    return r.restart.length === 0 && r.applied.length > 0;
  }

  /** After every monitor poll: new samples for the local training data, fresh component states. */
  afterPoll(): void {
    if (this.learning) {
      this.learning.observe(this.deps.knowledge);
      const s = this.learning.status();
      const scope = this.federation ? `${s.peersHeard} peers heard` : 'local data only';
      // a refused seed model stays 'degraded' with its reason (set at start)
      if (!this.learning.seedError) this.deps.health.set('learning', 'ok', `round ${s.round}, ${scope}, AUC ${s.quality.heldOutAuc?.toFixed(3) ?? 'n/a'}`);
    }
    if (this.federation) {
      const h = this.federation.health();
      this.deps.health.set('federation', h.state, h.reason);
    }
  }

  /** P(link dead within the horizon) by "hardIfname/neighbourMAC", for route scoring and analysis. */
  failureProbabilities(): Map<string, number> {
    return this.learning?.failureProbabilities() ?? new Map();
  }

  report(): Pick<StatusReport, 'learning' | 'federation' | 'telemetry'> {
    return {
      learning: (this.learning?.status() as unknown as Record<string, unknown>) ?? null,
      // certNotAfter: for /status and the telemetry snapshot (the fleet's CertificateExpiring alert).
      federation: this.federation ? { ...federationStatus(this.federation), certNotAfter: this.certNotAfter } : null,
      telemetry: (this.telemetry?.report() as unknown as Record<string, unknown>) ?? null,
    };
  }

  metrics(): string {
    const learning = this.learning ? renderLearningMetrics(this.learning.status(), this.deps.node) : '';
    let federation = '';
    if (this.federation) {
      const m = new MetricsText();
      addFederationMetrics(m, this.federation);
      federation = m.toString();
    }
    return learning + federation + (this.telemetry?.metrics() ?? '');
  }

  async stop(): Promise<void> {
    // Telemetry first: it publishes the retained "offline/stopped" while the rest still runs.
    await this.telemetry?.stop();
    await this.learning?.stop();
    this.learning?.dispose();
    await this.federation?.stop();
  }
}
