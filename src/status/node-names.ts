// Node names for the MACs a status report shows, so that the LuCI page can show "n2/mesh0"
// instead of a bare MAC. Only where the agent can name them: the simulator (and so the demo)
// knows every node's name; the batman-adv driver on a router does not, and then there are none.
import type { LinkStatus, MeshSnapshot } from './types.ts';

/** MAC → name for every MAC in the mesh tables and links that describeMac names. */
export function nodeNames(mesh: MeshSnapshot, links: LinkStatus[], describeMac?: (mac: string) => string): Record<string, string> {
  const names: Record<string, string> = {};
  if (!describeMac) return names;
  const macs = new Set<string>();
  for (const n of mesh.neighbours) macs.add(n.neighbour);
  for (const o of mesh.originators) macs.add(o.originator).add(o.nextHop);
  for (const g of mesh.gateways) macs.add(g.originator).add(g.router);
  for (const l of links) macs.add(l.neighbour);
  for (const mac of macs) {
    let name: string;
    try {
      name = describeMac(mac);
    } catch {
      continue; // a name is a nicety: a MAC it cannot name stays a MAC
    }
    if (typeof name === 'string' && name !== '' && name !== mac) names[mac] = name;
  }
  return names;
}
