// The one call the agent makes to run fleet telemetry: options mapped from the loaded config
// (section `telemetry`, by telemetryOptions), the agent's status and events as sources, and the
// fleet commands mapped onto what the agent offers. Returns what /health, /metrics and /status
// show, and stop().
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { applyOption } from '../config/apply-option.ts';
import { formatConfigIssue } from '../config/config-error.ts';
import { SCHEMA, type AgentConfig, type Field, type SectionName } from '../config/schema.ts';
import { FederationError } from '../federation/federation-error.ts';
import { fleetTrust } from '../federation/settings.ts';
import type { Logger } from '../agent/logger.ts';
import { MetricsText } from '../status/metrics.ts';
import type { ComponentHealth, ComponentState, StatusEvent, StatusReport } from '../status/types.ts';
import type { CommandArgs } from './command-args.ts';
import { CommandRejected } from './command-envelope.ts';
import type { SpanContext, Tracer } from '../tracing/api.ts';
import { startTelemetry, type CommandHandlers, type Telemetry, type TelemetryOptions, type TelemetryStats } from './telemetry.ts';

/** What the agent provides; every hook is optional and a missing one refuses its command. */
export interface AgentTelemetrySources {
  /** The node name as the agent resolved it (agent.node_name or the hostname). */
  node: string;
  status(): StatusReport;
  /** Knowledge.onEvent: called for every finding, action, rollback, fault. */
  onEvent(listener: (e: StatusEvent) => void): void;
  /** The agent's HealthBoard. */
  health: { set(name: string, state: ComponentState, reason: string): void; get(name: string): ComponentHealth | undefined };
  log: Logger;
  /**
   * A config change that passed the schema (MQTT `set`, `dry-run`): the agent applies it and, if
   * it wants it to last, writes it to UCI. Throw to refuse; the message goes into the reply.
   */
  applyConfig?(next: AgentConfig, change: { section: SectionName; option: string; previous: unknown; value: unknown }): unknown;
  /**
   * MQTT `run-action KIND[/IFNAME[/NEIGHBOUR]]`: one healing action, under the loop's safety
   * rules and dry run. Throw CommandRejected to refuse with a code (`disabled`, `busy`, `bad-args`).
   */
  runAction?(a: CommandArgs['run-action'], trace?: SpanContext): unknown;
  /** MQTT `learning-round`. */
  learningRound?(trace?: SpanContext): unknown;
  /**
   * MQTT `quarantine-vote`: the federation's castVote (absent: the federation is not running).
   * Throw to refuse (unknown peer, self); the message goes into the reply.
   */
  quarantineVote?(a: CommandArgs['quarantine-vote'], trace?: SpanContext): unknown;
  /** Spans of each command; trace: the command's span, for the work it starts. */
  tracer?: Tracer;
}

export interface AgentTelemetry {
  /** The `telemetry` component as /health shows it. */
  health(): ComponentHealth;
  /** Prometheus lines (x0tta6bl4_telemetry_*) to append to /metrics; '' when disabled. */
  metrics(): string;
  /** For StatusReport.telemetry. */
  report(): TelemetryStats | null;
  stop(): Promise<void>;
}

const COMPONENT = 'telemetry';

/** The telemetry client's options that come from the config rather than from the agent. */
export type TelemetrySettings = Omit<TelemetryOptions, 'source' | 'subscribeEvents' | 'health' | 'commands' | 'log'>;

/** Where the fleet CA for commands is looked for when telemetry.command_ca_file is empty. */
export function defaultCommandCaFile(config: AgentConfig): string {
  return join(config.agent.stateDir, 'fleet-ca.pem');
}

/**
 * The `telemetry` section mapped onto the telemetry client's options. Commands are checked
 * against the fleet's trust domain and CRL as the federation settings name them; the fleet CA
 * for commands defaults to <agent.state_dir>/fleet-ca.pem when that file exists.
 */
export function telemetryOptions(config: AgentConfig, node: string): TelemetrySettings {
  const settings = config.telemetry;
  const defaultCa = defaultCommandCaFile(config);
  const commandCaFile = settings.commandCaFile || (existsSync(defaultCa) ? defaultCa : undefined);
  return {
    node,
    fleet: config.agent.fleet,
    broker: settings.broker,
    intervalS: settings.intervalS,
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
    ...(settings.caFile ? { caFile: settings.caFile } : {}),
    ...(settings.certFile ? { certFile: settings.certFile } : {}),
    ...(settings.keyFile ? { keyFile: settings.keyFile } : {}),
    ...(commandCaFile ? { commandCaFile } : {}),
    ...fleetTrust(config),
    bufferLimit: settings.bufferLimit,
    ...(settings.bufferFile ? { bufferFile: settings.bufferFile } : {}),
    bufferWriteIntervalS: settings.bufferWriteIntervalS,
    ...(settings.allowPlaintext ? { allowPlaintext: true } : {}),
  };
}

