// `x0tta6bl4 fleet exporter` runs code that is not in the router bundle: the exporter is its own
// bundle, dist/x0tta6bl4-fleet.mjs, next to dist/x0tta6bl4.mjs on a backend host (a router's ipk
// does not carry it), or src/fleet-exporter/ in a source checkout. The paths are computed so that
// esbuild leaves the import alone. The flags are declared here too: the CLI checks flags before
// any command runs (they must match src/fleet-exporter/command.ts, which a test checks).
import { existsSync } from 'node:fs';
import { UsageError, UserError, type CliContext, type FlagSpec } from '../command.ts';

/** Where `fleet` and `fleet exporter` read the broker password (never a flag: ps would show it). */
export const PASSWORD_ENV = 'X0TTA6BL4_MQTT_PASSWORD';

/** How `fleet` and `fleet exporter` reach the broker: the same flags as the agent's telemetry. */
export const BROKER_FLAGS: Record<string, FlagSpec> = {
  broker: { type: 'string', value: 'URL', describe: 'mqtts://host[:port] (mqtt:// only on loopback or with --allow-plaintext)' },
  fleet: { type: 'string', value: 'NAME', describe: 'only this fleet' },
  'ca-file': { type: 'string', value: 'PATH', describe: "CA certificate(s) of the broker's certificate" },
  'cert-file': { type: 'string', value: 'PATH', describe: 'client certificate (mutual TLS)' },
  'key-file': { type: 'string', value: 'PATH', describe: 'client key (mutual TLS)' },
  username: { type: 'string', value: 'NAME', describe: `broker user (password from ${PASSWORD_ENV})` },
  'allow-plaintext': { type: 'boolean', describe: 'allow mqtt:// to a non-loopback broker' },
};

export const EXPORTER_FLAGS: Record<string, FlagSpec> = {
  listen: { type: 'string', value: 'HOST:PORT', describe: 'exporter: where /metrics is served (default 127.0.0.1:9469; port 0: any free port)' },
  'max-links': { type: 'integer', value: 'N', describe: 'exporter: link series per node (default 32)' },
  stale: { type: 'integer', value: 'S', describe: 'exporter: a node silent this long shows offline (default 300)' },
  ttl: { type: 'integer', value: 'S', describe: 'exporter: a node silent this long is dropped (default 86400)' },
  'max-nodes': { type: 'integer', value: 'N', describe: 'exporter: nodes kept in all (default 20000)' },
  names: { type: 'string', value: 'PATH', describe: 'exporter: file of "MAC NAME" lines for neighbours and gateways' },
  gzip: { type: 'boolean', describe: 'exporter: gzip /metrics when the scraper accepts it (costs CPU; see docs/fleet-exporter.md)' },
  'session-id': { type: 'string', value: 'ID', describe: 'exporter: persistent MQTT session with this client id (the broker keeps QoS 1 events while the exporter is away)' },
};

interface ExporterModule {
  runFleetExporter(ctx: CliContext): Promise<number>;
}

export async function runExporter(ctx: CliContext): Promise<number> {
  const candidates = [new URL('./x0tta6bl4-fleet.mjs', import.meta.url), new URL('../../fleet-exporter/command.ts', import.meta.url)];
  const found = candidates.find((u) => existsSync(u));
  if (!found) throw new UserError('the fleet exporter is not installed here: it runs on a backend host from dist/x0tta6bl4-fleet.mjs (npm run build), not on a router');
  const mod = (await import(found.href)) as ExporterModule;
  try {
    return await mod.runFleetExporter(ctx);
  } catch (e) {
    // The other bundle has its own copies of these classes: map them back by name (exit 2 / 1).
    const err = e as { name?: unknown; message?: unknown; exitCode?: unknown };
    if (err?.name === 'UsageError') throw new UsageError(String(err.message));
    if (err?.name === 'UserError') throw new UserError(String(err.message), typeof err.exitCode === 'number' ? err.exitCode : 1);
    throw e;
  }
}
