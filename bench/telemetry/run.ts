// npm run bench:telemetry — the agent's MQTT side against a real mosquitto (Debian's, started on
// a free loopback port). Two cases:
//   steady:  200 simulated agents (one process, one connection each) publishing telemetry and
//            QoS 1 events for a minute: throughput, the agents' CPU and memory, the broker's CPU;
//   outages: agents emitting QoS 1 events while the broker is stopped and started again and
//            again: every event is accounted for as received, dropped (counted) or lost;
//   saturate: more events offered than the connections carry: the store-and-forward queue's
//            throughput (events/s acknowledged end to end), still nothing lost.
// A persistent-session subscriber (clean: false, QoS 1) on a persistent broker plays the backend
// and checks each (node, boot, seq). One JSON document on stdout; progress on stderr.
// Environment: X0_BENCH_S (steady duration, default 60), X0_BENCH_AGENTS (default 200),
// X0_BENCH_OUTAGES (default 5), X0_BENCH_OUTAGE_S (default 3).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { EventPayload } from '../../src/telemetry/payloads.ts';
import { Mosquitto } from '../../test/telemetry/mosquitto.ts';
import { Subscriber, withTimeout } from '../../test/telemetry/subscriber.ts';

const root = new URL('../..', import.meta.url).pathname;
const env = (name: string, def: number) => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const STEADY_S = env('X0_BENCH_S', 60);
const AGENTS = Math.round(env('X0_BENCH_AGENTS', 200));
const OUTAGES = Math.round(env('X0_BENCH_OUTAGES', 5));
const OUTAGE_S = env('X0_BENCH_OUTAGE_S', 3);
const log = (m: string) => process.stderr.write(`bench:telemetry: ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const TICK_MS = 1000 / 100; // USER_HZ on Linux: /proc stat times are in 1/100 s

interface ChildResult {
  emitS: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  rssBytes: number;
  peakRssBytes: number;
  heapUsedBytes: number;
  nodes: { name: string; emitted: number; dropped: number; queued: number; connects: number }[];
  telemetrySent: number;
  telemetryBytesMax: number;
}

function brokerCpuMs(pid: number | null): number {
  if (!pid) return 0;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime
}

class Agents {
  private out = '';
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (d) => (this.out += d));
  }

  static async start(settings: object): Promise<Agents> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/telemetry/agents.ts', JSON.stringify(settings)], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    const a = new Agents(child);
    await a.line((l) => 'ready' in l, 120_000, 'all agents connected');
    return a;
  }

  private async line(pred: (l: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (const l of this.out.split('\n')) {
        if (!l.startsWith('{')) continue;
        const o = JSON.parse(l) as Record<string, unknown>;
        if (pred(o)) return o;
      }
      if (this.child.exitCode !== null) throw new Error(`agents process exited (${this.child.exitCode}) before ${what}`);
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await sleep(50);
    }
  }

  async finish(): Promise<ChildResult> {
    this.child.stdin!.write('stop\n');
    return (await this.line((l) => 'emitS' in l, 180_000, 'the agents to drain and report')) as unknown as ChildResult;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Per node: the distinct seqs received (first copies), duplicates, and order violations. */
function account(sub: Subscriber, fleet: string, r: ChildResult) {
  const seen = new Map<string, Set<number>>();
  const lastSeq = new Map<string, number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let wrong = 0;
  for (const m of sub.messages) {
    if (!m.topic.endsWith('/events')) continue;
    const e = JSON.parse(m.text) as EventPayload;
    if (e.fleet !== fleet || !m.topic.startsWith(`x0tta6bl4/${fleet}/${e.node}/`)) {
      wrong++;
      continue;
    }
    const set = seen.get(e.node) ?? new Set<number>();
    seen.set(e.node, set);
    if (set.has(e.seq)) {
      duplicates++;
      continue;
    }
    // A first copy older than one already seen: delivered out of order.
    if (e.seq < (lastSeq.get(e.node) ?? 0)) outOfOrder++;
    lastSeq.set(e.node, Math.max(e.seq, lastSeq.get(e.node) ?? 0));
    set.add(e.seq);
    if (!e.message.startsWith(`bench event ${e.seq} of ${e.node}:`)) wrong++;
  }
  let emitted = 0;
  let received = 0;
  let dropped = 0;
  let lost = 0;
  for (const n of r.nodes) {
    const got = seen.get(n.name)?.size ?? 0;
    emitted += n.emitted;
    received += got;
    dropped += n.dropped;
    lost += Math.max(0, n.emitted - n.dropped - got);
  }
  return { emitted, received, dropped, lost, duplicates, outOfOrder, wrong };
}

async function waitReceived(sub: Subscriber, want: number, ms: number): Promise<number> {
  const t0 = Date.now();
  const count = () => sub.messages.filter((m) => m.topic.endsWith('/events')).length;
  while (count() < want && Date.now() - t0 < ms) await sleep(50);
  return (Date.now() - t0) / 1000;
}

async function steady(): Promise<{ row: object; summary: Record<string, number> }> {
  const broker = await Mosquitto.start({ persistence: true });
  const fleet = 'steady';
  let sub: Subscriber | null = null;
  let agents: Agents | null = null;
  try {
    sub = await Subscriber.connect(broker.url, [`x0tta6bl4/${fleet}/+/events`, `x0tta6bl4/${fleet}/+/telemetry`], { clean: false, clientId: 'bench-backend-steady' });
    log(`steady: starting ${AGENTS} agents`);
    agents = await Agents.start({ broker: broker.url, fleet, agents: AGENTS, eventsPerSecPerAgent: 1, intervalS: 5, bufferLimit: 1000 });
    const b0 = brokerCpuMs(broker.pid);
    const m0 = sub.messages.length;
    log(`steady: all connected; publishing for ${STEADY_S} s`);
    await sleep(STEADY_S * 1000);
    const r = await agents.finish();
    const b1 = brokerCpuMs(broker.pid);
    const want = r.nodes.reduce((a, n) => a + n.emitted - n.dropped, 0);
    await waitReceived(sub, want, 30_000);
    const acc = account(sub, fleet, r);
    const msgs = sub.messages.length - m0;
    const cpuMs = r.cpuUserMs + r.cpuSystemMs;
    const v = {
      agents: AGENTS,
      seconds: round(r.emitS),
      events_per_s: round(acc.received / r.emitS),
      messages_per_s: round(msgs / r.emitS),
      lost_qos1_events: acc.lost,
      duplicates: acc.duplicates,
      agents_cpu_percent: round((cpuMs / (r.emitS * 1000)) * 100),
      cpu_ms_per_agent_per_min: round((cpuMs / AGENTS) * (60 / r.emitS), 2),
      agents_rss_mb: round(r.peakRssBytes / 2 ** 20),
      broker_cpu_percent: round(((b1 - b0) / (r.emitS * 1000)) * 100),
      telemetry_bytes_max: r.telemetryBytesMax,
    };
    log(`steady: ${JSON.stringify(v)}`);
    return { row: { case: `steady/${AGENTS}-agents`, variants: v }, summary: { ...acc, ...v } };
  } finally {
    agents?.kill();
    await sub?.close();
    await broker.stop();
  }
}

async function outages(): Promise<{ row: object; summary: Record<string, number> }> {
  const broker = await Mosquitto.start({ persistence: true });
  const fleet = 'outage';
  const n = 20;
  let sub: Subscriber | null = null;
  let agents: Agents | null = null;
  try {
    sub = await Subscriber.connect(broker.url, [`x0tta6bl4/${fleet}/+/events`], { clean: false, clientId: 'bench-backend-outage' });
    agents = await Agents.start({ broker: broker.url, fleet, agents: n, eventsPerSecPerAgent: 20, intervalS: 5, bufferLimit: 5000 });
    log(`outages: ${n} agents at 20 events/s each; ${OUTAGES} broker outages of ${OUTAGE_S} s`);
    for (let i = 0; i < OUTAGES; i++) {
      await sleep(3000);
      await broker.stop();
      await sleep(OUTAGE_S * 1000);
      await withTimeout(broker.resume(), 15_000, 'the broker to restart');
      log(`outages: ${i + 1}/${OUTAGES} done`);
    }
    await sleep(3000);
    const r = await agents.finish();
    const want = r.nodes.reduce((a, x) => a + x.emitted - x.dropped, 0);
    const drainS = await waitReceived(sub, want, 60_000);
    const acc = account(sub, fleet, r);
    const v = {
      agents: n,
      outages: OUTAGES,
      outage_s: OUTAGE_S,
      emitted: acc.emitted,
      received: acc.received,
      dropped_counted: acc.dropped,
      lost_qos1_events: acc.lost,
      duplicates: acc.duplicates,
      out_of_order: acc.outOfOrder,
      corrupted: acc.wrong,
      events_per_s: round(acc.received / (r.emitS + drainS)),
      reconnects_per_agent: round(r.nodes.reduce((a, x) => a + x.connects - 1, 0) / n, 2),
    };
    log(`outages: ${JSON.stringify(v)}`);
    return { row: { case: `outages/${n}-agents`, variants: v }, summary: v };
  } finally {
    agents?.kill();
    await sub?.close();
    await broker.stop();
  }
}

/** Offered load above what one broker connection per agent can take: the queue's throughput. */
async function saturate(): Promise<{ row: object; summary: Record<string, number> }> {
  const broker = await Mosquitto.start({ persistence: true });
  const fleet = 'saturate';
  const n = 20;
  let sub: Subscriber | null = null;
  let agents: Agents | null = null;
  try {
    sub = await Subscriber.connect(broker.url, [`x0tta6bl4/${fleet}/+/events`], { clean: false, clientId: 'bench-backend-saturate' });
    agents = await Agents.start({ broker: broker.url, fleet, agents: n, eventsPerSecPerAgent: 1000, intervalS: 5, bufferLimit: 100_000 });
    log(`saturate: ${n} agents offering 1000 events/s each for 10 s`);
    await sleep(10_000);
    const r = await agents.finish();
    const want = r.nodes.reduce((a, x) => a + x.emitted - x.dropped, 0);
    const drainS = await waitReceived(sub, want, 120_000);
    const acc = account(sub, fleet, r);
    const v = {
      agents: n,
      offered_per_s: round(acc.emitted / r.emitS),
      events_per_s: round(acc.received / (r.emitS + drainS)),
      emitted: acc.emitted,
      lost_qos1_events: acc.lost,
      dropped_counted: acc.dropped,
      duplicates: acc.duplicates,
      out_of_order: acc.outOfOrder,
      agents_cpu_percent: round(((r.cpuUserMs + r.cpuSystemMs) / (r.emitS * 1000)) * 100),
      agents_rss_mb: round(r.peakRssBytes / 2 ** 20),
    };
    log(`saturate: ${JSON.stringify(v)}`);
    return { row: { case: `saturate/${n}-agents`, variants: v }, summary: v };
  } finally {
    agents?.kill();
    await sub?.close();
    await broker.stop();
  }
}

const a = await steady();
const b = await outages();
const c = await saturate();
const doc = {
  bench: 'telemetry',
  unit: 'mixed: each variant name carries its unit (per_s, percent, mb, bytes, or a count)',
  rows: [a.row, b.row, c.row],
  summary: {
    lost_qos1_events: (a.summary.lost_qos1_events ?? 0) + (b.summary.lost_qos1_events ?? 0) + (c.summary.lost_qos1_events ?? 0),
    steady_agents: AGENTS,
    steady_events_per_s: a.summary.events_per_s,
    steady_messages_per_s: a.summary.messages_per_s,
    agents_cpu_percent: a.summary.agents_cpu_percent,
    cpu_ms_per_agent_per_min: a.summary.cpu_ms_per_agent_per_min,
    agents_rss_mb: a.summary.agents_rss_mb,
    broker_cpu_percent: a.summary.broker_cpu_percent,
    telemetry_bytes_max: a.summary.telemetry_bytes_max,
    outage_events_emitted: b.summary.emitted,
    outage_events_dropped_counted: b.summary.dropped_counted,
    outage_duplicates: b.summary.duplicates,
    outage_out_of_order: b.summary.out_of_order,
    burst_events_per_s: c.summary.events_per_s,
    burst_offered_per_s: c.summary.offered_per_s,
  },
};
process.stdout.write(`${JSON.stringify(doc)}\n`);
process.exit(doc.summary.lost_qos1_events === 0 ? 0 : 1);
