// Shamir secret sharing over GF(2^8), byte by byte (the AES field, polynomial x^8+x^4+x^3+x+1):
// a secret of any length splits into n shares of the same length, any t of which rebuild it and
// any t − 1 of which say nothing about it. Share x-coordinates are 1…255.
import { randomBytes } from 'node:crypto';

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  let v = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = v;
    LOG[v] = i;
    // multiply by the generator 3: v·2 ⊕ v, reduced
    v ^= (v << 1) ^ (v & 0x80 ? 0x11b : 0);
    v &= 0xff;
  }
  for (let i = 255; i < 510; i++) EXP[i] = EXP[i - 255]!;
}

function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!;
}

function div(a: number, b: number): number {
  if (b === 0) throw new RangeError('shamir: division by zero');
  return a === 0 ? 0 : EXP[LOG[a]! + 255 - LOG[b]!]!;
}

export interface Share {
  x: number;
  y: Uint8Array;
}

/** Splits secret into n shares at x = 1…n, any t of which rebuild it. */
export function split(secret: Uint8Array, n: number, t: number, random: (k: number) => Uint8Array = randomBytes): Share[] {
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new RangeError(`shamir: n must be in [1, 255], got ${n}`);
  if (!Number.isInteger(t) || t < 1 || t > n) throw new RangeError(`shamir: t must be in [1, n], got ${t}`);
  const shares = Array.from({ length: n }, (_, i) => ({ x: i + 1, y: new Uint8Array(secret.length) }));
  for (let k = 0; k < secret.length; k++) {
    const coeffs = random(t - 1); // a_1 … a_{t−1}; a_0 = the secret byte
    for (const s of shares) {
      // Horner from the highest coefficient
      let acc = 0;
      for (let c = t - 2; c >= 0; c--) acc = mul(acc, s.x) ^ coeffs[c]!;
      s.y[k] = mul(acc, s.x) ^ secret[k]!;
    }
  }
  return shares;
}

/** Rebuilds the secret from t or more shares with distinct x (Lagrange interpolation at 0). */
export function combine(shares: readonly Share[]): Uint8Array {
  if (shares.length === 0) throw new RangeError('shamir: no shares');
  const len = shares[0]!.y.length;
  const xs = shares.map((s) => s.x);
  if (new Set(xs).size !== xs.length) throw new RangeError('shamir: duplicate share x');
  for (const s of shares) {
    if (!Number.isInteger(s.x) || s.x < 1 || s.x > 255) throw new RangeError(`shamir: share x ${s.x} outside 1…255`);
    if (s.y.length !== len) throw new RangeError('shamir: shares of different lengths');
  }
  // Lagrange basis at 0: l_i = Π_{j≠i} x_j / (x_j ⊕ x_i)
  const basis = xs.map((xi, i) => {
    let num = 1;
    let den = 1;
    xs.forEach((xj, j) => {
      if (j === i) return;
      num = mul(num, xj);
      den = mul(den, xj ^ xi);
    });
    return div(num, den);
  });
  const out = new Uint8Array(len);
  for (let k = 0; k < len; k++) {
    let acc = 0;
    for (let i = 0; i < shares.length; i++) acc ^= mul(shares[i]!.y[k]!, basis[i]!);
    out[k] = acc;
  }
  return out;
}
