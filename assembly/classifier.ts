import { nextUnit, seedRandom } from './prng';
import { f64At, i32At, setF64, setI32 } from './rows';

// The c-class model: multinomial logistic regression (h = 0) or a one-hidden-layer MLP (h > 0)
// with tanh (act 0) or ReLU (act 1) units, softmax output, mean cross-entropy. Used for the MNIST reproduction of the
// Byzantine-robust learning anchor (10 digits); the link-failure model stays in model.ts.
// Parameters are ONE flat float32 vector (what the aggregators combine), arithmetic is float64.
// Weight matrices are stored feature-major (row i = input i, its c or h outputs contiguous) so
// that a zero input — most MNIST pixels — is skipped with one test and every inner loop is
// contiguous.
//   h = 0: [W (k×c), b (c)]                          size k·c + c
//   h > 0: [W1 (k×h), b1 (h), W2 (h×c), b2 (c)]      size k·h + h + h·c + c
export function softmaxParameterCount(k: i32, h: i32, c: i32): i32 {
  return h == 0 ? k * c + c : k * h + h + h * c + c;
}

// @ts-ignore: decorator
@inline function p32(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}

// h = 0: zeros. h > 0: Glorot-uniform weights from the seeded generator, zero biases.
export function softmaxInit(k: i32, h: i32, c: i32, params: usize, seed: u32): void {
  const size = softmaxParameterCount(k, h, c);
  memory.fill(params, 0, <usize>size << 2);
  if (h == 0) return;
  seedRandom(seed);
  const a1 = Math.sqrt(6.0 / <f64>(k + h));
  for (let i = 0; i < k * h; i++) store<f32>(params + (<usize>i << 2), <f32>((nextUnit() * 2.0 - 1.0) * a1));
  const a2 = Math.sqrt(6.0 / <f64>(h + c));
  const w2 = k * h + h;
  for (let i = 0; i < h * c; i++) store<f32>(params + (<usize>(w2 + i) << 2), <f32>((nextUnit() * 2.0 - 1.0) * a2));
}

export const TANH: i32 = 0;
export const RELU: i32 = 1;

// Logits of one row x (k float32) into z (c float64); for h > 0, hid receives the hidden units.
function logits(k: i32, h: i32, c: i32, act: i32, params: usize, x: usize, hid: usize, z: usize): void {
  if (h == 0) {
    const b = k * c;
    for (let j = 0; j < c; j++) setF64(z, j, p32(params, b + j));
    for (let i = 0; i < k; i++) {
      const xi = <f64>load<f32>(x + (<usize>i << 2));
      if (xi == 0) continue;
      const row = i * c;
      for (let j = 0; j < c; j++) setF64(z, j, f64At(z, j) + p32(params, row + j) * xi);
    }
    return;
  }
  const b1 = k * h;
  for (let u = 0; u < h; u++) setF64(hid, u, p32(params, b1 + u));
  for (let i = 0; i < k; i++) {
    const xi = <f64>load<f32>(x + (<usize>i << 2));
    if (xi == 0) continue;
    const row = i * h;
    for (let u = 0; u < h; u++) setF64(hid, u, f64At(hid, u) + p32(params, row + u) * xi);
  }
  if (act == RELU) for (let u = 0; u < h; u++) setF64(hid, u, max<f64>(f64At(hid, u), 0));
  else for (let u = 0; u < h; u++) setF64(hid, u, Math.tanh(f64At(hid, u)));
  const w2 = b1 + h;
  const b2 = w2 + h * c;
  for (let j = 0; j < c; j++) setF64(z, j, p32(params, b2 + j));
  for (let u = 0; u < h; u++) {
    const t = f64At(hid, u);
    const row = w2 + u * c;
    for (let j = 0; j < c; j++) setF64(z, j, f64At(z, j) + p32(params, row + j) * t);
  }
}

