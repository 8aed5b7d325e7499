// Child process of bench/telemetry/run.ts: N telemetry publishers (the agent's real MQTT code,
// each with its own connection, event queue and timers) emitting events at a fixed rate, so the
// parent can measure this process's CPU and memory apart from the broker and the subscriber.
// Protocol: argv[2] is JSON settings; "stop\n" on stdin stops emitting; the child then waits for
// its queues to drain (bounded), prints one JSON line of results on stdout and exits.
import { HealthBoard } from '../../src/agent/health.ts';
import { createLogger } from '../../src/agent/logger.ts';
import { startTelemetry, type Telemetry } from '../../src/telemetry/telemetry.ts';
import { EventSource, statusFixture } from '../../test/telemetry/fixture.ts';

interface Settings {
  broker: string;
  fleet: string;
  agents: number;
  eventsPerSecPerAgent: number;
  intervalS: number;
  bufferLimit: number;
}

const s = JSON.parse(process.argv[2] ?? '{}') as Settings;
const log = createLogger('error', (l) => process.stderr.write(`agents: ${l}\n`));
const nodes: { name: string; t: Telemetry; events: EventSource; emitted: number }[] = [];
for (let i = 0; i < s.agents; i++) {
  const name = `a${String(i).padStart(3, '0')}`;
  const health = new HealthBoard(name);
  const events = new EventSource();
  const t = startTelemetry({
    node: name,
    fleet: s.fleet,
    broker: s.broker,
    intervalS: s.intervalS,
    bufferLimit: s.bufferLimit,
    reconnectMinS: 0.25,
    reconnectMaxS: 2,
    source: { status: () => statusFixture(name, s.fleet, health) },
    subscribeEvents: events.subscribe,
    health,
    log,
  });
  nodes.push({ name, t, events, emitted: 0 });
}

const connected = () => nodes.filter((n) => n.t.stats().state === 'connected').length;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);

// Events go out in rounds of 100 ms, spread over the agents, so the load is smooth.
const perRound = (s.agents * s.eventsPerSecPerAgent) / 10;
let owed = 0;
let k = 0;
const emitter = setInterval(() => {
  owed += perRound;
  for (; owed >= 1; owed--) {
    const n = nodes[k++ % nodes.length]!;
    n.emitted++;
    n.events.emit(k % 3 === 0 ? 'action' : 'finding', `bench event ${n.emitted} of ${n.name}: link 02:00:00:00:00:${(n.emitted % 256).toString(16).padStart(2, '0')} tq ${n.emitted % 256}`);
  }
}, 100);

const ready = setInterval(() => {
  if (connected() === nodes.length) {
    clearInterval(ready);
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  }
}, 50);

let input = '';
process.stdin.on('data', (d) => {
  input += d;
  if (input.includes('stop\n')) void finish();
});

async function finish(): Promise<void> {
  clearInterval(emitter);
  const emitS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rss = process.memoryUsage().rss;
  const deadline = Date.now() + 120_000;
  while (nodes.some((n) => n.t.stats().eventsQueued > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  clearInterval(sampler);
  const stats = nodes.map((n) => n.t.stats());
  const result = {
    emitS,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    rssBytes: rss,
    peakRssBytes: Math.max(peakRss, rss),
    heapUsedBytes: process.memoryUsage().heapUsed,
    nodes: nodes.map((n, i) => ({ name: n.name, emitted: n.emitted, dropped: stats[i]!.eventsDropped, queued: stats[i]!.eventsQueued, connects: stats[i]!.connects })),
    telemetrySent: stats.reduce((a, x) => a + x.telemetrySent, 0),
    telemetryBytesMax: Math.max(...stats.map((x) => x.telemetryBytes)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await Promise.all(nodes.map((n) => n.t.stop()));
  process.exit(0);
}
