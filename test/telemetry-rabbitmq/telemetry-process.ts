// test/telemetry/telemetry-process.ts with broker credentials: the telemetry component alone in a
// process that the test can kill -9 (the Last Will). RabbitMQ has no anonymous MQTT here, and the
// shared helper takes no username, so this is the same few lines plus username/password.
// usage: X0_MQTT_PASSWORD=... node --import tsx telemetry-process.ts '<json>'
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { startTelemetry } from '../../src/telemetry/telemetry.ts';
import { EventSource, statusFixture } from '../telemetry/fixture.ts';

const o = JSON.parse(process.argv[2] ?? '{}') as { node: string; fleet: string; broker: string; username: string; intervalS?: number };
const health = new HealthBoard(o.node);
health.onChange((c) => process.stdout.write(`health ${c.name} ${c.state} ${c.reason}\n`));
const t = startTelemetry({
  node: o.node,
  fleet: o.fleet,
  broker: o.broker,
  username: o.username,
  password: process.env.X0_MQTT_PASSWORD,
  intervalS: o.intervalS ?? 5,
  reconnectMinS: 0.2,
  reconnectMaxS: 2,
  source: { status: () => statusFixture(o.node, o.fleet, health) },
  subscribeEvents: new EventSource().subscribe,
  health,
  log: createLogger('warn'),
});
process.on('SIGTERM', () => void t.stop().then(() => process.exit(0)));
