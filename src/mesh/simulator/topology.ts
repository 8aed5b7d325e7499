// Which nodes hear each other. A topology is a set of node pairs (edges) plus a drawing
// position per node; the link model later gives each edge, on each radio band both nodes
// have, its own delivery ratio.
import type { Prng } from './prng.ts';
import { SimulatorError } from './errors.ts';

export type TopologyKind = 'chain' | 'ring' | 'grid' | 'mesh' | 'diamond';

export interface ExplicitLink {
  /** Node indices (0-based). */
  a: number;
  b: number;
  /** Base delivery ratio a->b (0..1); drawn from the link model's range when absent. */
  pdr?: number;
  /** Base delivery ratio b->a; defaults to `pdr`. */
  pdrBack?: number;
  /** Interface indices (band slots) the link exists on; all when absent. */
  bands?: number[];
}

export type TopologySpec = TopologyKind | { links: ExplicitLink[] };

export interface Topology {
  positions: { x: number; y: number }[];
  edges: ExplicitLink[];
  /** For 'mesh': the edge distance relative to the radio range (0..1), to scale base PDR. */
  relativeDistance?: number[];
}

export function nodesForTopology(spec: TopologySpec, requested: number | undefined): number {
  if (spec === 'diamond') {
    if (requested !== undefined && requested !== 4) {
      throw new SimulatorError('INVALID', `the diamond topology has exactly 4 nodes, not ${requested}`);
    }
    return 4;
  }
  if (typeof spec === 'object') {
    const maxIdx = spec.links.reduce((m, l) => Math.max(m, l.a, l.b), -1);
    const n = requested ?? maxIdx + 1;
    if (maxIdx >= n) throw new SimulatorError('INVALID', `link names node ${maxIdx} but the world has ${n} nodes`);
    return n;
  }
  if (requested === undefined) throw new SimulatorError('INVALID', `topology '${spec}' needs a node count`);
  return requested;
}

export function buildTopology(spec: TopologySpec, n: number, rng: Prng, meshDegree = 6): Topology {
  if (!Number.isInteger(n) || n < 1) throw new SimulatorError('INVALID', `node count must be a positive integer, got ${n}`);
  if (typeof spec === 'object') return explicit(spec.links, n);
  switch (spec) {
    case 'chain':
      return {
        positions: range(n).map((i) => ({ x: i, y: 0 })),
        edges: range(n - 1).map((i) => ({ a: i, b: i + 1 })),
      };
    case 'ring': {
      if (n < 3) throw new SimulatorError('INVALID', `a ring needs at least 3 nodes, got ${n}`);
      const r = n / (2 * Math.PI);
      return {
        positions: range(n).map((i) => ({ x: r * Math.cos((2 * Math.PI * i) / n), y: r * Math.sin((2 * Math.PI * i) / n) })),
        edges: range(n).map((i) => ({ a: i, b: (i + 1) % n })),
      };
    }
    case 'grid':
      return grid(n);
    case 'diamond':
      // n1-n2-n4 and n1-n3-n4: two equal two-hop paths between n1 and n4.
      return {
        positions: [
          { x: 0, y: 0 },
          { x: 1, y: -1 },
          { x: 1, y: 1 },
          { x: 2, y: 0 },
        ],
        edges: [
          { a: 0, b: 1 },
          { a: 0, b: 2 },
          { a: 1, b: 3 },
          { a: 2, b: 3 },
        ],
      };
    case 'mesh':
      return randomGeometric(n, rng, meshDegree);
    default:
      throw new SimulatorError('INVALID', `unknown topology '${String(spec)}'`);
  }
}

function explicit(links: ExplicitLink[], n: number): Topology {
  const seen = new Set<string>();
  for (const l of links) {
    if (!Number.isInteger(l.a) || !Number.isInteger(l.b) || l.a < 0 || l.b < 0 || l.a >= n || l.b >= n) {
      throw new SimulatorError('INVALID', `link ${l.a}-${l.b} names a node outside 0..${n - 1}`);
    }
    if (l.a === l.b) throw new SimulatorError('INVALID', `link ${l.a}-${l.b} connects a node to itself`);
    for (const p of [l.pdr, l.pdrBack]) {
      if (p !== undefined && !(p >= 0 && p <= 1)) throw new SimulatorError('INVALID', `link ${l.a}-${l.b}: pdr ${p} is not in 0..1`);
    }
    const key = l.a < l.b ? `${l.a}-${l.b}` : `${l.b}-${l.a}`;
    if (seen.has(key)) throw new SimulatorError('INVALID', `link ${key} is listed twice`);
    seen.add(key);
  }
  const r = Math.max(1, n / (2 * Math.PI));
  return {
    positions: range(n).map((i) => ({ x: r * Math.cos((2 * Math.PI * i) / n), y: r * Math.sin((2 * Math.PI * i) / n) })),
    edges: links.map((l) => ({ ...l })),
  };
}

function grid(n: number): Topology {
  const cols = Math.ceil(Math.sqrt(n));
  const positions = range(n).map((i) => ({ x: i % cols, y: Math.floor(i / cols) }));
  const edges: ExplicitLink[] = [];
  for (let i = 0; i < n; i++) {
    if ((i + 1) % cols !== 0 && i + 1 < n) edges.push({ a: i, b: i + 1 });
    if (i + cols < n) edges.push({ a: i, b: i + cols });
  }
  return { positions, edges };
}

/**
 * Nodes scattered uniformly on a square of area n (density 1) and joined when closer than the
 * radio range r, with pi*r^2 = meshDegree; components are then bridged at their closest pair so
 * that the mesh is connected (a real deployment is planned that way).
 */
function randomGeometric(n: number, rng: Prng, meshDegree: number): Topology {
  if (!(meshDegree > 0)) throw new SimulatorError('INVALID', `meshDegree must be positive, got ${meshDegree}`);
  const side = Math.sqrt(n);
  const positions = range(n).map(() => ({ x: rng.float() * side, y: rng.float() * side }));
  const range2 = meshDegree / Math.PI;
  const radius = Math.sqrt(range2);
  const edges: ExplicitLink[] = [];
  const relativeDistance: number[] = [];
  const parent = range(n);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const dist2 = (i: number, j: number) => (positions[i]!.x - positions[j]!.x) ** 2 + (positions[i]!.y - positions[j]!.y) ** 2;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d2 = dist2(i, j);
      if (d2 <= range2) {
        edges.push({ a: i, b: j });
        relativeDistance.push(Math.sqrt(d2) / radius);
        parent[find(i)] = find(j);
      }
    }
  }
  // Bridge components: repeatedly join the component of node 0 to its closest outside node.
  for (;;) {
    const root = find(0);
    let best = -1;
    let bestIn = -1;
    let bestD2 = Infinity;
    for (let i = 0; i < n; i++) {
      if (find(i) !== root) continue;
      for (let j = 0; j < n; j++) {
        if (find(j) === root) continue;
        const d2 = dist2(i, j);
        if (d2 < bestD2) {
          bestD2 = d2;
          best = j;
          bestIn = i;
        }
      }
    }
    if (best < 0) break;
    edges.push({ a: bestIn, b: best });
    // A bridge is at or beyond the nominal range: give it the weakest base quality.
    relativeDistance.push(1);
    parent[find(best)] = find(bestIn);
  }
  return { positions, edges, relativeDistance };
}

function range(n: number): number[] {
  return Array.from({ length: Math.max(0, n) }, (_, i) => i);
}
