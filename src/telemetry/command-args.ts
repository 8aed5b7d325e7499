// The argument shapes of the fleet commands, checked before any handler runs, so handlers get
// typed values. Option values of `set` are validated by its handler through the config schema
// (src/config/apply-option.ts), which knows every option's type.
import { ifnameProblem } from '../config/ifname.ts';
import { escapePrintable } from '../config/printable.ts';
import { CommandRejected, type CommandName } from './command-envelope.ts';

export interface CommandArgs {
  status: Record<string, never>;
  'dry-run': { on: boolean };
  /** `KIND[/IFNAME[/NEIGHBOUR]]`; whether the kind wants a target is the agent's to say. */
  'run-action': { action: string; ifname?: string; neighbour?: string };
  /** `path` is 'section.option' in UCI names; `values` has one item, or several for a list option. */
  set: { path: string; values: string[] };
  'learning-round': Record<string, never>;
  /** `peer` a peer id or node name (the federation resolves it); `reason` '' only when withdrawing. */
  'quarantine-vote': { peer: string; vote: boolean; reason: string };
}

const ACTION = /^[a-z][a-z0-9_-]{0,63}$/;
// A neighbour is one unicast station: lower or upper case hex, colons, nothing else.
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
// A libp2p peer id (base58/base32 letters and digits) or a node name (agent.node_name's pattern).
const PEER = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
// The fleet state keeps 200 characters of a reason; control and format characters (e.g. U+202E)
// would make it read differently from what was sent.
const MAX_REASON = 200;
const UNPRINTABLE = /[\p{Cc}\p{Cf}]/u;
const OPTION_PATH = /^(x0tta6bl4\.)?[a-z][a-z0-9_]{0,63}\.[a-z][a-z0-9_]{0,63}$/;

/** Quoted, non-printables escaped: a reply must show what was sent, not hide or reorder it (U+202E). */
function show(v: string): string {
  return `'${escapePrintable(v)}'`;
}

function bad(usage: string, detail: string): CommandRejected {
  return new CommandRejected('bad-args', `${detail}; usage: ${usage}`);
}

export function parseCommandArgs<K extends CommandName>(cmd: K, args: string[]): CommandArgs[K] {
  return parsers[cmd](args) as CommandArgs[K];
}

const parsers: { [K in CommandName]: (args: string[]) => CommandArgs[K] } = {
  status: (a) => {
    if (a.length) throw bad('status', 'takes no arguments');
    return {};
  },
  'dry-run': (a) => {
    if (a.length !== 1 || (a[0] !== 'on' && a[0] !== 'off')) throw bad('dry-run on|off', `got ${JSON.stringify(a)}`);
    return { on: a[0] === 'on' };
  },
  'run-action': (a) => {
    const usage = 'run-action KIND[/IFNAME[/NEIGHBOUR]]';
    if (a.length !== 1) throw bad(usage, `got ${a.length} arguments`);
    const parts = a[0]!.split('/');
    const [action, ifname, neighbour] = parts;
    if (parts.length > 3) throw bad(usage, `${show(a[0]!)} has ${parts.length} parts`);
    if (!ACTION.test(action!)) throw bad(usage, `${show(action!)} is not an action name`);
    if (ifname !== undefined) {
      const problem = ifnameProblem(ifname);
      if (problem) throw bad(usage, `interface ${show(ifname)}: ${problem}`);
    }
    if (neighbour !== undefined && !macIsUnicast(neighbour)) throw bad(usage, `neighbour ${show(neighbour)} is not a unicast MAC address (aa:bb:cc:dd:ee:ff)`);
    return { action: action!, ...(ifname !== undefined ? { ifname } : {}), ...(neighbour !== undefined ? { neighbour: neighbour.toLowerCase() } : {}) };
  },
  set: (a) => {
    if (a.length < 2 || !OPTION_PATH.test(a[0]!)) throw bad('set <section.option> <value> [value...]', `got ${JSON.stringify(a.slice(0, 2))}`);
    return { path: a[0]!, values: a.slice(1) };
  },
  'learning-round': (a) => {
    if (a.length) throw bad('learning-round', 'takes no arguments');
    return {};
  },
  'quarantine-vote': (a) => {
    const usage = 'quarantine-vote <peer-id|node-name> true|false [reason]';
    if (a.length < 2 || a.length > 3) throw bad(usage, `got ${a.length} arguments`);
    const [peer, vote, reason = ''] = a as [string, string, string?];
    if (!PEER.test(peer)) throw bad(usage, `${show(peer)} is not a peer id or node name`);
    if (vote !== 'true' && vote !== 'false') throw bad(usage, `vote ${show(vote)} must be true or false`);
    if (vote === 'true' && !reason.trim()) throw bad(usage, 'a vote to quarantine needs a reason (the fleet sees it)');
    if (reason.length > MAX_REASON) throw bad(usage, `reason of ${reason.length} characters; at most ${MAX_REASON}`);
    if (UNPRINTABLE.test(reason)) throw bad(usage, `reason ${show(reason)} has control or format characters`);
    return { peer, vote: vote === 'true', reason };
  },
};

/** Six colon-separated hex octets, not a group (multicast/broadcast) address, not all zero. */
export function macIsUnicast(mac: string): boolean {
  return MAC.test(mac) && (parseInt(mac.slice(0, 2), 16) & 1) === 0 && !/^(00:){5}00$/.test(mac);
}
