// Seeded inputs of bench:core: n − f honest updates around a common direction and f Byzantine
// ones (sign-flipped and scaled, far from the honest cluster), so that the robust rules do the
// work they do in a poisoned round (Krum and Bulyan select, clipping clips, Weiszfeld iterates).

/** mulberry32: small, fast, the same stream on every machine. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchInput {
  n: number;
  d: number;
  f: number;
  /** n·d float32, row-major; the Byzantine updates are the last f rows. */
  xs: Float32Array;
  /** Local sample counts, 1…100. */
  weights: number[];
  /** v₀ of centered clipping: the honest direction, as the last aggregate would be. */
  center: Float32Array;
}

export function benchInput(n: number, d: number, f: number, seed: number): BenchInput {
  const next = generator(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const center = new Float32Array(d);
  for (let j = 0; j < d; j++) center[j] = 0.5 * gauss();
  const xs = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const byz = i >= n - f;
    const row = i * d;
    for (let j = 0; j < d; j++) xs[row + j] = (byz ? -3 * center[j]! : center[j]!) + gauss();
  }
  const weights = Array.from({ length: n }, () => 1 + Math.floor(next() * 100));
  return { n, d, f, xs, weights, center };
}
