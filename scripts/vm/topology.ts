// Mesh topologies for the VM: nodes are network namespaces n1..nN, each with its own bat0;
// every link is a veth pair whose ends are enslaved to the two nodes' bat0. MACs are fixed
// (02:00:00:00:<a>:<b> on a's end of the link to b) so tests and logs name nodes stably;
// a node's originator address is the MAC of its first link's end (its primary interface).
// With `medium`, a link is two veth pairs joined by a bridge in a namespace of its own (the air
// between two radios): a fault applied there (mediumCut) loses what one node sent after that
// node counted it as sent, as a dead radio link does. netem on a node's own end drops before
// the interface counts, so it looks like a hung interface instead.

export type RoutingAlgo = 'BATMAN_IV' | 'BATMAN_V';

export interface TopologySpec {
  /** For logs and result files: "chain3", "diamond". */
  name: string;
  nodes: number;
  /** Undirected links between 1-based node numbers. */
  links: ReadonlyArray<readonly [number, number]>;
}

export interface MeshOptions {
  algo?: RoutingAlgo;
  /** OGM interval, ms (batman-adv default 1000). */
  origIntervalMs?: number;
  /** Bridge loop avoidance; off by default: a test mesh has no bridge, and BLA's start-up wait drops ARP for ~30 s. */
  bla?: boolean;
  /** Nodes announced as gateway servers (1-based); all others become gateway clients. */
  gatewayServers?: readonly number[];
  /** Join each link's ends through a bridge in the MEDIUM_NETNS namespace (see the header). */
  medium?: boolean;
}

export const MEDIUM_NETNS = 'medium';

export interface MeshNodeInfo {
  name: string;
  netns: string;
  meshIfname: 'bat0';
  /** The node's originator address (its primary interface's MAC). */
  origAddress: string;
  /** mediumIfname: the medium's end facing this interface (what reaches it passes there last). */
  ifaces: Array<{ ifname: string; mac: string; peer: string; peerIfname: string; peerMac: string; mediumIfname?: string }>;
  gateway: 'server' | 'client' | 'off';
}

/** What a guest script finds in $X0VM_MESH. */
export interface MeshInfoFile {
  topology: TopologySpec;
  algo: RoutingAlgo;
  origIntervalMs: number;
  bla: boolean;
  /** The namespace holding the links' bridges, when the mesh has a medium. */
  mediumNetns: string | null;
  nodes: MeshNodeInfo[];
}

export const chain = (n: number): TopologySpec => ({
  name: `chain${n}`,
  nodes: n,
  links: Array.from({ length: n - 1 }, (_, i) => [i + 1, i + 2] as const),
});
export const triangle = (): TopologySpec => ({ name: 'triangle', nodes: 3, links: [[1, 2], [2, 3], [1, 3]] });
/** Two paths from n1 to n4: through n2 and through n3. */
export const diamond = (): TopologySpec => ({ name: 'diamond', nodes: 4, links: [[1, 2], [1, 3], [2, 4], [3, 4]] });

const hex = (n: number) => n.toString(16).padStart(2, '0');
export const linkMac = (a: number, b: number) => `02:00:00:00:${hex(a)}:${hex(b)}`;
export const linkIfname = (a: number, b: number) => `v${a}-${b}`;
const mediumIfname = (a: number, b: number) => `m${a}-${b}`;
const bridgeName = (a: number, b: number) => `br${a}-${b}`;
export const nodeName = (n: number) => `n${n}`;

export function validateTopology(t: TopologySpec): void {
  if (!Number.isInteger(t.nodes) || t.nodes < 1 || t.nodes > 250) throw new Error(`topology ${t.name}: nodes must be 1..250`);
  const seen = new Set<string>();
  for (const [a, b] of t.links) {
    if (![a, b].every((x) => Number.isInteger(x) && x >= 1 && x <= t.nodes) || a === b) throw new Error(`topology ${t.name}: bad link ${a}-${b}`);
    const k = `${Math.min(a, b)}-${Math.max(a, b)}`;
    if (seen.has(k)) throw new Error(`topology ${t.name}: duplicate link ${k}`);
    seen.add(k);
  }
}

/** Describes the mesh that meshCommands builds (what the guest scripts get). */
export function describeMesh(t: TopologySpec, o: MeshOptions = {}): MeshInfoFile {
  validateTopology(t);
  const nodes: MeshNodeInfo[] = [];
  for (let n = 1; n <= t.nodes; n++) {
    const ifaces = t.links
      .filter(([a, b]) => a === n || b === n)
      .map(([a, b]) => {
        const peer = a === n ? b : a;
        return {
          ifname: linkIfname(n, peer), mac: linkMac(n, peer), peer: nodeName(peer), peerIfname: linkIfname(peer, n), peerMac: linkMac(peer, n),
          ...(o.medium ? { mediumIfname: mediumIfname(n, peer) } : {}),
        };
      });
    const servers = o.gatewayServers ?? [];
    nodes.push({
      name: nodeName(n),
      netns: nodeName(n),
      meshIfname: 'bat0',
      origAddress: ifaces[0]?.mac ?? '',
      ifaces,
      gateway: servers.length === 0 ? 'off' : servers.includes(n) ? 'server' : 'client',
    });
  }
  return { topology: t, algo: o.algo ?? 'BATMAN_IV', origIntervalMs: o.origIntervalMs ?? 1000, bla: o.bla ?? false, mediumNetns: o.medium ? MEDIUM_NETNS : null, nodes };
}

