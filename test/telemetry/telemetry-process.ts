// A stand-alone process running only the telemetry component, for tests that must kill it the
// way a crash or an OOM kill would (the Last Will), or measure it in isolation.
// usage: node --import tsx telemetry-process.ts '<json TelemetryOptions subset>'
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { startTelemetry } from '../../src/telemetry/telemetry.ts';
import { EventSource, statusFixture } from './fixture.ts';

const o = JSON.parse(process.argv[2] ?? '{}') as { node: string; fleet: string; broker: string; intervalS?: number; eventEveryMs?: number };
const health = new HealthBoard(o.node);
const events = new EventSource();
health.onChange((c) => process.stdout.write(`health ${c.name} ${c.state} ${c.reason}\n`));
const t = startTelemetry({
  node: o.node,
  fleet: o.fleet,
  broker: o.broker,
  intervalS: o.intervalS ?? 5,
  reconnectMinS: 0.2,
  reconnectMaxS: 2,
  source: { status: () => statusFixture(o.node, o.fleet, health) },
  subscribeEvents: events.subscribe,
  health,
  log: createLogger('warn'),
});
if (o.eventEveryMs) setInterval(() => events.emit('info', `tick ${Date.now()}`), o.eventEveryMs);
process.on('SIGTERM', () => void t.stop().then(() => process.exit(0)));