// Turns z into softmax probabilities in place; returns log Σ exp(z) (for the loss).
function softmaxInPlace(z: usize, c: i32): f64 {
  let m = f64At(z, 0);
  for (let j = 1; j < c; j++) m = max<f64>(m, f64At(z, j));
  let s: f64 = 0;
  for (let j = 0; j < c; j++) {
    const e = Math.exp(f64At(z, j) - m);
    setF64(z, j, e);
    s += e;
  }
  const inv = 1.0 / s;
  for (let j = 0; j < c; j++) setF64(z, j, f64At(z, j) * inv);
  return m + Math.log(s);
}

// Mean cross-entropy of rows (x: rows×k float32, labels: rows i32 in [0, c)); when grad ≠ 0 also
// writes its gradient (float32, accumulated in float64 in gacc). Scratch: hid 2h float64, z c float64.
export function softmaxLossAndGradient(
  k: i32, h: i32, c: i32, act: i32, params: usize, x: usize, labels: usize, rows: i32,
  grad: usize, gacc: usize, hid: usize, z: usize,
): f64 {
  const size = softmaxParameterCount(k, h, c);
  if (grad) memory.fill(gacc, 0, <usize>size << 3);
  let loss: f64 = 0;
  const inv = 1.0 / <f64>rows;
  const dh = hid + (<usize>h << 3);
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * k) << 2);
    const y = i32At(labels, r);
    logits(k, h, c, act, params, xr, hid, z);
    const zy = f64At(z, y);
    loss += softmaxInPlace(z, c) - zy;
    if (!grad) continue;
    // dL/dz_j = (p_j − [j = y]) / rows, kept in z
    for (let j = 0; j < c; j++) setF64(z, j, (f64At(z, j) - (j == y ? 1.0 : 0.0)) * inv);
    if (h == 0) {
      const b = k * c;
      for (let j = 0; j < c; j++) setF64(gacc, b + j, f64At(gacc, b + j) + f64At(z, j));
      for (let i = 0; i < k; i++) {
        const xi = <f64>load<f32>(xr + (<usize>i << 2));
        if (xi == 0) continue;
        const row = i * c;
        for (let j = 0; j < c; j++) setF64(gacc, row + j, f64At(gacc, row + j) + f64At(z, j) * xi);
      }
      continue;
    }
    const b1 = k * h;
    const w2 = b1 + h;
    const b2 = w2 + h * c;
    for (let j = 0; j < c; j++) setF64(gacc, b2 + j, f64At(gacc, b2 + j) + f64At(z, j));
    for (let u = 0; u < h; u++) {
      const t = f64At(hid, u);
      const row = w2 + u * c;
      let back: f64 = 0;
      for (let j = 0; j < c; j++) {
        const dz = f64At(z, j);
        setF64(gacc, row + j, f64At(gacc, row + j) + dz * t);
        back += dz * p32(params, row + j);
      }
      // tanh' = 1 − t²; ReLU' = [t > 0] (t is the unit's output)
      const d = act == RELU ? (t > 0 ? back : 0.0) : back * (1.0 - t * t);
      setF64(dh, u, d);
      setF64(gacc, b1 + u, f64At(gacc, b1 + u) + d);
    }
    for (let i = 0; i < k; i++) {
      const xi = <f64>load<f32>(xr + (<usize>i << 2));
      if (xi == 0) continue;
      const row = i * h;
      for (let u = 0; u < h; u++) setF64(gacc, row + u, f64At(gacc, row + u) + f64At(dh, u) * xi);
    }
  }
  if (grad) {
    for (let j = 0; j < size; j++) store<f32>(grad + (<usize>j << 2), <f32>f64At(gacc, j));
  }
  return loss * inv;
}

// The most probable class of each row (ties: the lowest class) into out (rows i32).
export function softmaxPredict(
  k: i32, h: i32, c: i32, act: i32, params: usize, x: usize, rows: i32, out: usize, hid: usize, z: usize,
): void {
  for (let r = 0; r < rows; r++) {
    logits(k, h, c, act, params, x + (<usize>(r * k) << 2), hid, z);
    let best = 0;
    let bv = f64At(z, 0);
    for (let j = 1; j < c; j++) {
      const v = f64At(z, j);
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    setI32(out, r, best);
  }
}