/**
 * The commands (argv lists, run in order as root) that build the mesh. ip runs in batch mode,
 * once per namespace: under TCG every exec of ip costs ~0.2 s.
 */
export function meshCommands(mesh: MeshInfoFile): Array<{ argv: string[]; stdin?: string }> {
  // The routing algorithm is set by the runner before these (the module parameter routing_algo).
  const cmds: Array<{ argv: string[]; stdin?: string }> = [];
  const medium = mesh.mediumNetns;
  cmds.push({ argv: ['ip', '-batch', '-'], stdin: [...mesh.nodes.map((n) => n.netns), ...(medium ? [medium] : [])].map((ns) => `netns add ${ns}\n`).join('') });
  const batch = new Map<string, string[]>(mesh.nodes.map((n) => [n.netns, ['link set lo up']]));
  const air: string[] = [];
  for (const [a, b] of mesh.topology.links) {
    if (!medium) {
      batch.get(nodeName(a))!.push(`link add ${linkIfname(a, b)} address ${linkMac(a, b)} type veth peer name ${linkIfname(b, a)} address ${linkMac(b, a)} netns ${nodeName(b)}`);
      continue;
    }
    for (const [x, y] of [[a, b], [b, a]] as const) {
      batch.get(nodeName(x))!.push(`link add ${linkIfname(x, y)} address ${linkMac(x, y)} type veth peer name ${mediumIfname(x, y)} netns ${medium}`);
    }
    // No STP: the ports forward at once; the bridge only joins the link's two ends.
    air.push(`link add ${bridgeName(a, b)} type bridge stp_state 0`);
    for (const [x, y] of [[a, b], [b, a]] as const) air.push(`link set ${mediumIfname(x, y)} master ${bridgeName(a, b)}`, `link set ${mediumIfname(x, y)} up`);
    air.push(`link set ${bridgeName(a, b)} up`);
  }
  for (const node of mesh.nodes) {
    const lines = batch.get(node.netns)!;
    lines.push('link add bat0 type batadv');
    // Enslaved in link order: the first becomes the primary interface (the originator address).
    for (const i of node.ifaces) lines.push(`link set ${i.ifname} master bat0`, `link set ${i.ifname} up`);
  }
  // Peers are created from the lower-numbered side, so all links exist once every batch ran.
  for (const node of mesh.nodes) cmds.push({ argv: ['ip', '-n', node.netns, '-batch', '-'], stdin: batch.get(node.netns)!.map((l) => `${l}\n`).join('') });
  if (medium) cmds.push({ argv: ['ip', '-n', medium, '-batch', '-'], stdin: air.map((l) => `${l}\n`).join('') });
  for (const node of mesh.nodes) {
    const batctl = ['nsenter', `--net=/run/netns/${node.netns}`, 'batctl', 'meshif', 'bat0'];
    cmds.push({ argv: [...batctl, 'bridge_loop_avoidance', mesh.bla ? '1' : '0'] });
    if (mesh.origIntervalMs !== 1000) cmds.push({ argv: [...batctl, 'orig_interval', String(mesh.origIntervalMs)] });
    if (node.gateway !== 'off') cmds.push({ argv: [...batctl, 'gw_mode', node.gateway] });
    cmds.push({ argv: ['ip', '-n', node.netns, 'link', 'set', 'bat0', 'up'] });
  }
  return cmds;
}

/**
 * Where to apply a fault on the link a–b (a qdisc on each device): with a medium, its two ends
 * there, so that each node still counts what it sends (a dead link); without, the nodes' own
 * ends (their interfaces pass nothing at all, which is also what a hung interface looks like).
 */
export function linkFaultDevices(mesh: MeshInfoFile, a: number, b: number): Array<{ netns: string; dev: string }> {
  return ([[a, b], [b, a]] as const).map(([x, y]) => {
    const node = mesh.nodes[x - 1]!;
    const i = node.ifaces.find((f) => f.peer === nodeName(y));
    if (!i) throw new Error(`no link ${x}-${y} in ${mesh.topology.name}`);
    return mesh.mediumNetns ? { netns: mesh.mediumNetns, dev: i.mediumIfname! } : { netns: node.netns, dev: i.ifname };
  });
}
