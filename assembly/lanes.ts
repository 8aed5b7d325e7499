// Vector kernels shared by every rule. Each one has a v128 body (the WASM build, compiled with
// SIMD) and a scalar body (the portable build, compiled without SIMD and translated to JS by
// wasm2js). The scalar bodies keep the lanes of the SIMD bodies — eight float32 partial sums
// reduced in the same order — so both builds return bit-identical results, not merely close ones.

// Coordinates summed in float32 lanes before the partial is folded into the float64 total:
// 256 coordinates = 32 per lane, so a float32 partial never carries more than 32 rounding steps.
export const CHUNK: i32 = 256;

// Squared Euclidean distance between two float32 vectors of length d, float32 lanes per chunk,
// float64 across chunks. A chunk whose float32 partial overflowed (any |a − b| above ~1.8e19
// squares to +Inf) is summed again in float64: otherwise every distance to one huge finite
// update is +Inf, the rules that rank by distance see ties, and the choice falls to slot order.
// The partial is a sum of squares, so it is +Inf exactly when some step overflowed; inputs
// that stay in range keep the float32 lanes and their bits.
export function sqDistance(a: usize, b: usize, d: i32): f64 {
  let total: f64 = 0;
  let j = 0;
  const d8 = d & ~7;
  while (j < d8) {
    const end = min<i32>(j + CHUNK, d8);
    const start = j;
    let p: f32;
    if (ASC_FEATURE_SIMD) {
      let acc0 = f32x4.splat(0);
      let acc1 = f32x4.splat(0);
      for (; j < end; j += 8) {
        const o = <usize>j << 2;
        const d0 = f32x4.sub(v128.load(a + o), v128.load(b + o));
        const d1 = f32x4.sub(v128.load(a + o, 16), v128.load(b + o, 16));
        acc0 = f32x4.add(acc0, f32x4.mul(d0, d0));
        acc1 = f32x4.add(acc1, f32x4.mul(d1, d1));
      }
      const s = f32x4.add(acc0, acc1);
      p = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) +
        (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    } else {
      let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
      let a4: f32 = 0, a5: f32 = 0, a6: f32 = 0, a7: f32 = 0;
      for (; j < end; j += 8) {
        const pa = a + (<usize>j << 2);
        const pb = b + (<usize>j << 2);
        const t0 = load<f32>(pa) - load<f32>(pb);
        const t1 = load<f32>(pa, 4) - load<f32>(pb, 4);
        const t2 = load<f32>(pa, 8) - load<f32>(pb, 8);
        const t3 = load<f32>(pa, 12) - load<f32>(pb, 12);
        const t4 = load<f32>(pa, 16) - load<f32>(pb, 16);
        const t5 = load<f32>(pa, 20) - load<f32>(pb, 20);
        const t6 = load<f32>(pa, 24) - load<f32>(pb, 24);
        const t7 = load<f32>(pa, 28) - load<f32>(pb, 28);
        a0 += t0 * t0; a1 += t1 * t1; a2 += t2 * t2; a3 += t3 * t3;
        a4 += t4 * t4; a5 += t5 * t5; a6 += t6 * t6; a7 += t7 * t7;
      }
      p = ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7));
    }
    const o = <usize>start << 2;
    total += p < Infinity ? <f64>p : sqDistanceWide(a + o, b + o, end - start);
  }
  for (; j < d; j++) {
    const o = <usize>j << 2;
    const t = load<f32>(a + o) - load<f32>(b + o);
    const q = t * t;
    total += q < Infinity ? <f64>q : sqDistanceWide(a + o, b + o, 1);
  }
  return total;
}

// sqDistance of len coordinates in float64 throughout: finite for every finite float32 input,
// since (2·3.4e38)² = 4.6e77 and even 2²⁸ such terms stay far below the float64 maximum 1.8e308.
function sqDistanceWide(a: usize, b: usize, len: i32): f64 {
  let total: f64 = 0;
  for (let j = 0; j < len; j++) {
    const o = <usize>j << 2;
    const t = <f64>load<f32>(a + o) - <f64>load<f32>(b + o);
    total += t * t;
  }
  return total;
}

