// npm run bench:netlink-fuzz [-- --frames N --requester-frames N --seed S]
// Fuzzes the netlink decoders with >= 10^6 random and mutated frames, then the request layer
// with a dump in flight, and prints one JSON document (bench format) with frames/s per
// mutation strategy and the outcome counts. Exits 1 if anything crashed or hung.
import { runFuzz, runRequesterFuzz, STRATEGIES } from './frame-fuzzer.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} needs a non-negative integer\n`);
    process.exit(2);
  }
  return n;
}

const frames = arg('frames', 1_000_000);
const requesterFrames = arg('requester-frames', 100_000);
const seed = arg('seed', 20_240_601);

process.stderr.write(`netlink fuzz: ${frames} frames through the decoders, seed ${seed}\n`);
const t0 = Date.now();
const r = runFuzz(frames, seed, (n) => process.stderr.write(`  ${n} frames, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`));
process.stderr.write(`netlink fuzz: ${requesterFrames} frames through the request layer\n`);
const q = await runRequesterFuzz(requesterFrames, seed + 1);

const perSec = (n: number, ns: bigint) => (ns === 0n ? 0 : Math.round((n * 1e9) / Number(ns)));
const rows = STRATEGIES.map((s) => {
  const st = r.byStrategy[s];
  return { case: `decode/${s}`, variants: { 'frames/s': perSec(st.frames, st.ns), 'MB/s': Math.round((st.bytes / 1e6 / (Number(st.ns) / 1e9)) * 10) / 10 } };
});
rows.push({ case: 'requester/dump-in-flight', variants: { 'frames/s': perSec(q.frames, q.ns), 'MB/s': 0 } });

const sum = (k: 'ok' | 'decodeError' | 'crash') => STRATEGIES.reduce((n, s) => n + r.byStrategy[s][k], 0);
const maxFrameNs = STRATEGIES.reduce((m, s) => (r.byStrategy[s].maxFrameNs > m ? r.byStrategy[s].maxFrameNs : m), 0n);
const summary = {
  seed,
  frames: r.frames,
  ok: sum('ok'),
  decodeError: sum('decodeError'),
  crash: sum('crash'),
  byStrategy: Object.fromEntries(STRATEGIES.map((s) => [s, { ok: r.byStrategy[s].ok, decodeError: r.byStrategy[s].decodeError, crash: r.byStrategy[s].crash }])),
  maxFrameMicros: Math.round(Number(maxFrameNs) / 1000),
  maxHeapUsedMB: Math.round((r.maxHeapUsedBytes / 1048576) * 10) / 10,
  requester: { frames: q.frames, resolved: q.resolved, typedErrors: q.typedErrors, crash: q.crash, hung: q.hung },
  crashes: r.crashes,
  node: process.version,
};
process.stdout.write(JSON.stringify({ bench: 'netlink-fuzz', unit: 'frames/s', rows, summary }, null, 2) + '\n');
process.exit(summary.crash || q.crash || q.hung ? 1 : 0);
