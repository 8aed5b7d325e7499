// Straightforward reference implementations of the aggregation rules: plain TypeScript, float64,
// whole vectors, no blocking, no SIMD — written from the definitions in
// /work/shared/reference/federated-learning.md, to check the core against.
// Where the core's output is float32 the reference rounds to float32 at the same points
// (e.g. each Weiszfeld iterate), so that a tolerance measures arithmetic, not semantics.
type Vec = ArrayLike<number>;
const fr = Math.fround;

export function sqDist(a: Vec, b: Vec): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j]! - b[j]!;
    s += t * t;
  }
  return s;
}

export function norm(a: Vec): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * a[j]!;
  return Math.sqrt(s);
}

/** Σ wᵢxᵢ / Σ wᵢ, summed in list order. */
export function mean(xs: Vec[], w?: number[]): Float32Array {
  const d = xs[0]!.length;
  const out = new Float32Array(d);
  let W = 0;
  for (let i = 0; i < xs.length; i++) W += w ? w[i]! : 1;
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += (w ? w[i]! : 1) * xs[i]![j]!;
    out[j] = s / W;
  }
  return out;
}

function column(xs: Vec[], j: number): number[] {
  return xs.map((x) => x[j]!).sort((a, b) => a - b);
}

export function median(xs: Vec[]): Float32Array {
  const n = xs.length;
  const out = new Float32Array(xs[0]!.length);
  for (let j = 0; j < out.length; j++) {
    const c = column(xs, j);
    out[j] = n % 2 ? c[n >> 1]! : (c[(n >> 1) - 1]! + c[n >> 1]!) / 2;
  }
  return out;
}

export function trimmedMean(xs: Vec[], b: number): Float32Array {
  const n = xs.length;
  const out = new Float32Array(xs[0]!.length);
  for (let j = 0; j < out.length; j++) {
    const c = column(xs, j);
    let s = 0;
    for (let k = b; k < n - b; k++) s += c[k]!;
    out[j] = s / (n - 2 * b);
  }
  return out;
}

/** Score of each vector: sum of its k smallest squared distances to the others; total: sum of all. */
export function krumScores(xs: Vec[], k: number): { scores: number[]; totals: number[] } {
  const dists = xs.map((x, i) => xs.filter((_, j) => j !== i).map((y) => sqDist(x, y)).sort((a, b) => a - b));
  return {
    scores: dists.map((ds) => ds.slice(0, k).reduce((s, v) => s + v, 0)),
    totals: dists.map((ds) => ds.reduce((s, v) => s + v, 0)),
  };
}

/** Krum's ranking: lower score, then lower total distance, then lower index. */
function ranking(scores: number[], totals: number[]): (a: number, b: number) => number {
  return (a, b) => scores[a]! - scores[b]! || totals[a]! - totals[b]! || a - b;
}

export function krum(xs: Vec[], f: number): { index: number; scores: number[] } {
  const { scores, totals } = krumScores(xs, xs.length - f - 2);
  const order = xs.map((_, i) => i).sort(ranking(scores, totals));
  return { index: order[0]!, scores };
}

export function multiKrum(xs: Vec[], f: number, m: number): { selected: number[]; result: Float32Array } {
  const { scores, totals } = krumScores(xs, xs.length - f - 2);
  const order = xs.map((_, i) => i).sort(ranking(scores, totals));
  const selected = order.slice(0, m);
  const asc = [...selected].sort((a, b) => a - b);
  return { selected, result: mean(asc.map((i) => xs[i]!)) };
}

export function bulyan(xs: Vec[], f: number): { selected: number[]; result: Float32Array } {
  const n = xs.length;
  const theta = n - 2 * f;
  const beta = theta - 2 * f;
  const dist = xs.map((x) => xs.map((y) => sqDist(x, y)));
  let alive = xs.map((_, i) => i);
  const selected: number[] = [];
  for (let t = 0; t < theta; t++) {
    // iterated Krum on the remaining vectors with k = min(n − f − 2, r − 1) neighbours
    const k = Math.min(n - f - 2, alive.length - 1);
    const scores: number[] = [];
    const totals: number[] = [];
    for (const a of alive) {
      const ds = alive.filter((b) => b !== a).map((b) => dist[a]![b]!).sort((p, q) => p - q);
      scores[a] = ds.slice(0, k).reduce((u, v) => u + v, 0);
      totals[a] = ds.reduce((u, v) => u + v, 0);
    }
    const best = [...alive].sort(ranking(scores, totals))[0]!;
    selected.push(best);
    alive = alive.filter((a) => a !== best);
  }
  const chosen = selected.map((i) => xs[i]!);
  const out = new Float32Array(xs[0]!.length);
  for (let j = 0; j < out.length; j++) {
    const c = column(chosen, j);
    const h = theta >> 1;
    const med = theta % 2 ? c[h]! : (c[h - 1]! + c[h]!) / 2;
    // the β values closest to the median, ties to the lower value, summed in ascending order
    const near = [...c].sort((a, b) => Math.abs(a - med) - Math.abs(b - med) || a - b).slice(0, beta).sort((a, b) => a - b);
    out[j] = near.reduce((s, v) => s + v, 0) / beta;
  }
  return { selected, result: out };
}

