// An independent statement of batman-adv's BATMAN_IV arithmetic (net/batman-adv/bat_iv_ogm.c),
// written from the kernel's rules, not from the simulator, so the tests can compare the two.
// Integer arithmetic throughout, as in C.

export const TQ_MAX_VALUE = 255;
export const TQ_LOCAL_WINDOW_SIZE = 64;
export const TQ_GLOBAL_WINDOW_SIZE = 5;

/** batadv_hop_penalty: tq * (255 - hop_penalty) / 255. */
export function hopPenalty(tq: number, penalty: number): number {
  return Math.floor((tq * (TQ_MAX_VALUE - penalty)) / TQ_MAX_VALUE);
}

/**
 * batadv_iv_ogm_calc_tq for a received OGM carrying `ogmTq`, over a link whose neighbour's own
 * OGMs arrived `rq` times and whose echoes of ours arrived `eq` times in the last 64.
 * `ifPenalty` is the receiving hard interface's hop_penalty; `sameIfMeshPenalty` is the mesh
 * hop_penalty when the copy is computed for forwarding out of the receiving (wifi) interface.
 */
export function calcTq(ogmTq: number, rq: number, eq: number, ifPenalty = 0, sameIfMeshPenalty?: number): number {
  const total = Math.min(eq, rq);
  const tqOwn = total < 1 || rq < 1 ? 0 : Math.floor((TQ_MAX_VALUE * total) / rq);
  const inv = TQ_LOCAL_WINDOW_SIZE - rq;
  const asym = TQ_MAX_VALUE - Math.floor((TQ_MAX_VALUE * inv * inv * inv) / TQ_LOCAL_WINDOW_SIZE ** 3);
  let iface = TQ_MAX_VALUE - ifPenalty;
  if (sameIfMeshPenalty !== undefined) iface = hopPenalty(iface, sameIfMeshPenalty);
  return Math.floor((ogmTq * tqOwn * asym * iface) / TQ_MAX_VALUE ** 3);
}

/** batadv_ring_buffer_set + batadv_ring_buffer_avg: the last 5 values, zeros not counted. */
export class TqRing {
  private readonly values = new Array<number>(TQ_GLOBAL_WINDOW_SIZE).fill(0);
  private index = 0;

  push(v: number): void {
    this.values[this.index] = v;
    this.index = (this.index + 1) % TQ_GLOBAL_WINDOW_SIZE;
  }

  clone(): TqRing {
    const c = new TqRing();
    c.values.splice(0, TQ_GLOBAL_WINDOW_SIZE, ...this.values);
    c.index = this.index;
    return c;
  }

  average(): number {
    const nz = this.values.filter((v) => v !== 0);
    return nz.length === 0 ? 0 : Math.floor(nz.reduce((a, b) => a + b, 0) / nz.length);
  }
}

/**
 * Converged TQ towards an originator k hops away on a chain of perfect links.
 * One wifi interface per node: every relay forwards out of the interface it heard the OGM on,
 * so it pays the half-duplex penalty in calc_tq and then the forwarding hop penalty.
 * Two bands per node: the best copy arrives on the other band, so one penalty per relay.
 */
export function idealChainTq(hops: number, penalty: number, bands: 1 | 2): number {
  let tq = TQ_MAX_VALUE; // the direct neighbour: 255 * 255 * 255 * 255 / 255^3
  for (let relay = 1; relay < hops; relay++) {
    if (bands === 1) tq = calcTq(tq, TQ_LOCAL_WINDOW_SIZE, TQ_LOCAL_WINDOW_SIZE, 0, penalty);
    tq = hopPenalty(tq, penalty);
  }
  return tq;
}
