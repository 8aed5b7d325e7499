// Stands in for @noble/curves/secp256k1 in the router bundle only (scripts/build-bundle.mjs).
// @libp2p/crypto imports it for secp256k1 peer keys; x0tta6bl4 peers are admitted by an Ed25519
// fleet certificate, so such a key is refused anyway, and the short-Weierstrass curve code cost
// ≈ 6 KB of the compressed ipk. Any use throws one clear error (libp2p turns it into a refused key).
const refuse = (): never => {
  throw new Error('secp256k1 keys are not supported: x0tta6bl4 peers use Ed25519 keys');
};

export const secp256k1 = {
  sign: refuse,
  verify: refuse,
  getPublicKey: refuse,
  ProjectivePoint: { fromHex: refuse },
  utils: { randomPrivateKey: refuse },
};
