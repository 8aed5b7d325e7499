// Turns a router's recorded polls (guest.ts) into labelled training rows, the way the agent
// labels its own samples: the same HorizonLabeler (label 1 when the link was seen dead at some
// poll within the horizon after the sample; samples of links already dead are not kept), after
// a warm-up so that the feature windows are full, and every k-th negative only (consecutive polls
// are near duplicates; sim-dataset.ts does the same).
import { FEATURE_COUNT } from '../../src/learning/features.ts';
import { HorizonLabeler } from '../../src/learning/horizon-labeler.ts';
import { LocalDataset } from '../../src/learning/local-dataset.ts';
import type { FaultRecord, KernelTrace, NodeTrace, PollRecord } from './trace-format.ts';

export interface LabelOptions {
  /** Label horizon H (default 30 s, the agent's default). */
  horizonMs?: number;
  /** Polls whose samples are dropped at the start (default 30: the feature window). */
  warmupPolls?: number;
  /** Keep every k-th negative (default 4). */
  negativeStride?: number;
}

export interface LabelledRows {
  x: Float32Array;
  y: Uint8Array;
  rows: number;
  positives: number;
  /** Per row: the link and the poll time (for reports and tests). */
  at: { key: string; t: number }[];
}

/** Checks one router's trace; throws a clear error on the first thing that is not a recorder poll. */
export function validateNodeTrace(n: unknown): asserts n is NodeTrace {
  const where = (s: string) => `kernel trace${typeof (n as NodeTrace)?.name === 'string' ? ` ${(n as NodeTrace).name}` : ''}: ${s}`;
  if (typeof n !== 'object' || n === null || typeof (n as NodeTrace).name !== 'string' || !Array.isArray((n as NodeTrace).polls)) throw new Error(where('expected {name, polls: [...]}'));
  let last = -Infinity;
  (n as NodeTrace).polls.forEach((p: PollRecord, i) => {
    if (typeof p !== 'object' || p === null || !Number.isFinite(p.t) || !Array.isArray(p.links)) throw new Error(where(`poll ${i}: expected {t, links}`));
    if (p.t <= last) throw new Error(where(`poll ${i}: time ${p.t} is not after the previous poll's ${last}`));
    last = p.t;
    for (const l of p.links) {
      if (typeof l?.key !== 'string' || !l.key.includes('/')) throw new Error(where(`poll ${i}: link key must be "ifname/neighbour", got ${JSON.stringify(l?.key)}`));
      if (l.alive !== 0 && l.alive !== 1) throw new Error(where(`poll ${i} ${l.key}: alive must be 0 or 1, got ${JSON.stringify(l.alive)}`));
      if (!Array.isArray(l.x) || l.x.length !== FEATURE_COUNT || !l.x.every((v) => Number.isFinite(v))) {
        throw new Error(where(`poll ${i} ${l.key}: x must be ${FEATURE_COUNT} finite numbers`));
      }
    }
  });
}

/** Parses the recorder's output (one JSON poll per line) into a validated trace. */
export function parsePollLines(name: string, text: string): NodeTrace {
  const polls = text.split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l) as PollRecord;
    } catch (e) {
      throw new Error(`kernel trace ${name}: line ${i + 1} is not JSON (${(e as Error).message})`);
    }
  });
  const trace = { name, polls };
  validateNodeTrace(trace);
  return trace;
}

export function labelNodeTrace(trace: NodeTrace, opts: LabelOptions = {}): LabelledRows {
  validateNodeTrace(trace);
  const labeler = new HorizonLabeler(opts.horizonMs ?? 30_000);
  const warmup = opts.warmupPolls ?? 30;
  const stride = opts.negativeStride ?? 4;
  const rows: { key: string; t: number; x: Float32Array; label: 0 | 1 }[] = [];
  trace.polls.forEach((p, i) => {
    const alive = new Map(p.links.map((l) => [l.key, l.alive === 1]));
    const samples = i < warmup ? [] : p.links.map((l) => ({ key: l.key, x: Float32Array.from(l.x) }));
    for (const s of labeler.poll(p.t, alive, samples)) rows.push({ key: s.key, t: s.atMs, x: s.x, label: s.label });
  });
  let negSeen = 0;
  const kept = rows.filter((r) => r.label === 1 || negSeen++ % stride === 0);
  const x = new Float32Array(kept.length * FEATURE_COUNT);
  kept.forEach((r, i) => x.set(r.x, i * FEATURE_COUNT));
  const y = Uint8Array.from(kept, (r) => r.label);
  return { x, y, rows: kept.length, positives: kept.filter((r) => r.label === 1).length, at: kept.map((r) => ({ key: r.key, t: r.t })) };
}

/** Every router of every recorded mesh, labelled; `group` is the mesh (for held-out splits). */
export function labelTraces(traces: KernelTrace[], opts: LabelOptions = {}): { group: string; router: string; trace: KernelTrace; data: LabelledRows }[] {
  return traces.flatMap((tr) => tr.nodes.map((n) => ({ group: tr.topology.name, router: `${tr.topology.name}/${n.name}`, trace: tr, data: labelNodeTrace(n, opts) })));
}

/**
 * Which injected fault a positive row's death belongs to: the fault on the row's link (the
 * interface is named v<a>-<b> by scripts/vm/topology.ts) that was active within the horizon
 * after the row; 'none' when no fault was (a death the mesh made by itself, e.g. a stalled VM).
 */
export function faultKindOf(trace: KernelTrace, key: string, t: number, horizonMs = 30_000): FaultRecord['kind'] | 'none' {
  const m = /^v(\d+)-(\d+)\//.exec(key);
  if (!m) return 'none';
  const ends = new Set([`n${m[1]}`, `n${m[2]}`]);
  const f = trace.faults.find((x) => ends.has(x.link[0]) && ends.has(x.link[1]) && x.startMs <= t + horizonMs && x.endMs + 5000 >= t);
  return f?.kind ?? 'none';
}

/** One router's labelled rows as the dataset its learner trains on (10 % held out, as the agent's). */
export function routerDataset(d: LabelledRows, seed: number): LocalDataset {
  const ds = new LocalDataset({ features: FEATURE_COUNT, seed, holdoutShare: 0.1 });
  ds.addAll(d.x, d.y);
  return ds;
}

/** Several routers' rows in one set, nothing held out: for evaluation and the centralised model. */
export function pooled(parts: { x: Float32Array; y: Uint8Array }[]): { x: Float32Array; y: Uint8Array } {
  const all = new LocalDataset({ features: FEATURE_COUNT, capacityPerClass: 1 << 20, holdoutShare: 0 });
  for (const p of parts) all.addAll(p.x, p.y);
  return all.trainingRows();
}
