// Stands in for @noble/ciphers/chacha in the router bundle only (scripts/build-bundle.mjs).
// libp2p-noise's pure-JS crypto imports it, but on Node its default crypto replaces both
// ChaCha20-Poly1305 calls (node:crypto and wasm-crypto-for-noise.ts); only the pure-JS HKDF stays
// in use. The cipher cost ≈ 4 KB of the compressed ipk. A call would mean noise changed: say so.
export function chacha20poly1305(): never {
  throw new Error('bundle: libp2p-noise called the pure-JS ChaCha20-Poly1305, which the router bundle leaves out');
}
