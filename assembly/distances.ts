import { CHUNK, sqDistance, zeroF64 } from './lanes';
import { f64At, rowPtr, setF64, slotAt } from './rows';

// Coordinates per distance block: one block of all m rows (m·block·4 bytes) fits in 256 KiB of
// cache while all pairs are visited, instead of streaming every row pair from memory. A multiple
// of CHUNK so that blocks cut the float32 lanes of sqDistance at the same places.
export function distanceBlock(m: i32): i32 {
  const b = (65536 / max<i32>(m, 1)) & ~(CHUNK - 1);
  return max<i32>(CHUNK, min<i32>(b, 16384));
}

// D[a·m + b] = squared distance between listed rows a and b (float64, m×m, zero diagonal).
export function pairwiseSqDistances(xs: usize, d: i32, idx: usize, m: i32, D: usize): void {
  zeroF64(D, m * m);
  const block = distanceBlock(m);
  for (let c = 0; c < d; c += block) {
    const len = min<i32>(block, d - c);
    const off = <usize>c << 2;
    for (let a = 0; a < m; a++) {
      const pa = rowPtr(xs, d, slotAt(idx, a)) + off;
      for (let b = a + 1; b < m; b++) {
        const pb = rowPtr(xs, d, slotAt(idx, b)) + off;
        const i = a * m + b;
        setF64(D, i, f64At(D, i) + sqDistance(pa, pb, len));
      }
    }
  }
  for (let a = 0; a < m; a++) {
    for (let b = a + 1; b < m; b++) setF64(D, b * m + a, f64At(D, a * m + b));
  }
}