// Squared Euclidean norm, same lane structure and same float64 fallback as sqDistance.
export function sqNorm(a: usize, d: i32): f64 {
  let total: f64 = 0;
  let j = 0;
  const d8 = d & ~7;
  while (j < d8) {
    const end = min<i32>(j + CHUNK, d8);
    const start = j;
    let p: f32;
    if (ASC_FEATURE_SIMD) {
      let acc0 = f32x4.splat(0);
      let acc1 = f32x4.splat(0);
      for (; j < end; j += 8) {
        const o = <usize>j << 2;
        const x0 = v128.load(a + o);
        const x1 = v128.load(a + o, 16);
        acc0 = f32x4.add(acc0, f32x4.mul(x0, x0));
        acc1 = f32x4.add(acc1, f32x4.mul(x1, x1));
      }
      const s = f32x4.add(acc0, acc1);
      p = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) +
        (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    } else {
      let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
      let a4: f32 = 0, a5: f32 = 0, a6: f32 = 0, a7: f32 = 0;
      for (; j < end; j += 8) {
        const p = a + (<usize>j << 2);
        const t0 = load<f32>(p), t1 = load<f32>(p, 4), t2 = load<f32>(p, 8), t3 = load<f32>(p, 12);
        const t4 = load<f32>(p, 16), t5 = load<f32>(p, 20), t6 = load<f32>(p, 24), t7 = load<f32>(p, 28);
        a0 += t0 * t0; a1 += t1 * t1; a2 += t2 * t2; a3 += t3 * t3;
        a4 += t4 * t4; a5 += t5 * t5; a6 += t6 * t6; a7 += t7 * t7;
      }
      p = ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7));
    }
    total += p < Infinity ? <f64>p : sqNormWide(a + (<usize>start << 2), end - start);
  }
  for (; j < d; j++) {
    const o = <usize>j << 2;
    const t = load<f32>(a + o);
    const q = t * t;
    total += q < Infinity ? <f64>q : sqNormWide(a + o, 1);
  }
  return total;
}

// sqNorm of len coordinates in float64 throughout (see sqDistanceWide).
function sqNormWide(a: usize, len: i32): f64 {
  let total: f64 = 0;
  for (let j = 0; j < len; j++) {
    const t = <f64>load<f32>(a + (<usize>j << 2));
    total += t * t;
  }
  return total;
}

// Index of the first NaN or ±Inf among len float32 values, or -1. x - x is 0 exactly when x is
// finite, so one subtraction per value tests both cases.
export function firstNonFinite(a: usize, len: i32): i32 {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const len4 = len & ~3;
    while (j < len4) {
      const end = min<i32>(j + CHUNK, len4);
      let acc = f32x4.splat(0);
      const start = j;
      for (; j < end; j += 4) {
        const x = v128.load(a + (<usize>j << 2));
        acc = f32x4.add(acc, f32x4.sub(x, x));
      }
      if (v128.any_true(f32x4.ne(acc, f32x4.splat(0)))) {
        for (let k = start; k < end; k++) {
          const x = load<f32>(a + (<usize>k << 2));
          if (x - x != 0) return k;
        }
      }
    }
  }
  for (; j < len; j++) {
    const x = load<f32>(a + (<usize>j << 2));
    if (x - x != 0) return j;
  }
  return -1;
}

