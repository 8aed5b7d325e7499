// One fixed workload through one build of the core, reduced to a SHA-256 per case: every
// aggregation rule of bench:core (with weights, centre and pre-aggregation as there) at sizes
// whose d is not a multiple of the 4 SIMD lanes, route scoring, and SGD steps of both models and
// the classifier. Equal digests = bit-identical outputs. Imported by variants.test.ts, and run
// as a child process under a V8 without Wasm SIMD:
//   node [--no-enable-sse4-1] --import tsx test/core/variant-digest.ts [wasm|wasm-scalar|js]
// prints {variant, simd, simdSupported, fallbackReason, health, digests} as JSON.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type Core, type RouteCandidate, loadCore } from '../../src/core/index.ts';
import { coreHealth } from '../../src/agent/starting-health.ts';
import { byzantine, ruleCases } from '../../bench/core/cases.ts';
import { benchInput } from '../../bench/core/inputs.ts';
import { Rng } from './random.ts';

const SIZES: [number, number][] = [[16, 37], [17, 130], [33, 515]];

function sha(...parts: (ArrayBufferView | number[] | number | undefined)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    if (p === undefined) h.update('u');
    else if (typeof p === 'number') h.update(`n${p};`);
    else if (Array.isArray(p)) h.update(`a${p.join(',')};`);
    else h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

function aggregations(core: Core, out: Record<string, string>): void {
  for (const [n, d] of SIZES) {
    const input = benchInput(n, d, byzantine(n), 7 * n + d);
    const agg = core.aggregator(n, d);
    try {
      for (let i = 0; i < n; i++) agg.update(i).set(input.xs.subarray(i * d, (i + 1) * d));
      for (const c of ruleCases(n, d)) {
        agg.setWeights(c.weighted ? input.weights : null);
        const config = c.centered ? { ...c.config, center: input.center } : c.config;
        const r = agg.run(config);
        out[`${c.name} n=${n} d=${d}`] = sha(r.result, r.iterations, r.selected);
      }
    } finally {
      agg.dispose();
    }
  }
}

function routes(core: Core, out: Record<string, string>): void {
  const rng = new Rng(5);
  const cands: RouteCandidate[] = [];
  for (let o = 0; o < 23; o++) {
    for (let h = 0; h < 1 + (o % 5); h++) {
      cands.push({
        originatorIndex: o, nextHopIndex: h, ifIndex: 1 + (h % 2), lastSeenMs: Math.floor(rng.next() * 9000),
        ...(h % 2 ? { tq: rng.int(0, 255) } : { throughputMbps: 300 * rng.next() }),
        stability: rng.next(), hopPenalty: rng.next() * 0.3, failureProb: rng.next(),
      });
    }
  }
  const r = core.scoreRoutes(cands, { halfLifeMs: 4000 });
  out['route-scoring'] = sha(r.scores, r.originators.flatMap((o) => o.nextHops.map((c) => c.candidate)));
}

function training(core: Core, out: Record<string, string>): void {
  const rng = new Rng(6);
  const rows = 29;
  for (const spec of [{ kind: 'logistic', features: 11 }, { kind: 'mlp', features: 11, hidden: 7 }] as const) {
    const m = core.model(spec, { maxBatch: rows, seed: 3 });
    const x = Float32Array.from({ length: rows * spec.features }, () => rng.gauss());
    const y = Float32Array.from({ length: rows }, (_, r) => (x[r * spec.features]! + 0.3 * rng.gauss() > 0 ? 1 : 0));
    m.setBatch(x, y);
    const losses = Array.from({ length: 5 }, () => m.step(rows, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }));
    out[`model ${spec.kind}`] = sha(m.params(), Float64Array.from(losses), m.predict(rows));
    m.dispose();
  }
  for (const hidden of [0, 6]) {
    const c = core.classifier({ features: 9, classes: 4, hidden, activation: 'relu' }, { maxBatch: rows, seed: 4 });
    const x = Float32Array.from({ length: rows * 9 }, () => rng.gauss());
    const labels = Int32Array.from({ length: rows }, (_, r) => (x[r * 9]! > 0 ? 1 : 0) + (x[r * 9 + 1]! > 0 ? 2 : 0));
    c.setBatch(x, labels);
    const losses = Array.from({ length: 5 }, () => c.step(rows, { lr: 0.05, momentum: 0.5 }));
    out[`classifier hidden=${hidden}`] = sha(c.params(), Float64Array.from(losses), c.predict(rows));
    c.dispose();
  }
}

/** Case name → digest of every output of that case. */
export function digestCore(core: Core): Record<string, string> {
  const out: Record<string, string> = {};
  aggregations(core, out);
  routes(core, out);
  training(core, out);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const prefer = (process.argv[2] ?? 'wasm') as 'wasm' | 'wasm-scalar' | 'js';
  const core = await loadCore({ prefer });
  const { variant, simd, simdSupported, fallbackReason } = core;
  process.stdout.write(`${JSON.stringify({ variant, simd, simdSupported, fallbackReason, health: coreHealth(core), digests: digestCore(core) })}\n`);
}
