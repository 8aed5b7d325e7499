import { f64At, i32At, setI32 } from './rows';

// Coordinates sorted side by side: one row of the column scratch holds LANES float32 values
// (64 bytes = four v128), one per coordinate of the current block.
export const LANES: i32 = 16;

// Upper bound on the comparator count of buildNetwork(m): m per pass, t(t+1)/2 passes.
export function networkCapacity(m: i32): i32 {
  if (m < 2) return 1;
  const t = 32 - clz<i32>(m - 1);
  return m * ((t * (t + 1)) >> 1);
}

// Comparators of Batcher's merge-exchange network for m keys (Knuth, TAOCP 5.2.2, Algorithm M),
// stored as (i, j) pairs with i < j; returns how many. The shape depends only on m, so one list
// sorts every coordinate block, and each comparator becomes a branch-free lane-wise min/max —
// no data-dependent branches, which is what makes per-coordinate sorting vectorise.
export function buildNetwork(m: i32, pairs: usize): i32 {
  if (m < 2) return 0;
  const t = 32 - clz<i32>(m - 1);
  let count = 0;
  let p = 1 << (t - 1);
  while (p > 0) {
    let q = 1 << (t - 1);
    let r = 0;
    let dd = p;
    while (true) {
      for (let i = 0; i < m - dd; i++) {
        if ((i & p) == r) {
          setI32(pairs, count << 1, i);
          setI32(pairs, (count << 1) + 1, i + dd);
          count++;
        }
      }
      if (q == p) break;
      dd = q - p;
      q >>= 1;
      r = p;
    }
    p >>= 1;
  }
  return count;
}

// Sorts every column of the rows×LANES float32 scratch S ascending with the network.
// Compare-exchange uses the pseudo-min/max (b < a ? b : a, a < b ? b : a): one x86 minps/maxps
// or ARM fmin/fmax each, where the IEEE f32x4.min/max need a NaN and ±0 fix-up sequence. The
// values are NaN-free (rejected before any rule runs), so only the sign of equal zeros can differ.
export function sortColumns(S: usize, pairs: usize, count: i32): void {
  for (let c = 0; c < count; c++) {
    const pa = S + (<usize>i32At(pairs, c << 1) << 6);
    const pb = S + (<usize>i32At(pairs, (c << 1) + 1) << 6);
    if (ASC_FEATURE_SIMD) {
      let a = v128.load(pa), b = v128.load(pb);
      v128.store(pa, f32x4.pmin(a, b)); v128.store(pb, f32x4.pmax(a, b));
      a = v128.load(pa, 16); b = v128.load(pb, 16);
      v128.store(pa, f32x4.pmin(a, b), 16); v128.store(pb, f32x4.pmax(a, b), 16);
      a = v128.load(pa, 32); b = v128.load(pb, 32);
      v128.store(pa, f32x4.pmin(a, b), 32); v128.store(pb, f32x4.pmax(a, b), 32);
      a = v128.load(pa, 48); b = v128.load(pb, 48);
      v128.store(pa, f32x4.pmin(a, b), 48); v128.store(pb, f32x4.pmax(a, b), 48);
    } else {
      for (let l: usize = 0; l < <usize>(LANES << 2); l += 4) {
        const a = load<f32>(pa + l);
        const b = load<f32>(pb + l);
        store<f32>(pa + l, select<f32>(b, a, b < a));
        store<f32>(pb + l, select<f32>(b, a, a < b));
      }
    }
  }
}

// Stable ascending merge sort of n float64 values at p (tmp: n float64 of scratch).
export function sortF64(p: usize, n: i32, tmp: usize): void {
  let src = p;
  let dst = tmp;
  for (let width = 1; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = min<i32>(lo + width, n);
      const hi = min<i32>(lo + (width << 1), n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        const a = f64At(src, i), b = f64At(src, j);
        if (a <= b) { store<f64>(dst + (<usize>k << 3), a); i++; } else { store<f64>(dst + (<usize>k << 3), b); j++; }
        k++;
      }
      while (i < mid) { store<f64>(dst + (<usize>k << 3), f64At(src, i)); i++; k++; }
      while (j < hi) { store<f64>(dst + (<usize>k << 3), f64At(src, j)); j++; k++; }
    }
    const t = src; src = dst; dst = t;
  }
  if (src != p) memory.copy(p, src, <usize>n << 3);
}

// Stable ascending merge sort of n i32 ids by key[id] (float64): equal keys keep their input
// order, which is how every rule breaks ties (lowest position first). tmp: n i32 of scratch.
export function sortByKey(ids: usize, n: i32, key: usize, tmp: usize): void {
  let src = ids;
  let dst = tmp;
  for (let width = 1; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = min<i32>(lo + width, n);
      const hi = min<i32>(lo + (width << 1), n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        const a = i32At(src, i), b = i32At(src, j);
        if (f64At(key, a) <= f64At(key, b)) { setI32(dst, k, a); i++; } else { setI32(dst, k, b); j++; }
        k++;
      }
      while (i < mid) { setI32(dst, k, i32At(src, i)); i++; k++; }
      while (j < hi) { setI32(dst, k, i32At(src, j)); j++; k++; }
    }
    const t = src; src = dst; dst = t;
  }
  if (src != ids) memory.copy(ids, src, <usize>n << 2);
}

// Ascending insertion sort of n i32 values (short lists: slot numbers of a selection).
export function sortI32(p: usize, n: i32): void {
  for (let i = 1; i < n; i++) {
    const v = i32At(p, i);
    let j = i - 1;
    while (j >= 0 && i32At(p, j) > v) { setI32(p, j + 1, i32At(p, j)); j--; }
    setI32(p, j + 1, v);
  }
}
