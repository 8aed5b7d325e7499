import { f64At, i32At, setF64, setI32 } from './rows';

// Route scoring for all originators at once. Per candidate (originator, next hop, interface):
//   quality    q = tq/255 (BATMAN IV)  or  thr/(thr + refThroughput) (BATMAN V, Mbit/s)
//   freshness  φ = 2^(−lastSeenMs/halfLifeMs)
//   stability  σ ∈ [0, 1], weighted: 1 − wσ·(1 − σ)
//   score      = q · φ · (1 − wσ(1 − σ)) · (1 − hopPenalty) · (1 − failureProb)   ∈ [0, 1]
// Each factor is a probability-like discount, so one bad factor (a stale or failing link) sinks
// the candidate whatever the others say.
// Inputs: ids = count×3 i32 (originator, nextHop, ifIndex); feat = count×6 f64 (tq or −1,
// throughput or −1, lastSeenMs, stability, hopPenalty, failureProb).
// Outputs: score (count f64, input order); order (count i32): candidates sorted by originator
// ascending, score descending, next hop ascending, candidate index ascending; pick (count i32,
// per sorted position): 1 for up to three best candidates per originator with score > 0 on
// pairwise different interfaces. tmp: count i32 of scratch.
export function scoreRoutes(
  count: i32, ids: usize, feat: usize, halfLifeMs: f64, refThroughput: f64, stabilityWeight: f64,
  score: usize, order: usize, tmp: usize, pick: usize,
): void {
  for (let c = 0; c < count; c++) {
    const f = c * 6;
    const tq = f64At(feat, f);
    const thr = f64At(feat, f + 1);
    const q = tq >= 0 ? tq / 255.0 : thr / (thr + refThroughput);
    const fresh = Math.pow(2.0, -f64At(feat, f + 2) / halfLifeMs);
    const stab = 1.0 - stabilityWeight * (1.0 - f64At(feat, f + 3));
    setF64(score, c, q * fresh * stab * (1.0 - f64At(feat, f + 4)) * (1.0 - f64At(feat, f + 5)));
    setI32(order, c, c);
  }
  sortCandidates(order, count, ids, score, tmp);

  let c = 0;
  while (c < count) {
    const orig = i32At(ids, i32At(order, c) * 3);
    let picked = 0;
    let if0 = 0, if1 = 0;
    while (c < count && i32At(ids, i32At(order, c) * 3) == orig) {
      const cand = i32At(order, c);
      const ifx = i32At(ids, cand * 3 + 2);
      let take = picked < 3 && f64At(score, cand) > 0;
      if (take && picked > 0 && ifx == if0) take = false;
      if (take && picked > 1 && ifx == if1) take = false;
      if (take) {
        if (picked == 0) if0 = ifx; else if (picked == 1) if1 = ifx;
        picked++;
      }
      setI32(pick, c, take ? 1 : 0);
      c++;
    }
  }
}

// true when candidate a goes before candidate b
function before(a: i32, b: i32, ids: usize, score: usize): bool {
  const oa = i32At(ids, a * 3), ob = i32At(ids, b * 3);
  if (oa != ob) return oa < ob;
  const sa = f64At(score, a), sb = f64At(score, b);
  if (sa != sb) return sa > sb;
  const na = i32At(ids, a * 3 + 1), nb = i32At(ids, b * 3 + 1);
  if (na != nb) return na < nb;
  return a < b;
}

function sortCandidates(order: usize, n: i32, ids: usize, score: usize, tmp: usize): void {
  let src = order;
  let dst = tmp;
  for (let width = 1; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = min<i32>(lo + width, n);
      const hi = min<i32>(lo + (width << 1), n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        const a = i32At(src, i), b = i32At(src, j);
        if (before(b, a, ids, score)) { setI32(dst, k, b); j++; } else { setI32(dst, k, a); i++; }
        k++;
      }
      while (i < mid) { setI32(dst, k, i32At(src, i)); i++; k++; }
      while (j < hi) { setI32(dst, k, i32At(src, j)); j++; k++; }
    }
    const t = src; src = dst; dst = t;
  }
  if (src != order) memory.copy(order, src, <usize>n << 2);
}
