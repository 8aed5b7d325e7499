// Updates live in one n×d float32 block; a rule sees the accepted ones through a list of slot
// numbers (i32), so rejected updates are skipped without moving any data.

// @ts-ignore: decorator
@inline export function rowPtr(xs: usize, d: i32, slot: i32): usize {
  return xs + ((<usize>slot * <usize>d) << 2);
}

// @ts-ignore: decorator
@inline export function slotAt(idx: usize, k: i32): i32 {
  return load<i32>(idx + (<usize>k << 2));
}

// @ts-ignore: decorator
@inline export function f64At(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline export function setF64(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

// @ts-ignore: decorator
@inline export function i32At(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline export function setI32(p: usize, i: i32, v: i32): void {
  store<i32>(p + (<usize>i << 2), v);
}
