// `x0tta6bl4 fleet`: the operator's first look at a fleet. Subscribes to the retained state and
// telemetry topics of the MQTT contract and shows one row per node, live, or once as JSON.
import { randomBytes } from 'node:crypto';
import { UsageError, UserError, type CliCommand, type CliIo } from '../command.ts';
import { BrokerConfigError, openBrokerClient, type MqttClient } from '../../telemetry/broker-connection.ts';
import { redactUrl } from '../../config/redact-url.ts';
import { describeConnectError } from '../../telemetry/connect-errors.ts';
import { FleetView, renderFleetTable } from '../../telemetry/fleet-view.ts';
import { fleetSubscriptions, TopicError } from '../../telemetry/topics.ts';
import { BROKER_FLAGS, EXPORTER_FLAGS, PASSWORD_ENV, runExporter } from './fleet-exporter-loader.ts';


export const fleetCommand: CliCommand = {
  name: 'fleet',
  summary: 'show the nodes of a fleet from the MQTT broker (online, gateway, neighbours, health)',
  usage: `usage: x0tta6bl4 fleet --broker URL [--fleet NAME] [--json | --once] [--wait S]
       x0tta6bl4 fleet exporter --broker URL [--fleet NAME] [--listen HOST:PORT]

Subscribes to x0tta6bl4/<fleet>/+/state and .../telemetry (retained) and shows the fleet as a
table that updates until Ctrl-C. --json (or --once) collects for --wait seconds (default 3),
prints once and exits. Without --fleet, every fleet on the broker is shown.
\`fleet exporter\` serves the whole fleet as Prometheus /metrics (an operator's backend host
runs it; it is a separate bundle, dist/x0tta6bl4-fleet.mjs, not shipped in the router package).
The broker password is read from the ${PASSWORD_ENV} environment variable.`,
  flags: {
    ...BROKER_FLAGS,
    json: { type: 'boolean', describe: 'print the fleet as JSON once and exit' },
    once: { type: 'boolean', describe: 'print the table once and exit' },
    wait: { type: 'number', value: 'S', describe: 'seconds to collect before printing with --json/--once (default 3)' },
    ...EXPORTER_FLAGS,
  },
  async run({ flags, positionals, io, stopSignal }) {
    if (positionals[0] === 'exporter') return runExporter({ flags, positionals: positionals.slice(1), io, stopSignal });
    for (const f of Object.keys(EXPORTER_FLAGS)) if (flags[f] !== undefined) throw new UsageError(`--${f} is for \`fleet exporter\``);
    if (positionals.length) throw new UsageError(`fleet takes no arguments (got '${positionals[0]}')`);
    if (typeof flags.broker !== 'string' || !flags.broker) throw new UsageError('fleet needs --broker URL');
    const waitS = flags.wait === undefined ? 3 : Number(flags.wait);
    if (!Number.isFinite(waitS) || waitS < 0 || waitS > 3600) throw new UsageError(`--wait must be 0..3600 seconds, got ${String(flags.wait)}`);
    let topics: string[];
    try {
      topics = fleetSubscriptions(typeof flags.fleet === 'string' ? flags.fleet : null);
    } catch (e) {
      if (e instanceof TopicError) throw new UsageError(e.message);
      throw e;
    }
    const view = new FleetView();
    const client = await connect(flags, topics, view);
    try {
      if (flags.json || flags.once) {
        await Promise.race([sleep(waitS * 1000), stopSignal]);
        const nodes = view.nodes();
        if (flags.json) io.out(JSON.stringify({ v: 1, broker: redactUrl(flags.broker), fleet: flags.fleet ?? null, nodes, ignored: view.ignored }, null, 2));
        else io.out(renderFleetTable(nodes, Date.now(), flags.fleet === undefined));
        return 0;
      }
      await live(view, client, io, stopSignal, flags.fleet === undefined);
      return 0;
    } finally {
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true);
    }
  },
};

/** Connects and subscribes, or throws a UsageError (bad --broker) or UserError saying why not. */
async function connect(flags: Record<string, unknown>, topics: string[], view: FleetView): Promise<MqttClient> {
  let opened;
  try {
    opened = openBrokerClient({
      broker: flags.broker as string,
      clientId: `x0tta6bl4-fleet-${randomBytes(4).toString('hex')}`,
      ...(typeof flags.username === 'string' ? { username: flags.username } : {}),
      ...(process.env[PASSWORD_ENV] ? { password: process.env[PASSWORD_ENV] } : {}),
      ...(typeof flags['ca-file'] === 'string' ? { caFile: flags['ca-file'] } : {}),
      ...(typeof flags['cert-file'] === 'string' ? { certFile: flags['cert-file'] } : {}),
      ...(typeof flags['key-file'] === 'string' ? { keyFile: flags['key-file'] } : {}),
      allowPlaintext: flags['allow-plaintext'] === true,
      connectTimeoutMs: 10_000,
    });
  } catch (e) {
    // A URL or flag combination that can never work is bad usage (exit 2); an unreadable
    // certificate file is a failure the operator fixes on disk (exit 1).
    if (e instanceof BrokerConfigError) throw e.permanent ? new UsageError(e.message) : new UserError(e.message);
    throw e;
  }
  const { client, target } = opened;
  client.on('message', (topic, payload) => view.update(topic, payload));
  try {
    await new Promise<void>((resolve, reject) => {
      let lastError: unknown = null;
      client.on('error', (err) => (lastError = err));
      client.once('connect', () => resolve());
      client.once('close', () => reject(lastError ?? new Error('connection closed before CONNACK')));
    });
    await new Promise<void>((resolve, reject) =>
      client.subscribe(topics, { qos: 1 }, (err, granted) => {
        if (err) reject(err);
        else if (granted?.some((g) => g.qos === 128)) reject(new Error(`the broker refused the subscription to ${topics.join(', ')} (ACL?)`));
        else resolve();
      }),
    );
  } catch (e) {
    client.removeAllListeners();
    client.on('error', () => {});
    client.end(true);
    throw new UserError(`${target.display}: ${describeConnectError(e).reason}`);
  }
  return client;
}

/** Redraws the table when something changed, at most once a second, until stopped. */
async function live(view: FleetView, client: MqttClient, io: CliIo, stop: Promise<string>, multiFleet: boolean): Promise<void> {
  const tty = process.stdout.isTTY === true;
  let dirty = true;
  let lost: string | null = null;
  client.on('message', () => (dirty = true));
  client.on('error', (e) => (lost = describeConnectError(e).reason));
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const timer = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    io.out(`${tty ? '\x1b[2J\x1b[H' : ''}${renderFleetTable(view.nodes(), Date.now(), multiFleet)}\n`);
  }, 1000);
  try {
    const why = await Promise.race([stop.then(() => null), closed.then(() => 'closed')]);
    if (why) throw new UserError(`connection to the broker lost${lost ? `: ${lost}` : ''}`);
  } finally {
    clearInterval(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
