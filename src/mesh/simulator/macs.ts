// Stable, readable, locally administered MACs: 02:SS:SS:NN:NN:II, where SS:SS comes from the
// seed, NN:NN is the node index and II the interface slot (ff for the bat0 mesh interface).
// Unique for up to 65536 nodes, identical across runs with the same seed.

export const MESH_SLOT = 0xff;

export function simMac(seedWord: number, node: number, slot: number): string {
  const bytes = [0x02, (seedWord >>> 8) & 0xff, seedWord & 0xff, (node >>> 8) & 0xff, node & 0xff, slot & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lower-cases and checks a MAC given by a caller; null when it is not one. */
export function normaliseMac(mac: unknown): string | null {
  if (typeof mac !== 'string') return null;
  const m = mac.trim().toLowerCase();
  return MAC_RE.test(m) ? m : null;
}