export function startAgentTelemetry(config: AgentConfig, src: AgentTelemetrySources): AgentTelemetry {
  const settings = config.telemetry;
  const health = (): ComponentHealth => src.health.get(COMPONENT) ?? { name: COMPONENT, state: 'disabled', reason: 'not started' };
  if (!settings.enabled) {
    src.health.set(COMPONENT, 'disabled', 'disabled in config');
    return { health, metrics: () => '', report: () => null, stop: async () => {} };
  }
  if (!settings.broker) {
    src.health.set(COMPONENT, 'down', 'telemetry.enabled is 1 but telemetry.broker is empty');
    return { health, metrics: () => metricsFor(null), report: () => null, stop: async () => {} };
  }

  const options = telemetryOptions(config, src.node);
  const log = src.log.child('telemetry');
  if (!options.commandCaFile) log.info(`no fleet CA for commands (${defaultCommandCaFile(config)}): fleet commands are refused`);

  // Events after stop() must not reach a stopped publisher; Knowledge has no unsubscribe.
  let listener: ((e: StatusEvent) => void) | null = null;
  src.onEvent((e) => listener?.(e));

  const telemetry: Telemetry = startTelemetry({
    ...options,
    source: { status: () => src.status() },
    subscribeEvents: (l) => {
      listener = l;
      return () => {
        listener = null;
      };
    },
    health: src.health,
    commands: commandHandlers(config, src, () => telemetry.stats()),
    ...(src.tracer ? { tracer: src.tracer } : {}),
    log,
  });
  return {
    health,
    metrics: () => metricsFor(telemetry.stats()),
    report: () => telemetry.stats(),
    stop: () => telemetry.stop(),
  };
}

/** The fleet commands mapped onto what the agent offers; `set` and `dry-run` build on earlier changes. */
function commandHandlers(config: AgentConfig, src: AgentTelemetrySources, stats: () => TelemetryStats): CommandHandlers {
  let current = config;
  const change = (path: string, values: string[]) => {
    if (!src.applyConfig) throw new CommandRejected('disabled', 'this agent cannot change its configuration at run time');
    const r = applyOption(current, path, values.length === 1 ? values[0]! : values, 'mqtt');
    if (!r.ok) throw new CommandRejected('bad-args', r.issues.map(formatConfigIssue).join('; '));
    src.applyConfig(r.config, { section: r.section, option: r.option, previous: r.previous, value: r.value });
    current = r.config;
    const secret = (SCHEMA[r.section] as Record<string, Field<unknown>>)[r.key]?.type.secret === true;
    const show = (v: unknown) => (secret ? '(secret)' : v);
    return { option: `${r.section}.${r.option}`, previous: show(r.previous), value: show(r.value), warnings: r.warnings.map(formatConfigIssue) };
  };
  const handlers: CommandHandlers = {
    status: () => {
      const s = src.status();
      return {
        node: s.node,
        health: s.health,
        neighbours: s.mesh.neighbours.length,
        gateway: s.mesh.gateways.find((g) => g.best)?.originator ?? null,
        links: s.links.map((l) => ({ neighbour: l.neighbour, metric: l.metric })),
        telemetry: stats(),
      };
    },
    'dry-run': ({ on }) => change('agent.dry_run', [on ? '1' : '0']),
    set: ({ path, values }) => change(path, values),
  };
  if (src.runAction) {
    const run = src.runAction;
    handlers['run-action'] = (a, ctx) => run(a, ctx.trace) ?? { action: a.action, started: true };
  }
  if (src.learningRound) {
    const round = src.learningRound;
    handlers['learning-round'] = (_args, ctx) => round(ctx.trace) ?? { started: true };
  }
  const vote = src.quarantineVote;
  handlers['quarantine-vote'] = (a, ctx) => {
    if (!vote) throw new CommandRejected('disabled', 'quarantine votes are fleet state: the federation is not running on this router (federation.enabled, or see /health)');
    try {
      return vote(a, ctx.trace);
    } catch (e) {
      // The federation's refusals (unknown peer, self) are about the arguments.
      if (e instanceof FederationError) throw new CommandRejected('bad-args', e.message);
      throw e;
    }
  };
  return handlers;
}

function metricsFor(s: TelemetryStats | null): string {
  const m = new MetricsText();
  m.add('x0tta6bl4_telemetry_connected', 'gauge', '1 while connected to the MQTT broker.', s?.state === 'connected' ? 1 : 0);
  if (!s) return m.toString();
  m.add('x0tta6bl4_telemetry_connects_total', 'counter', 'Successful MQTT connections.', s.connects);
  m.add('x0tta6bl4_telemetry_connect_failures_total', 'counter', 'MQTT connection attempts that failed.', s.connectFailures);
  m.add('x0tta6bl4_telemetry_events_queued', 'gauge', 'QoS 1 events waiting for the broker (in flight included).', s.eventsQueued);
  m.add('x0tta6bl4_telemetry_events_buffer_limit', 'gauge', 'Bound of the event buffer.', s.bufferLimit);
  m.add('x0tta6bl4_telemetry_events_sent_total', 'counter', 'QoS 1 events acknowledged by the broker.', s.eventsSent);
  m.add('x0tta6bl4_telemetry_events_dropped_total', 'counter', 'Events dropped because the buffer was full.', s.eventsDropped);
  m.add('x0tta6bl4_telemetry_snapshots_sent_total', 'counter', 'Telemetry snapshots published.', s.telemetrySent);
  m.add('x0tta6bl4_telemetry_snapshots_skipped_total', 'counter', 'Telemetry intervals skipped while offline (coalesced).', s.telemetrySkipped);
  m.add('x0tta6bl4_telemetry_snapshot_bytes', 'gauge', 'Size of the last telemetry snapshot.', s.telemetryBytes);
  m.add('x0tta6bl4_telemetry_commands_total', 'counter', 'Fleet commands received, by result.', s.commandsAccepted, { result: 'accepted' });
  m.add('x0tta6bl4_telemetry_commands_total', 'counter', 'Fleet commands received, by result.', s.commandsRejected, { result: 'rejected' });
  m.add('x0tta6bl4_telemetry_buffer_file_writes_total', 'counter', 'Writes of the event buffer file on flash.', s.bufferFileWrites);
  m.add('x0tta6bl4_telemetry_buffer_file_errors_total', 'counter', 'Failed writes of the event buffer file.', s.bufferFileErrors);
  return m.toString();
}
