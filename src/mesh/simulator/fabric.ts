// The radio fabric: hard interfaces, the directed links between them, and the per-interface
// state a real router would have (admin up/down, a hung radio, nftables drops, counters).
// Flat typed arrays indexed by number, because the protocol engine walks them for every frame.
//
// Interface h = node * K + slot (K interfaces per node, same names on every node). A link joins
// the same slot (band) on two nodes; undirected link l has directed links 2l (a->b), 2l+1 (b->a).
import type { Prng } from './prng.ts';
import type { LinkModelParams } from './link-model.ts';
import type { ExplicitLink, Topology } from './topology.ts';
import { MESH_SLOT, simMac } from './macs.ts';
import { SimulatorError } from './errors.ts';

export interface InterfaceSpec {
  ifname: string;
  /** Free text shown to people ("5GHz"); links exist only between equal slots. */
  band: string;
  /** Multiplies the drawn base PDR of links on this band (e.g. 2.4 GHz is more crowded). */
  pdrScale?: number;
}

export const DEFAULT_INTERFACES: readonly InterfaceSpec[] = Object.freeze([
  { ifname: 'mesh0', band: '5GHz' },
  { ifname: 'mesh1', band: '2.4GHz' },
]);

/** ifindex layout inside every simulated node: lo 1, eth0 2, hard interfaces 3.., bat0 last. */
export const FIRST_HARD_IFINDEX = 3;

