// `x0tta6bl4 fleet exporter`: the entry of the separate bundle dist/x0tta6bl4-fleet.mjs. The
// router binary loads this module only when the command is run (src/cli/commands/fleet.ts), so
// none of it is in the router bundle. It also runs on its own: node dist/x0tta6bl4-fleet.mjs --broker …
import { pathToFileURL } from 'node:url';
import { UsageError, UserError, type CliContext, type FlagSpec, type FlagValues } from '../cli/command.ts';
import { BROKER_FLAGS, EXPORTER_FLAGS, PASSWORD_ENV } from '../cli/commands/fleet-exporter-loader.ts';
import { formatFlags, parseArgs } from '../cli/parse-args.ts';
import { escapePrintable } from '../config/printable.ts';
import { redactUrl } from '../config/redact-url.ts';
import { BrokerConfigError } from '../telemetry/broker-connection.ts';
import { TopicError } from '../telemetry/topics.ts';
import { FleetExporter } from './exporter.ts';
import { DEFAULT_LIMITS, type ModelLimits } from './fleet-model.ts';
import { readNamesFile } from './names-file.ts';

export const DEFAULT_LISTEN = '127.0.0.1:9469';

export const exporterUsage = `usage: x0tta6bl4 fleet exporter --broker URL [--fleet NAME] [--listen HOST:PORT]

Subscribes to the MQTT topic contract v1 (state, telemetry, events of every node) and serves the
whole fleet as Prometheus text on http://HOST:PORT/metrics (default ${DEFAULT_LISTEN}). Runs on
the operator's backend host. The broker password is read from ${PASSWORD_ENV}.`;

const standaloneFlags: Record<string, FlagSpec> = { ...BROKER_FLAGS, ...EXPORTER_FLAGS };

function intFlag(flags: FlagValues, name: string, def: number, min: number, max: number): number {
  const v = flags[name];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be an integer ${min}..${max}, got ${String(v)}`);
  return v;
}

export function parseListen(v: unknown): { host: string; port: number } {
  const s = typeof v === 'string' ? v : DEFAULT_LISTEN;
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen must be HOST:PORT (e.g. ${DEFAULT_LISTEN}), got '${s}'`);
  return { host: (m[1] ?? m[2])!, port };
}

/** An MQTT client id the broker will keep a session under: letters, digits, . _ - (1-64). */
export function parseSessionId(v: unknown): string | null {
  if (v === undefined) return null;
  if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(v)) throw new UsageError(`--session-id must be 1-64 letters, digits, '.', '_' or '-' (an MQTT client id), got '${escapePrintable(String(v))}'`);
  return v;
}

export function exporterLimits(flags: FlagValues): ModelLimits {
  const staleS = intFlag(flags, 'stale', DEFAULT_LIMITS.staleS, 1, 86_400 * 30);
  const ttlS = intFlag(flags, 'ttl', DEFAULT_LIMITS.ttlS, 1, 86_400 * 365);
  if (ttlS < staleS) throw new UsageError(`--ttl (${ttlS}) must not be shorter than --stale (${staleS})`);
  return {
    maxLinks: intFlag(flags, 'max-links', DEFAULT_LIMITS.maxLinks, 0, 1024),
    staleS,
    ttlS,
    maxNodes: intFlag(flags, 'max-nodes', DEFAULT_LIMITS.maxNodes, 1, 1_000_000),
  };
}

/** Runs until the stop signal; prints the /metrics URL on stdout once it listens. */
export async function runFleetExporter({ flags, positionals, io, stopSignal }: CliContext): Promise<number> {
  if (positionals.length) throw new UsageError(`fleet exporter takes no arguments (got '${positionals[0]}')`);
  for (const f of ['json', 'once', 'wait']) if (flags[f] !== undefined) throw new UsageError(`--${f} is for the fleet view, not the exporter`);
  if (typeof flags.broker !== 'string' || !flags.broker) throw new UsageError('fleet exporter needs --broker URL');
  const listen = parseListen(flags.listen);
  const limits = exporterLimits(flags);
  const sessionId = parseSessionId(flags['session-id']);
  let names: Map<string, string> | undefined;
  if (typeof flags.names === 'string') {
    try {
      names = readNamesFile(flags.names);
    } catch (e) {
      throw new UserError((e as Error).message);
    }
  }
  const str = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
  const exporter = new FleetExporter({
    connect: {
      broker: flags.broker,
      ...(str('username') ? { username: str('username')! } : {}),
      ...(process.env[PASSWORD_ENV] ? { password: process.env[PASSWORD_ENV] } : {}),
      ...(str('ca-file') ? { caFile: str('ca-file')! } : {}),
      ...(str('cert-file') ? { certFile: str('cert-file')! } : {}),
      ...(str('key-file') ? { keyFile: str('key-file')! } : {}),
      allowPlaintext: flags['allow-plaintext'] === true,
      connectTimeoutMs: 10_000,
    },
    fleet: str('fleet') ?? null,
    ...listen,
    limits,
    ...(names ? { names } : {}),
    gzip: flags.gzip === true,
    sessionId,
    log: (l) => io.err(l),
  });
  let url: string;
  try {
    url = await exporter.start();
  } catch (e) {
    await exporter.stop();
    if (e instanceof BrokerConfigError) throw e.permanent ? new UsageError(e.message) : new UserError(e.message);
    if (e instanceof TopicError) throw new UsageError(e.message);
    throw new UserError(`cannot serve on ${listen.host}:${listen.port}: ${(e as Error).message}`);
  }
  io.out(`fleet exporter: ${redactUrl(flags.broker)} → ${url}`);
  await stopSignal;
  await exporter.stop();
  return 0;
}

async function standalone(argv: string[]): Promise<number> {
  const io = { out: (t: string) => void process.stdout.write(`${t}\n`), err: (t: string) => void process.stderr.write(`${t}\n`) };
  try {
    const parsed = parseArgs(argv, standaloneFlags, 'fleet exporter');
    if (parsed.help) {
      io.out(`${exporterUsage}\n\noptions:\n${formatFlags(standaloneFlags)}`);
      return 0;
    }
    const stopSignal = new Promise<string>((r) => ['SIGINT', 'SIGTERM'].forEach((s) => process.once(s, () => r(s))));
    return await runFleetExporter({ flags: parsed.flags, positionals: parsed.positionals, io, stopSignal });
  } catch (e) {
    if (!(e instanceof UsageError || e instanceof UserError)) throw e;
    io.err(`x0tta6bl4-fleet: ${escapePrintable(e.message)}`);
    return e instanceof UsageError ? 2 : e.exitCode;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(await standalone(process.argv.slice(2)));