// acc[j] += w * x[j] for j < len, in float64 (acc: f64[], x: f32[]).
export function accumulate(acc: usize, x: usize, w: f64, len: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const len4 = len & ~3;
    const ws = f64x2.splat(w);
    if (w == 1.0) {
      for (; j < len4; j += 4) {
        const v = v128.load(x + (<usize>j << 2));
        const pa = acc + (<usize>j << 3);
        v128.store(pa, f64x2.add(v128.load(pa), f64x2.promote_low_f32x4(v)));
        v128.store(pa, f64x2.add(v128.load(pa, 16), f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1))), 16);
      }
    } else {
      for (; j < len4; j += 4) {
        const v = v128.load(x + (<usize>j << 2));
        const pa = acc + (<usize>j << 3);
        v128.store(pa, f64x2.add(v128.load(pa), f64x2.mul(f64x2.promote_low_f32x4(v), ws)));
        v128.store(pa, f64x2.add(v128.load(pa, 16),
          f64x2.mul(f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1)), ws)), 16);
      }
    }
  }
  if (w == 1.0) {
    for (; j < len; j++) {
      const pa = acc + (<usize>j << 3);
      store<f64>(pa, load<f64>(pa) + <f64>load<f32>(x + (<usize>j << 2)));
    }
  } else {
    for (; j < len; j++) {
      const pa = acc + (<usize>j << 3);
      store<f64>(pa, load<f64>(pa) + <f64>load<f32>(x + (<usize>j << 2)) * w);
    }
  }
}

// acc[j] += w * (x[j] - v[j]) for j < len, in float64.
export function accumulateDifference(acc: usize, x: usize, v: usize, w: f64, len: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const len4 = len & ~3;
    const ws = f64x2.splat(w);
    for (; j < len4; j += 4) {
      const o = <usize>j << 2;
      const xv = v128.load(x + o);
      const vv = v128.load(v + o);
      const lo = f64x2.sub(f64x2.promote_low_f32x4(xv), f64x2.promote_low_f32x4(vv));
      const hi = f64x2.sub(f64x2.promote_low_f32x4(f32x4.shuffle(xv, xv, 2, 3, 0, 1)),
        f64x2.promote_low_f32x4(f32x4.shuffle(vv, vv, 2, 3, 0, 1)));
      const pa = acc + (<usize>j << 3);
      v128.store(pa, f64x2.add(v128.load(pa), f64x2.mul(lo, ws)));
      v128.store(pa, f64x2.add(v128.load(pa, 16), f64x2.mul(hi, ws)), 16);
    }
  }
  for (; j < len; j++) {
    const o = <usize>j << 2;
    const pa = acc + (<usize>j << 3);
    store<f64>(pa, load<f64>(pa) + (<f64>load<f32>(x + o) - <f64>load<f32>(v + o)) * w);
  }
}

// acc[j] = (acc[j] + w1·x1[j]) + w2·x2[j]: two rows per pass over the accumulator, which halves
// its loads and stores; the additions happen in the same order as two accumulate() calls, so
// the result is bit-identical to them (and w·x is exact for w = 1, so no special case is needed).
export function accumulate2(acc: usize, x1: usize, w1: f64, x2: usize, w2: f64, len: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const len4 = len & ~3;
    const ws1 = f64x2.splat(w1);
    const ws2 = f64x2.splat(w2);
    for (; j < len4; j += 4) {
      const o = <usize>j << 2;
      const a = v128.load(x1 + o);
      const b = v128.load(x2 + o);
      const pa = acc + (<usize>j << 3);
      let lo = f64x2.add(v128.load(pa), f64x2.mul(f64x2.promote_low_f32x4(a), ws1));
      let hi = f64x2.add(v128.load(pa, 16), f64x2.mul(f64x2.promote_low_f32x4(f32x4.shuffle(a, a, 2, 3, 0, 1)), ws1));
      lo = f64x2.add(lo, f64x2.mul(f64x2.promote_low_f32x4(b), ws2));
      hi = f64x2.add(hi, f64x2.mul(f64x2.promote_low_f32x4(f32x4.shuffle(b, b, 2, 3, 0, 1)), ws2));
      v128.store(pa, lo);
      v128.store(pa, hi, 16);
    }
  }
  for (; j < len; j++) {
    const o = <usize>j << 2;
    const pa = acc + (<usize>j << 3);
    store<f64>(pa, (load<f64>(pa) + <f64>load<f32>(x1 + o) * w1) + <f64>load<f32>(x2 + o) * w2);
  }
}

