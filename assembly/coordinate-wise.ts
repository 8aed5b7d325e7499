import { accumulate, storeQuotient, zeroF64 } from './lanes';
import { rowPtr, slotAt } from './rows';
import { LANES, buildNetwork, sortColumns } from './sort';

// Copies coordinates [c, c+len) of the listed rows into the rows of the column scratch S
// (row k = k-th listed update, LANES wide), zero-padding the unused lanes of a short last block.
export function gatherColumns(xs: usize, d: i32, idx: usize, m: i32, c: i32, len: i32, S: usize): void {
  for (let k = 0; k < m; k++) {
    const src = rowPtr(xs, d, slotAt(idx, k)) + (<usize>c << 2);
    const dst = S + (<usize>k << 6);
    if (len == LANES) {
      memory.copy(dst, src, <usize>LANES << 2);
    } else {
      memory.fill(dst, 0, <usize>LANES << 2);
      memory.copy(dst, src, <usize>len << 2);
    }
  }
}

// Coordinate-wise median (Yin et al. 2018); for even m the mean of the two middle values.
export function coordinateMedian(xs: usize, d: i32, idx: usize, m: i32, out: usize, S: usize, pairs: usize): void {
  const count = buildNetwork(m, pairs);
  const h = m >> 1;
  for (let c = 0; c < d; c += LANES) {
    const len = min<i32>(LANES, d - c);
    gatherColumns(xs, d, idx, m, c, len, S);
    sortColumns(S, pairs, count);
    const hi = S + (<usize>h << 6);
    const dst = out + (<usize>c << 2);
    if (m & 1) {
      memory.copy(dst, hi, <usize>len << 2);
    } else {
      const lo = S + (<usize>(h - 1) << 6);
      for (let l = 0; l < len; l++) {
        const o = <usize>l << 2;
        store<f32>(dst + o, <f32>((<f64>load<f32>(lo + o) + <f64>load<f32>(hi + o)) * 0.5));
      }
    }
  }
}

// Coordinate-wise trimmed mean: per coordinate drop the b smallest and b largest values and
// average the rest, summed in ascending order in float64.
export function trimmedMean(
  xs: usize, d: i32, idx: usize, m: i32, b: i32, out: usize, S: usize, pairs: usize, acc16: usize,
): void {
  const count = buildNetwork(m, pairs);
  const kept = <f64>(m - 2 * b);
  for (let c = 0; c < d; c += LANES) {
    const len = min<i32>(LANES, d - c);
    gatherColumns(xs, d, idx, m, c, len, S);
    sortColumns(S, pairs, count);
    zeroF64(acc16, LANES);
    for (let k = b; k < m - b; k++) accumulate(acc16, S + (<usize>k << 6), 1.0, LANES);
    storeQuotient(out + (<usize>c << 2), acc16, kept, len);
  }
}
