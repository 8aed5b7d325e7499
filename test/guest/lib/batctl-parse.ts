// Reads batctl 2023.0's text tables (the independent oracle) into plain rows. Written from
// what batctl printed in the VM against batman-adv 2022.3, e.g.
//   o -H (IV):   " * 02:00:00:00:03:02    0.876s   ( 10) 02:00:00:00:02:01 [      v1-2]"
//   o -H (V):    "   02:00:00:00:03:02    0.160s (     8823.5)  02:00:00:00:02:01 [      v1-2]"
//   n -H (IV):   "         v1-2\t  02:00:00:00:02:01    0.936s"
//   n -H (V):    "02:00:00:00:02:01    0.088s (    10000.0) [      v1-2]"
//   gwl -H:      "* 02:00:00:00:03:02 ( 14) 02:00:00:00:02:01 [      v1-2]: 10.0/2.0 MBit"
//   if:          "v1-2: active"
// A line that fits none of these throws: the oracle must not silently shrink a table.

const MAC = '([0-9a-f]{2}(?::[0-9a-f]{2}){5})';
const SECS = '(\\d+\\.\\d{3})s';

export interface BatctlOriginator {
  best: boolean;
  originator: string;
  lastSeenMs: number;
  tq?: number;
  /** Mbit/s as printed, one decimal. */
  throughputMbit?: number;
  nextHop: string;
  ifname: string;
}

export interface BatctlNeighbour {
  neighbour: string;
  ifname: string;
  lastSeenMs: number;
  throughputMbit?: number;
}

export interface BatctlGateway {
  best: boolean;
  originator: string;
  tq?: number;
  throughputMbit?: number;
  router: string;
  ifname: string;
  /** "10.0/2.0 MBit" as printed. */
  bandwidth: string;
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
const ms = (s: string) => Math.round(Number(s) * 1000);

function bad(what: string, line: string): never {
  throw new Error(`batctl ${what}: cannot read line ${JSON.stringify(line)}`);
}

const ORIG_IV = new RegExp(`^ ([ *]) ${MAC}\\s+${SECS}\\s+\\(\\s*(\\d+)\\)\\s+${MAC}\\s+\\[\\s*(\\S+)\\]$`);
const ORIG_V = new RegExp(`^ ([ *]) ${MAC}\\s+${SECS}\\s+\\(\\s*(\\d+\\.\\d)\\)\\s+${MAC}\\s+\\[\\s*(\\S+)\\]$`);

export function parseOriginators(text: string): BatctlOriginator[] {
  return lines(text).map((l) => {
    let m = ORIG_IV.exec(l);
    if (m) return { best: m[1] === '*', originator: m[2]!, lastSeenMs: ms(m[3]!), tq: Number(m[4]), nextHop: m[5]!, ifname: m[6]! };
    m = ORIG_V.exec(l);
    if (m) return { best: m[1] === '*', originator: m[2]!, lastSeenMs: ms(m[3]!), throughputMbit: Number(m[4]), nextHop: m[5]!, ifname: m[6]! };
    return bad('originators', l);
  });
}

const NEIGH_IV = new RegExp(`^\\s*(\\S+)\\t\\s+${MAC}\\s+${SECS}$`);
const NEIGH_V = new RegExp(`^${MAC}\\s+${SECS}\\s+\\(\\s*(\\d+\\.\\d)\\)\\s+\\[\\s*(\\S+)\\]$`);

export function parseNeighbours(text: string): BatctlNeighbour[] {
  return lines(text).map((l) => {
    let m = NEIGH_IV.exec(l);
    if (m) return { ifname: m[1]!, neighbour: m[2]!, lastSeenMs: ms(m[3]!) };
    m = NEIGH_V.exec(l);
    if (m) return { neighbour: m[1]!, lastSeenMs: ms(m[2]!), throughputMbit: Number(m[3]), ifname: m[4]! };
    return bad('neighbours', l);
  });
}

const GW = new RegExp(`^([ *]) ${MAC} \\(\\s*(\\d+(?:\\.\\d)?)\\) ${MAC} \\[\\s*(\\S+)\\]: (.+)$`);

export function parseGateways(text: string): BatctlGateway[] {
  return lines(text).map((l) => {
    const m = GW.exec(l);
    if (!m) return bad('gateways', l);
    const metric = m[3]!;
    return {
      best: m[1] === '*',
      originator: m[2]!,
      ...(metric.includes('.') ? { throughputMbit: Number(metric) } : { tq: Number(metric) }),
      router: m[4]!,
      ifname: m[5]!,
      bandwidth: m[6]!.trim(),
    };
  });
}

export function parseInterfaces(text: string): Array<{ ifname: string; active: boolean }> {
  return lines(text).map((l) => {
    const m = /^(\S+): (active|inactive)$/.exec(l.trim());
    if (!m) return bad('interfaces', l);
    return { ifname: m[1]!, active: m[2] === 'active' };
  });
}