export const COUNTER_NAMES = [
  'rxPackets',
  'txPackets',
  'rxBytes',
  'txBytes',
  'rxErrors',
  'txErrors',
  'rxDropped',
  'txDropped',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type InterfaceCounters = Record<CounterName, number>;

export class Fabric {
  readonly N: number;
  readonly K: number;
  readonly H: number;
  readonly D: number;
  readonly L: number;
  readonly ifnames: string[];
  readonly bands: string[];
  readonly macs: string[];
  readonly meshMacs: string[];
  readonly macToIface = new Map<string, number>();
  readonly dSend: Int32Array;
  readonly dRecv: Int32Array;
  readonly outStart: Int32Array;
  readonly outList: Int32Array;
  readonly inStart: Int32Array;
  readonly inList: Int32Array;
  readonly nodeInStart: Int32Array;
  readonly nodeInList: Int32Array;
  readonly basePdr: Float64Array;
  /** Undirected links between two nodes, key "a-b" with a < b. */
  readonly pairLinks = new Map<string, number[]>();
  readonly adminUp: Uint8Array;
  readonly stuck: Uint8Array;
  readonly ifHopPenalty: Uint8Array;
  readonly ifElpIntervalMs: Uint32Array;
  /** BATMAN_V throughput override in batman-adv's 100 kbit/s units (0 = automatic). */
  readonly ifThroughputOverride: Uint32Array;
  /** Percent of directed link d's OGMs dropped at its receiver: 100 an nftables quarantine of the sender's MAC, less a steering (steer-neighbour). */
  readonly blocked: Uint8Array;
  readonly blockedMacs = new Map<number, Set<string>>();
  /** Per receiving interface: sender MAC → percent of its OGMs dropped (steer-neighbour). */
  readonly steeredMacs = new Map<number, Map<string, number>>();
  readonly counters: Record<CounterName, Float64Array>;
  readonly linkAttempts: Float64Array;
  readonly linkDelivered: Float64Array;
  /** Bytes of the OGM aggregate being filled per interface (0 = next forwarded OGM starts a frame). */
  readonly aggregateFill: Float64Array;

  constructor(
    readonly seedWord: number,
    readonly nodeNames: string[],
    specs: readonly InterfaceSpec[],
    topo: Topology,
    params: LinkModelParams,
    rng: Prng,
  ) {
    const N = nodeNames.length;
    const K = specs.length;
    checkInterfaceSpecs(specs);
    if (N > 65536) throw new SimulatorError('INVALID', `at most 65536 nodes, got ${N}`);
    this.N = N;
    this.K = K;
    this.H = N * K;
    this.ifnames = specs.map((s) => s.ifname);
    this.bands = specs.map((s) => s.band);
    this.macs = [];
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) this.macs.push(simMac(seedWord, n, k));
    this.macs.forEach((m, h) => this.macToIface.set(m, h));
    this.meshMacs = nodeNames.map((_, n) => simMac(seedWord, n, MESH_SLOT));

    const { ua, ub, pdr } = this.undirectedLinks(specs, topo, params, rng);
    this.L = ua.length;
    this.D = 2 * this.L;
    this.basePdr = Float64Array.from(pdr);
    this.dSend = new Int32Array(this.D);
    this.dRecv = new Int32Array(this.D);
    for (let l = 0; l < this.L; l++) {
      this.dSend[2 * l] = ua[l]!;
      this.dRecv[2 * l] = ub[l]!;
      this.dSend[2 * l + 1] = ub[l]!;
      this.dRecv[2 * l + 1] = ua[l]!;
    }
    [this.outStart, this.outList] = csr(this.H, this.D, (d) => this.dSend[d]!);
    [this.inStart, this.inList] = csr(this.H, this.D, (d) => this.dRecv[d]!);
    [this.nodeInStart, this.nodeInList] = csr(N, this.D, (d) => Math.floor(this.dRecv[d]! / K));

    this.adminUp = new Uint8Array(this.H).fill(1);
    this.stuck = new Uint8Array(this.H);
    this.ifHopPenalty = new Uint8Array(this.H);
    this.ifElpIntervalMs = new Uint32Array(this.H).fill(500);
    this.ifThroughputOverride = new Uint32Array(this.H);
    this.blocked = new Uint8Array(this.D);
    this.counters = Object.fromEntries(COUNTER_NAMES.map((c) => [c, new Float64Array(this.H)])) as Record<CounterName, Float64Array>;
    this.linkAttempts = new Float64Array(this.D);
    this.linkDelivered = new Float64Array(this.D);
    this.aggregateFill = new Float64Array(this.H);
  }

  /** Undirected links (one per edge and shared band) with their base PDR per direction; fills pairLinks. */
  private undirectedLinks(
    specs: readonly InterfaceSpec[], topo: Topology, params: LinkModelParams, rng: Prng,
  ): { ua: number[]; ub: number[]; pdr: number[] } {
    const K = specs.length;
    const ua: number[] = [];
    const ub: number[] = [];
    const pdr: number[] = [];
    topo.edges.forEach((e, idx) => {
      for (let k = 0; k < K; k++) {
        if (e.bands && !e.bands.includes(k)) continue;
        const [fwd, back] = drawPdr(e, topo.relativeDistance?.[idx], specs[k]!.pdrScale ?? 1, params, rng);
        const l = ua.length;
        ua.push(e.a * K + k);
        ub.push(e.b * K + k);
        pdr.push(clamp01(fwd), clamp01(back));
        const key = e.a < e.b ? `${e.a}-${e.b}` : `${e.b}-${e.a}`;
        const list = this.pairLinks.get(key) ?? [];
        list.push(l);
        this.pairLinks.set(key, list);
      }
    });
    return { ua, ub, pdr };
  }

  nodeOf(h: number): number {
    return Math.floor(h / this.K);
  }

  ifindexOf(h: number): number {
    return FIRST_HARD_IFINDEX + (h % this.K);
  }

  meshIfindex(): number {
    return FIRST_HARD_IFINDEX + this.K;
  }

  checkNode(node: number): void {
    if (!Number.isInteger(node) || node < 0 || node >= this.N) {
      throw new SimulatorError('NO_NODE', `no node ${String(node)} (the world has nodes 0..${this.N - 1})`);
    }
  }

  /** Interface index of `ifname` on `node`, or a typed error. */
  iface(node: number, ifname: string): number {
    this.checkNode(node);
    const k = this.ifnames.indexOf(ifname);
    if (k < 0) throw new SimulatorError('NO_INTERFACE', `node ${this.nodeNames[node]} has no interface '${String(ifname)}'`);
    return node * this.K + k;
  }

  linksBetween(a: number, b: number): number[] {
    this.checkNode(a);
    this.checkNode(b);
    const list = this.pairLinks.get(a < b ? `${a}-${b}` : `${b}-${a}`);
    if (!list || list.length === 0) {
      throw new SimulatorError('NO_LINK', `no link between ${this.nodeNames[a]} and ${this.nodeNames[b]}`);
    }
    return list;
  }

  /** Re-derives the per-link drop flags after a quarantine rule changed on interface h. */
  refreshBlocked(h: number): void {
    const set = this.blockedMacs.get(h);
    const steered = this.steeredMacs.get(h);
    for (let i = this.inStart[h]!; i < this.inStart[h + 1]!; i++) {
      const d = this.inList[i]!;
      const mac = this.macs[this.dSend[d]!]!;
      this.blocked[d] = set && set.has(mac) ? 100 : steered?.get(mac) ?? 0;
    }
  }

  countersOf(h: number): InterfaceCounters {
    const out = {} as InterfaceCounters;
    for (const c of COUNTER_NAMES) out[c] = this.counters[c][h]!;
    return out;
  }
}

