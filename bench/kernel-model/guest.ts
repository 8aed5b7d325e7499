// Runs inside the VM (bench/kernel-model/kernel.ts starts it): records the link-failure model's
// input on the real batman-adv. Every node of the mesh runs a recorder process in its own
// namespace (as an agent would on its router) that polls the mesh through the agent's netlink
// driver once a second, keeps the knowledge windows exactly as the monitor does, and writes the
// feature vector and the "has a current sample" flag of every direct link per poll. Meanwhile
// this script injects faults in the medium between nodes (links dying, fading, flapping,
// lossy-but-alive). Labels are put on afterwards, on the host (record.ts), so that the labelling
// is testable without a VM. Writes {kernel, faults, nodes: [{name, polls}]} to $X0VM_OUT.
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { openBatmanDriver } from '../../src/mesh/batman/open-batman-driver.ts';
import { Knowledge, directLinkMetric } from '../../src/mapek/knowledge.ts';
import { staleAfterMs } from '../../src/mapek/detection-timing.ts';
import { FeatureTracker, type ErrorCounters } from '../../src/learning/features.ts';
import { Prng } from '../../src/mesh/simulator/prng.ts';
import { linkFaultDevices, type MeshInfoFile } from '../../scripts/vm/topology.ts';
import type { FaultRecord, NodeTrace, PollRecord } from './trace-format.ts';

