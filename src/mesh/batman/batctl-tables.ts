// The mesh tables as batctl prints them (batctl o, n, gwl, if), row for row, so that an
// operator's eyes and scripts that read batctl's output work on ours too. Values come from
// the model (kbit/s), so throughput is shown as batctl shows it: Mbit/s with one decimal.
import type { Gateway, HardInterface, MeshInfo, Neighbour, Originator, RoutingAlgo } from '../driver.ts';

const pad = (s: string | number, n: number) => String(s).padStart(n);

/** "   1.234s": seconds with milliseconds, batctl's "%4i.%03is". */
function lastSeen(ms: number): string {
  return `${pad(Math.floor(ms / 1000), 4)}.${String(ms % 1000).padStart(3, '0')}s`;
}

/** "(      54.3)": kbit/s as batctl's "(%9u.%1u)" Mbit/s, truncated like its integer division. */
function mbit(kbps: number): string {
  return `(${pad(Math.floor(kbps / 1000), 9)}.${Math.floor((kbps % 1000) / 100)})`;
}

export function meshInfoLine(m: MeshInfo): string {
  return `[B.A.T.M.A.N. adv ${m.version}, MainIF: ${m.primaryIfname ?? '(none)'} (${m.meshIfname}/${m.meshAddress} ${m.algo})]`;
}

export function originatorsHeader(algo: RoutingAlgo): string {
  return algo === 'BATMAN_IV'
    ? '   Originator        last-seen (#/255) Nexthop           [outgoingIF]'
    : '   Originator        last-seen ( throughput)  Nexthop           [outgoingIF]';
}

export function originatorRow(o: Originator): string {
  const metric = o.throughputKbps !== undefined ? mbit(o.throughputKbps) : `  (${pad(o.tq ?? 0, 3)})`;
  return ` ${o.best ? '*' : ' '} ${o.originator} ${lastSeen(o.lastSeenMs)} ${metric} ${o.nextHop} [${pad(o.hardIfname, 10)}]`;
}

export function neighboursHeader(algo: RoutingAlgo): string {
  return algo === 'BATMAN_IV' ? 'IF             Neighbor              last-seen' : '         Neighbor   last-seen      speed           IF';
}

export function neighbourRow(n: Neighbour): string {
  return n.throughputKbps !== undefined
    ? `${n.neighbour} ${lastSeen(n.lastSeenMs)} ${mbit(n.throughputKbps)} [${pad(n.hardIfname, 10)}]`
    : `   ${pad(n.hardIfname, 10)}\t  ${n.neighbour} ${lastSeen(n.lastSeenMs)}`;
}

export function gatewaysHeader(algo: RoutingAlgo): string {
  return algo === 'BATMAN_IV'
    ? '  Router            ( TQ) Next Hop          [outgoingIf]  Bandwidth'
    : '  Router            ( throughput) Next Hop          [outgoingIf]  Bandwidth';
}

/** Bandwidth as batctl prints it: "10.0/2.0 MBit" (it has 100 kbit/s resolution). */
export function bandwidth(downKbps: number, upKbps: number): string {
  const m = (k: number) => `${Math.floor(k / 1000)}.${Math.floor((k % 1000) / 100)}`;
  return `${m(downKbps)}/${m(upKbps)} MBit`;
}

export function gatewayRow(g: Gateway): string {
  const metric = g.throughputKbps !== undefined ? mbit(g.throughputKbps) : `(${pad(g.tq ?? 0, 3)})`;
  return `${g.best ? '*' : ' '} ${g.originator} ${metric} ${g.router} [${pad(g.hardIfname, 10)}]: ${bandwidth(g.bandwidthDownKbps, g.bandwidthUpKbps)}`;
}

export function interfaceRow(i: HardInterface): string {
  return `${i.ifname}: ${i.active ? 'active' : 'inactive'}`;
}
