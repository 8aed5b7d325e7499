// Groups a V8 heap snapshot (.heapsnapshot JSON) for docs/memory.md: self size by node type and
// by name, the largest strings and scripts, and retained sizes (dominator tree over strong edges)
// of the largest objects, so that "what is live" has names and sizes.
import { readFileSync } from 'node:fs';

interface Snap {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const MB = (b: number) => (b / 1048576).toFixed(2);

export function groupSnapshot(file: string, top = 25): string {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snap;
  const nf = s.snapshot.meta.node_fields, ef = s.snapshot.meta.edge_fields;
  const NF = nf.length, EF = ef.length;
  const nTypes = s.snapshot.meta.node_types[0], eTypes = s.snapshot.meta.edge_types[0];
  const iType = nf.indexOf('type'), iName = nf.indexOf('name'), iSize = nf.indexOf('self_size'), iEdges = nf.indexOf('edge_count');
  const eType = ef.indexOf('type'), eTo = ef.indexOf('to_node'), eName = ef.indexOf('name_or_index');
  const N = s.nodes.length / NF;
  const type = (i: number) => nTypes[s.nodes[i * NF + iType]!]!;
  const name = (i: number) => s.strings[s.nodes[i * NF + iName]!]!;
  const size = (i: number) => s.nodes[i * NF + iSize]!;
  const firstEdge = new Uint32Array(N + 1);
  for (let i = 0, e = 0; i < N; i++) { firstEdge[i] = e; e += s.nodes[i * NF + iEdges]! * EF; firstEdge[i + 1] = e; }
  const out: string[] = [];
  let total = 0;
  const byType = new Map<string, number>();
  const byName = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < N; i++) {
    const t = type(i), sz = size(i);
    total += sz;
    byType.set(t, (byType.get(t) ?? 0) + sz);
    const key = t === 'string' || t === 'concatenated string' || t === 'sliced string' ? `(${t})` : `${t}: ${name(i).slice(0, 60)}`;
    const g = byName.get(key) ?? { size: 0, count: 0 };
    g.size += sz; g.count++;
    byName.set(key, g);
  }
  out.push(`total self size ${MB(total)} MB in ${N} nodes`);
  out.push('-- by node type (MB)');
  for (const [t, v] of [...byType].sort((a, b) => b[1] - a[1])) out.push(`${MB(v).padStart(8)}  ${t}`);
  out.push(`-- by type and name, top ${top * 2} (MB, count)`);
  for (const [k, v] of [...byName].sort((a, b) => b[1].size - a[1].size).slice(0, top * 2)) out.push(`${MB(v.size).padStart(8)} ${String(v.count).padStart(7)}  ${k}`);
  out.push('-- largest strings');
  const strs = [...Array(N).keys()].filter((i) => type(i) === 'string').sort((a, b) => size(b) - size(a)).slice(0, 10);
  for (const i of strs) out.push(`${MB(size(i)).padStart(8)}  ${JSON.stringify(name(i).slice(0, 80))}`);

  // Dominator tree (Cooper, Harvey & Kennedy) from the root (node 0) over non-weak edges.
  const weak = eTypes.indexOf('weak'), shortcut = eTypes.indexOf('shortcut');
  const order: number[] = [], post = new Int32Array(N).fill(-1);
  const preds: number[][] = Array.from({ length: N }, () => []);
  { // iterative DFS for postorder
    const seen = new Uint8Array(N);
    const stack: [number, number][] = [[0, firstEdge[0]!]];
    seen[0] = 1;
    while (stack.length) {
      const top_ = stack[stack.length - 1]!;
      const [v, e] = top_;
      if (e < firstEdge[v + 1]!) {
        top_[1] = e + EF;
        const et = s.edges[e + eType]!;
        if (et === weak || et === shortcut) continue;
        const w = s.edges[e + eTo]! / NF;
        preds[w]!.push(v);
        if (!seen[w]) { seen[w] = 1; stack.push([w, firstEdge[w]!]); }
      } else { post[v] = order.length; order.push(v); stack.pop(); }
    }
  }
  const idom = new Int32Array(N).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) { while (post[a]! < post[b]!) a = idom[a]!; while (post[b]! < post[a]!) b = idom[b]!; }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let k = order.length - 2; k >= 0; k--) {
      const v = order[k]!;
      let nd = -1;
      for (const p of preds[v]!) if (idom[p] !== -1) nd = nd === -1 ? p : intersect(p, nd);
      if (nd !== -1 && idom[v] !== nd) { idom[v] = nd; changed = true; }
    }
  }
  const retained = new Float64Array(N);
  for (const v of order) { retained[v] += size(v); if (v !== 0 && idom[v]! >= 0) retained[idom[v]!] += retained[v]!; }
  const unreachable = order.length < N ? N - order.length : 0;
  out.push(`-- retained (dominator tree), top ${top * 2} objects that are not system roots (${unreachable} nodes unreachable)`);
  const edgeNameTo = (from: number, to: number) => {
    for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e += EF) if (s.edges[e + eTo]! / NF === to) {
      const et = eTypes[s.edges[e + eType]!];
      const n = s.edges[e + eName]!;
      return et === 'element' || et === 'hidden' ? `[${n}]` : s.strings[n]!;
    }
    return '?';
  };
  const cands = [...Array(N).keys()].filter((i) => i !== 0 && !['synthetic', 'hidden'].includes(type(i))).sort((a, b) => retained[b]! - retained[a]!).slice(0, top * 2);
  for (const i of cands) {
    const path: string[] = [];
    for (let v = i, k = 0; v !== 0 && k < 4; v = idom[v]!, k++) path.push(`${type(idom[v]!)}:${name(idom[v]!).slice(0, 30)}.${edgeNameTo(idom[v]!, v).slice(0, 30)}`);
    out.push(`${MB(retained[i]!).padStart(8)}  ${type(i)}: ${name(i).slice(0, 50)}   <- ${path.join(' <- ')}`);
  }
  return out.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) process.stdout.write(groupSnapshot(process.argv[2]!) + '\n');