const POLL_MS = 1000;
const log = (m: string) => process.stderr.write(`kmodel-guest: ${m}\n`);
const sh = (argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns: string, ...argv: string[]) => sh(['ip', 'netns', 'exec', ns, ...argv]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

const mesh = JSON.parse(readFileSync(process.env.X0VM_MESH!, 'utf8')) as MeshInfoFile;
const node = (n: number) => mesh.nodes[n - 1]!;

if (process.env.X0_KM_ROLE === 'recorder') {
  await record(Number(process.env.X0_KM_NODE), process.env.X0_KM_OUT!);
} else {
  await main();
}

/** One node's recorder: polls until SIGTERM, one JSON line per poll. */
async function record(i: number, out: string): Promise<void> {
  const driver = await openBatmanDriver({ meshIfname: 'bat0', timeoutMs: 20_000 });
  const knowledge = new Knowledge({ historyLength: 60 });
  const tracker = new FeatureTracker();
  let stop = false;
  process.on('SIGTERM', () => (stop = true));
  writeFileSync(out, '');
  process.stdout.write('ready\n');
  let next = Date.now();
  while (!stop) {
    const t = Date.now();
    try {
      const [settings, neighbours, originators] = await Promise.all([driver.settings(), driver.neighbours(), driver.originators()]);
      const staleMs = staleAfterMs(settings.origIntervalMs);
      knowledge.recordLinks(neighbours.map((n) => {
        const m = directLinkMetric('BATMAN_IV', n, originators);
        return { neighbour: n.neighbour, hardIfname: n.hardIfname, kind: m.kind, value: n.lastSeenMs > staleMs ? null : m.value };
      }));
      const counters = new Map<string, ErrorCounters>();
      for (const f of node(i).ifaces) counters.set(f.ifname, readCounters(f.ifname));
      const links = knowledge.linkStatus();
      const feats = tracker.observe({ links, originators, neighbours, counters });
      const alive = new Map(links.map((l) => [`${l.hardIfname}/${l.neighbour}`, l.metric !== null]));
      const poll: PollRecord = { t, links: feats.map((f) => ({ key: f.key, alive: alive.get(f.key) ? 1 : 0, x: [...f.x].map(round4) })) };
      appendFileSync(out, JSON.stringify(poll) + '\n');
    } catch (e) {
      log(`${node(i).name}: poll failed: ${(e as Error).message}`);
    }
    next += POLL_MS;
    await sleep(Math.max(0, next - Date.now()));
  }
  await driver.close();
  process.exit(0);
}

function readCounters(ifname: string): ErrorCounters {
  const v = (k: string) => Number(readFileSync(`/sys/class/net/${ifname}/statistics/${k}`, 'utf8'));
  return { rxErrors: v('rx_errors'), txErrors: v('tx_errors'), rxDropped: v('rx_dropped'), txDropped: v('tx_dropped') };
}

function setLoss(a: number, b: number, lossPct: number | null): void {
  for (const { netns, dev } of linkFaultDevices(mesh, a, b)) {
    try {
      inNs(netns, 'tc', 'qdisc', 'del', 'dev', dev, 'root');
    } catch {
      // none yet
    }
    if (lossPct !== null && lossPct > 0) inNs(netns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'loss', `${lossPct}%`);
  }
}

/** One fault on link a–b, start to end (all in this process's timers). */
async function fault(kind: FaultRecord['kind'], a: number, b: number, rng: Prng): Promise<FaultRecord> {
  const startMs = Date.now();
  const rec: FaultRecord = { kind, link: [node(a).name, node(b).name], startMs, endMs: 0 };
  switch (kind) {
    case 'die': // dies at once, stays dead a while, comes back
      setLoss(a, b, 100);
      rec.deadFromMs = Date.now();
      await sleep(rng.range(25_000, 40_000));
      break;
    case 'fade': // loss ramps 0 → 100 % over ~20 s, then stays dead
      for (let s = 1; s <= 10; s++) {
        setLoss(a, b, s * 10);
        if (s === 10) rec.deadFromMs = Date.now();
        await sleep(2000);
      }
      await sleep(rng.range(15_000, 25_000));
      break;
    case 'flap': // down 4 s, up 4 s
      rec.deadFromMs = Date.now();
      for (let s = 0; s < 5; s++) {
        setLoss(a, b, 100);
        await sleep(4000);
        setLoss(a, b, null);
        await sleep(4000);
      }
      break;
    case 'lossy': // lossy but alive: 20-50 % loss in the medium
      setLoss(a, b, Math.round(rng.range(20, 50)));
      await sleep(rng.range(30_000, 45_000));
      break;
  }
  setLoss(a, b, null);
  rec.endMs = Date.now();
  return rec;
}

async function main(): Promise<void> {
  const durationMs = Number(process.env.X0_KM_DURATION_S ?? 420) * 1000;
  const rng = new Prng(`kmodel-${process.env.X0_KM_SEED ?? '1'}`);
  const n = mesh.nodes.length;
  const procs = await Promise.all(Array.from({ length: n }, async (_, k) => {
    const i = k + 1;
    const out = `/tmp/kmodel-${i}.jsonl`;
    const p = spawn('ip', ['netns', 'exec', node(i).netns, process.execPath, ...process.execArgv, process.argv[1]!], {
      env: { ...process.env, X0_KM_ROLE: 'recorder', X0_KM_NODE: String(i), X0_KM_OUT: out }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      p.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('ready')) resolve();
      });
      p.on('exit', (c) => reject(new Error(`recorder ${i} exited ${c} before it was ready`)));
    });
    return { p, out, exited: new Promise((r) => p.on('exit', r)) };
  }));
  log(`${n} recorders ready; healthy warm-up`);
  await sleep(40_000);
  // Faults: a new one every ~20 s on a link that has none, each lasting 30-45 s, so about two
  // run at once. The mix: deaths and fades (the failures to predict), flaps, lossy-but-alive.
  const kinds: FaultRecord['kind'][] = ['die', 'fade', 'flap', 'lossy', 'die', 'fade', 'lossy'];
  const busy = new Set<string>();
  const faults: Promise<FaultRecord>[] = [];
  const end = Date.now() + durationMs;
  while (Date.now() < end - 45_000) {
    const free = mesh.topology.links.filter(([a, b]) => !busy.has(`${a}-${b}`));
    if (free.length) {
      const [a, b] = free[rng.int(free.length)]!;
      const kind = kinds[rng.int(kinds.length)]!;
      busy.add(`${a}-${b}`);
      log(`fault ${kind} on n${a}–n${b}`);
      faults.push(fault(kind, a, b, rng).then((r) => (busy.delete(`${a}-${b}`), r)));
    }
    await sleep(rng.range(15_000, 25_000));
  }
  const done = await Promise.all(faults);
  // healthy tail: the last faults' horizons close with the link alive again
  await sleep(Math.max(35_000, end - Date.now()));
  for (const x of procs) x.p.kill('SIGTERM');
  await Promise.all(procs.map((x) => x.exited));
  const nodes: NodeTrace[] = procs.map((x, k) => ({
    name: node(k + 1).name,
    polls: existsSync(x.out) ? readFileSync(x.out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as PollRecord) : [],
  }));
  writeFileSync(process.env.X0VM_OUT!, JSON.stringify({ kernel: sh(['uname', '-r']).trim(), topology: mesh.topology, pollMs: POLL_MS, faults: done, nodes }));
  log(`done: ${done.length} faults, polls per node ${nodes.map((x) => x.polls.length).join(',')}`);
}