// acc[j] = (acc[j] + w1·(x1[j] − v[j])) + w2·(x2[j] − v[j]): accumulateDifference for two rows
// per pass (bit-identical to two calls), v promoted once for both.
export function accumulateDifference2(acc: usize, x1: usize, w1: f64, x2: usize, w2: f64, v: usize, len: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const len4 = len & ~3;
    const ws1 = f64x2.splat(w1);
    const ws2 = f64x2.splat(w2);
    for (; j < len4; j += 4) {
      const o = <usize>j << 2;
      const vv = v128.load(v + o);
      const vlo = f64x2.promote_low_f32x4(vv);
      const vhi = f64x2.promote_low_f32x4(f32x4.shuffle(vv, vv, 2, 3, 0, 1));
      const a = v128.load(x1 + o);
      const b = v128.load(x2 + o);
      const pa = acc + (<usize>j << 3);
      let lo = f64x2.add(v128.load(pa), f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(a), vlo), ws1));
      let hi = f64x2.add(v128.load(pa, 16),
        f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(f32x4.shuffle(a, a, 2, 3, 0, 1)), vhi), ws1));
      lo = f64x2.add(lo, f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(b), vlo), ws2));
      hi = f64x2.add(hi, f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(f32x4.shuffle(b, b, 2, 3, 0, 1)), vhi), ws2));
      v128.store(pa, lo);
      v128.store(pa, hi, 16);
    }
  }
  for (; j < len; j++) {
    const o = <usize>j << 2;
    const pa = acc + (<usize>j << 3);
    const vj = <f64>load<f32>(v + o);
    store<f64>(pa, (load<f64>(pa) + (<f64>load<f32>(x1 + o) - vj) * w1) + (<f64>load<f32>(x2 + o) - vj) * w2);
  }
}

// out[j] = f32(acc[j] / divisor).
export function storeQuotient(out: usize, acc: usize, divisor: f64, len: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const len4 = len & ~3;
    const dv = f64x2.splat(divisor);
    for (; j < len4; j += 4) {
      const pa = acc + (<usize>j << 3);
      const lo = f32x4.demote_f64x2_zero(f64x2.div(v128.load(pa), dv));
      const hi = f32x4.demote_f64x2_zero(f64x2.div(v128.load(pa, 16), dv));
      v128.store(out + (<usize>j << 2), f32x4.shuffle(lo, hi, 0, 1, 4, 5));
    }
  }
  for (; j < len; j++) {
    store<f32>(out + (<usize>j << 2), <f32>(load<f64>(acc + (<usize>j << 3)) / divisor));
  }
}

// out[j] = f32(v[j] + acc[j]).
export function storeShifted(out: usize, acc: usize, len: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const len4 = len & ~3;
    for (; j < len4; j += 4) {
      const p = out + (<usize>j << 2);
      const pa = acc + (<usize>j << 3);
      const v = v128.load(p);
      const lo = f32x4.demote_f64x2_zero(f64x2.add(f64x2.promote_low_f32x4(v), v128.load(pa)));
      const hi = f32x4.demote_f64x2_zero(f64x2.add(f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1)), v128.load(pa, 16)));
      v128.store(p, f32x4.shuffle(lo, hi, 0, 1, 4, 5));
    }
  }
  for (; j < len; j++) {
    const p = out + (<usize>j << 2);
    store<f32>(p, <f32>(<f64>load<f32>(p) + load<f64>(acc + (<usize>j << 3))));
  }
}

export function zeroF64(p: usize, len: i32): void {
  memory.fill(p, 0, <usize>len << 3);
}

export function copyF32(dst: usize, src: usize, len: i32): void {
  memory.copy(dst, src, <usize>len << 2);
}
