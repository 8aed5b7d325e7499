// Seeded 32-bit generator (a splitmix32-style finaliser over a Weyl sequence): the same seed
// gives the same shuffle in both builds and on every router, which makes bucketing replayable.
let state: u32 = 0;

export function seedRandom(seed: u32): void {
  state = seed;
}

export function nextU32(): u32 {
  state += 0x9E3779B9;
  let z = state;
  z = (z ^ (z >>> 16)) * 0x85EBCA6B;
  z = (z ^ (z >>> 13)) * 0xC2B2AE35;
  return z ^ (z >>> 16);
}

// Uniform in [0, 1).
export function nextUnit(): f64 {
  return <f64>nextU32() / 4294967296.0;
}
