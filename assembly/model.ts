import { nextUnit, seedRandom } from './prng';
import { f64At, setF64 } from './rows';

// The link-failure model: logistic regression (kind 0) or a one-hidden-layer MLP with tanh
// units (kind 1), sigmoid output, binary cross-entropy. Parameters are one flat float32 vector
// (what the federation exchanges and the aggregators combine); arithmetic is float64.
//   logistic(k): [w (k), b]                                        size k + 1
//   mlp(k, h):   [W1 (h×k, row u = hidden unit u), b1 (h), w2 (h), b2]   size h·k + 2h + 1
export const LOGISTIC: i32 = 0;
export const MLP: i32 = 1;

export function parameterCount(kind: i32, k: i32, h: i32): i32 {
  return kind == LOGISTIC ? k + 1 : h * k + 2 * h + 1;
}

// @ts-ignore: decorator
@inline function param(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}

// Logistic: zeros. MLP: Glorot-uniform weights from the seeded generator, zero biases.
export function initParameters(kind: i32, k: i32, h: i32, params: usize, seed: u32): void {
  const size = parameterCount(kind, k, h);
  memory.fill(params, 0, <usize>size << 2);
  if (kind == LOGISTIC) return;
  seedRandom(seed);
  const a1 = Math.sqrt(6.0 / <f64>(k + h));
  for (let i = 0; i < h * k; i++) store<f32>(params + (<usize>i << 2), <f32>((nextUnit() * 2.0 - 1.0) * a1));
  const a2 = Math.sqrt(6.0 / <f64>(h + 1));
  const w2 = h * k + h;
  for (let u = 0; u < h; u++) store<f32>(params + (<usize>(w2 + u) << 2), <f32>((nextUnit() * 2.0 - 1.0) * a2));
}

// Logit of one row x (k float32); for the MLP, hid receives the h tanh activations.
function logit(kind: i32, k: i32, h: i32, params: usize, x: usize, hid: usize): f64 {
  if (kind == LOGISTIC) {
    let z = param(params, k);
    for (let i = 0; i < k; i++) z += param(params, i) * <f64>load<f32>(x + (<usize>i << 2));
    return z;
  }
  const b1 = h * k;
  const w2 = b1 + h;
  let z = param(params, w2 + h);
  for (let u = 0; u < h; u++) {
    let a = param(params, b1 + u);
    const row = u * k;
    for (let i = 0; i < k; i++) a += param(params, row + i) * <f64>load<f32>(x + (<usize>i << 2));
    const t = Math.tanh(a);
    setF64(hid, u, t);
    z += param(params, w2 + u) * t;
  }
  return z;
}

function sigmoid(z: f64): f64 {
  if (z >= 0) return 1.0 / (1.0 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1.0 + e);
}

// Mean binary cross-entropy of rows (x: rows×k float32, y: rows float32 in [0, 1]); when
// grad ≠ 0 also writes its gradient (float32, accumulated in float64 in gacc).
export function lossAndGradient(
  kind: i32, k: i32, h: i32, params: usize, x: usize, y: usize, rows: i32,
  grad: usize, gacc: usize, hid: usize,
): f64 {
  const size = parameterCount(kind, k, h);
  if (grad) memory.fill(gacc, 0, <usize>size << 3);
  let loss: f64 = 0;
  const inv = 1.0 / <f64>rows;
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * k) << 2);
    const yr = <f64>load<f32>(y + (<usize>r << 2));
    const z = logit(kind, k, h, params, xr, hid);
    // log(1 + e^z) − y·z without overflow for large |z|
    loss += max<f64>(z, 0) - yr * z + Math.log1p(Math.exp(-Math.abs(z)));
    if (!grad) continue;
    const dz = (sigmoid(z) - yr) * inv;
    if (kind == LOGISTIC) {
      for (let i = 0; i < k; i++) setF64(gacc, i, f64At(gacc, i) + dz * <f64>load<f32>(xr + (<usize>i << 2)));
      setF64(gacc, k, f64At(gacc, k) + dz);
    } else {
      const b1 = h * k;
      const w2 = b1 + h;
      for (let u = 0; u < h; u++) {
        const t = f64At(hid, u);
        setF64(gacc, w2 + u, f64At(gacc, w2 + u) + dz * t);
        const dh = dz * param(params, w2 + u) * (1.0 - t * t);
        setF64(gacc, b1 + u, f64At(gacc, b1 + u) + dh);
        const row = u * k;
        for (let i = 0; i < k; i++) {
          setF64(gacc, row + i, f64At(gacc, row + i) + dh * <f64>load<f32>(xr + (<usize>i << 2)));
        }
      }
      setF64(gacc, w2 + h, f64At(gacc, w2 + h) + dz);
    }
  }
  if (grad) {
    for (let j = 0; j < size; j++) store<f32>(grad + (<usize>j << 2), <f32>f64At(gacc, j));
  }
  return loss * inv;
}

// Probability of the positive class (link failure) for each row.
export function predict(kind: i32, k: i32, h: i32, params: usize, x: usize, rows: i32, out: usize, hid: usize): void {
  for (let r = 0; r < rows; r++) {
    const z = logit(kind, k, h, params, x + (<usize>(r * k) << 2), hid);
    store<f32>(out + (<usize>r << 2), <f32>sigmoid(z));
  }
}

// SGD with momentum and weight decay, PyTorch semantics: g ← ∇ + λθ; v ← μv + g; θ ← θ − ηv.
export function sgdStep(
  params: usize, grad: usize, velocity: usize, size: i32, lr: f64, momentum: f64, weightDecay: f64,
): void {
  for (let j = 0; j < size; j++) {
    const o = <usize>j << 2;
    const theta = <f64>load<f32>(params + o);
    const g = <f64>load<f32>(grad + o) + weightDecay * theta;
    const v = <f32>(momentum * <f64>load<f32>(velocity + o) + g);
    store<f32>(velocity + o, v);
    store<f32>(params + o, <f32>(theta - lr * <f64>v));
  }
}
