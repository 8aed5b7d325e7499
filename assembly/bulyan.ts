import { gatherColumns } from './coordinate-wise';
import { pairwiseSqDistances } from './distances';
import { f64At, i32At, setF64, setI32, slotAt } from './rows';
import { ranksBefore } from './krum';
import { LANES, buildNetwork, sortColumns, sortF64 } from './sort';

// Bulyan (El Mhamdi et al. 2018): select θ = m − 2f rows by iterated Krum, then per coordinate
// average the β = θ − 2f selected values closest to their median.
// Each Krum round scores the r remaining rows with k = min(m − f − 2, r − 1) neighbours: Krum's
// own neighbour count for the full set, capped by the rows left. Shrinking k with r instead
// (r − f − 2) would leave the last rounds (r down to 2f + 1) with 0 or 1 neighbours, where two
// colluding Byzantine rows close to each other score like an honest pair; with the fixed count
// an honest row keeps winning as long as honest rows are the majority of those left, which
// m ≥ 4f + 3 guarantees. Ties as in Krum (score, total distance, position).
// sel receives the selected slots in selection order; alive: m i32 of scratch.
export function bulyan(
  xs: usize, d: i32, idx: usize, m: i32, f: i32, D: usize, scores: usize, totals: usize, row: usize, tmp: usize,
  alive: usize, sel: usize, out: usize, S: usize, pairs: usize,
): void {
  pairwiseSqDistances(xs, d, idx, m, D);
  const theta = m - 2 * f;
  const beta = theta - 2 * f;
  for (let a = 0; a < m; a++) setI32(alive, a, a);
  let r = m;
  for (let t = 0; t < theta; t++) {
    const k = min<i32>(m - f - 2, r - 1);
    let best = 0;
    for (let ai = 0; ai < r; ai++) {
      const a = i32At(alive, ai);
      let n = 0;
      let total: f64 = 0;
      for (let bi = 0; bi < r; bi++) {
        if (bi == ai) continue;
        const v = f64At(D, a * m + i32At(alive, bi));
        setF64(row, n++, v);
        total += v;
      }
      sortF64(row, n, tmp);
      let s: f64 = 0;
      for (let q = 0; q < k; q++) s += f64At(row, q);
      setF64(scores, ai, s);
      setF64(totals, ai, total);
      if (ai > 0 && ranksBefore(a, s, total, i32At(alive, best), f64At(scores, best), f64At(totals, best))) best = ai;
    }
    setI32(sel, t, slotAt(idx, i32At(alive, best)));
    for (let ai = best; ai < r - 1; ai++) setI32(alive, ai, i32At(alive, ai + 1));
    r--;
  }

  const count = buildNetwork(theta, pairs);
  const h = theta >> 1;
  for (let c = 0; c < d; c += LANES) {
    const len = min<i32>(LANES, d - c);
    gatherColumns(xs, d, sel, theta, c, len, S);
    sortColumns(S, pairs, count);
    for (let l = 0; l < len; l++) {
      const col = S + (<usize>l << 2);
      const med: f64 = (theta & 1)
        ? <f64>load<f32>(col + (<usize>h << 6))
        : (<f64>load<f32>(col + (<usize>(h - 1) << 6)) + <f64>load<f32>(col + (<usize>h << 6))) * 0.5;
      // The β values closest to the median are a contiguous run of the sorted column: grow it
      // from the median outwards, preferring the lower value on equal distance.
      let lo = 0;
      while (lo < theta && <f64>load<f32>(col + (<usize>lo << 6)) < med) lo++;
      let hi = lo;
      while (hi - lo < beta) {
        if (lo == 0) hi++;
        else if (hi == theta) lo--;
        else if (med - <f64>load<f32>(col + (<usize>(lo - 1) << 6)) <= <f64>load<f32>(col + (<usize>hi << 6)) - med) lo--;
        else hi++;
      }
      let s: f64 = 0;
      for (let q = lo; q < hi; q++) s += <f64>load<f32>(col + (<usize>q << 6));
      store<f32>(out + (<usize>(c + l) << 2), <f32>(s / <f64>beta));
    }
  }
}