function checkInterfaceSpecs(specs: readonly InterfaceSpec[]): void {
  const K = specs.length;
  if (K < 1 || K > 8) throw new SimulatorError('INVALID', `a node needs 1..8 hard interfaces, got ${K}`);
  const names = new Set<string>();
  for (const s of specs) {
    if (typeof s.ifname !== 'string' || !/^[a-zA-Z0-9_.-]{1,15}$/.test(s.ifname)) {
      throw new SimulatorError('INVALID', `interface name '${String(s.ifname)}' is not a valid Linux ifname`);
    }
    if (names.has(s.ifname) || s.ifname === 'bat0') throw new SimulatorError('INVALID', `interface name '${s.ifname}' is used twice`);
    names.add(s.ifname);
    if (s.pdrScale !== undefined && !(s.pdrScale >= 0 && s.pdrScale <= 1)) {
      throw new SimulatorError('INVALID', `pdrScale of ${s.ifname} must be in 0..1`);
    }
  }
}

/**
 * Base PDR of one link, forward and back (unclamped): given by the edge, or drawn. The draws come
 * in a fixed order (forward, then back) so that a seed keeps producing the same world.
 */
function drawPdr(
  e: ExplicitLink, rel: number | undefined, scale: number, params: LinkModelParams, rng: Prng,
): [fwd: number, back: number] {
  let fwd: number;
  if (e.pdr !== undefined) fwd = e.pdr;
  else {
    // 'mesh': quality falls with the square of the distance over the radio range.
    const u = rel === undefined ? rng.float() : rel * rel;
    fwd = (params.basePdrMax - (params.basePdrMax - params.basePdrMin) * u) * scale;
  }
  let back: number;
  if (e.pdrBack !== undefined) back = e.pdrBack;
  else if (e.pdr !== undefined) back = e.pdr;
  else back = fwd * (1 - params.asymmetry * rng.float());
  return [fwd, back];
}

function csr(groups: number, items: number, groupOf: (i: number) => number): [Int32Array, Int32Array] {
  const start = new Int32Array(groups + 1);
  for (let i = 0; i < items; i++) start[groupOf(i) + 1]!++;
  for (let g = 0; g < groups; g++) start[g + 1]! += start[g]!;
  const fill = start.slice(0, groups);
  const list = new Int32Array(items);
  for (let i = 0; i < items; i++) list[fill[groupOf(i)]!++] = i;
  return [start, list];
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