export function objective(xs: Vec[], v: Vec, alpha?: number[]): number {
  let s = 0;
  xs.forEach((x, i) => (s += (alpha ? alpha[i]! : 1 / xs.length) * Math.sqrt(sqDist(v, x))));
  return s;
}

/**
 * Smoothed Weiszfeld from the weighted mean or the coordinate-wise median, whichever has the
 * lower objective (the mean on a tie); each iterate rounded to float32 like the core's.
 */
export function geometricMedian(
  xs: Vec[], w: number[] | undefined, nu: number, maxIter: number, tol: number,
): { result: Float32Array; iterations: number; objective: number } {
  const W = xs.reduce((s, _, i) => s + (w ? w[i]! : 1), 0);
  const alpha = xs.map((_, i) => (w ? w[i]! : 1) / W);
  let v = mean(xs, w);
  let obj = objective(xs, v, alpha);
  const med = median(xs);
  const medObj = objective(xs, med, alpha);
  if (medObj < obj) {
    v = med;
    obj = medObj;
  }
  let it = 0;
  while (it < maxIter) {
    const beta = xs.map((x, i) => alpha[i]! / Math.max(nu, Math.sqrt(sqDist(v, x))));
    v = mean(xs, beta);
    it++;
    const prev = obj;
    obj = objective(xs, v, alpha);
    if (Math.abs(prev - obj) < tol * obj) break;
  }
  return { result: v, iterations: it, objective: obj };
}

export function centeredClipping(xs: Vec[], w: number[] | undefined, tau: number, iterations: number, v0: Vec): Float32Array {
  const W = xs.reduce((s, _, i) => s + (w ? w[i]! : 1), 0);
  let v = Float32Array.from(v0);
  for (let it = 0; it < iterations; it++) {
    const coef = xs.map((x, i) => {
      const dist = Math.sqrt(sqDist(x, v));
      return ((w ? w[i]! : 1) / W) * (dist > tau ? tau / dist : 1);
    });
    const next = new Float32Array(v.length);
    for (let j = 0; j < v.length; j++) {
      let s = 0;
      xs.forEach((x, i) => (s += coef[i]! * (x[j]! - v[j]!)));
      next[j] = v[j]! + s;
    }
    v = next;
  }
  return v;
}

export function normClipping(xs: Vec[], w: number[] | undefined, maxNorm: number): Float32Array {
  const coef = xs.map((x, i) => {
    const nrm = norm(x);
    return (w ? w[i]! : 1) * (nrm > maxNorm ? maxNorm / nrm : 1);
  });
  const W = xs.reduce((s, _, i) => s + (w ? w[i]! : 1), 0);
  const out = new Float32Array(xs[0]!.length);
  for (let j = 0; j < out.length; j++) {
    let s = 0;
    xs.forEach((x, i) => (s += coef[i]! * x[j]!));
    out[j] = s / W;
  }
  return out;
}

/** The core's shuffle generator (splitmix32 finaliser over a Weyl sequence), in plain TS. */
export function shuffled(items: number[], seed: number): number[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
  const p = [...items];
  for (let i = p.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Bucket means (float32 rows) and weights; bucket b = shuffled positions [b·s, (b+1)·s). */
export function buckets(xs: Vec[], w: number[] | undefined, s: number, seed: number): { rows: Float32Array[]; weights: number[]; groups: number[][] } {
  const perm = shuffled(xs.map((_, i) => i), seed);
  const rows: Float32Array[] = [];
  const weights: number[] = [];
  const groups: number[][] = [];
  for (let b = 0; b * s < perm.length; b++) {
    const members = perm.slice(b * s, (b + 1) * s);
    rows.push(mean(members.map((i) => xs[i]!), w ? members.map((i) => w[i]!) : undefined));
    weights.push(members.reduce((t, i) => t + (w ? w[i]! : 1), 0));
    groups.push(members);
  }
  return { rows, weights, groups };
}

/** NNM: each vector replaced by the mean of its n − f nearest (itself included, ties by index). */
export function nnm(xs: Vec[], f: number): { rows: Float32Array[]; groups: number[][] } {
  const keep = xs.length - f;
  const groups = xs.map((x) => {
    const ds = xs.map((y, j) => ({ j, d: sqDist(x, y) }));
    ds.sort((a, b) => a.d - b.d || a.j - b.j);
    return ds.slice(0, keep).map((e) => e.j).sort((a, b) => a - b);
  });
  return { rows: groups.map((g) => mean(g.map((j) => xs[j]!))), groups };
}

export function fround(v: Vec): Float32Array {
  return Float32Array.from(v, fr);
}
