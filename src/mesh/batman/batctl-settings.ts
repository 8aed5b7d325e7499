// batctl's names for the mesh and hard-interface settings, how to read a value written the
// way an operator would write it ("enable", "10mbit/2mbit", "0x10/0xff"), and how to show
// the value read back. Used by `x0tta6bl4 mesh settings` and `mesh set KEY VALUE`.
// One deliberate difference from batctl: a bandwidth without a unit is kbit/s (the agent's
// unit everywhere), not Mbit/s; batctl-style "10mbit" works as in batctl.
import type { HardIfSettings, HardInterface, MeshSettings } from '../driver.ts';
import { bandwidth } from './batctl-tables.ts';

/** A value that cannot be read for its key: a usage mistake, shown as one line. */
export class SettingSyntaxError extends Error {
  override readonly name = 'SettingSyntaxError';
}

export interface SettingKey<Changes, Shown> {
  name: string;
  /** batctl's short names and other accepted spellings. */
  aliases: readonly string[];
  /** Value syntax for --help. */
  syntax: string;
  parse(args: readonly string[]): Changes;
  show(value: Shown): string;
}

type MeshKey = SettingKey<Partial<MeshSettings>, MeshSettings>;
type HardifKey = SettingKey<Partial<HardIfSettings>, HardInterface>;

function one(args: readonly string[], key: string): string {
  if (args.length !== 1) throw new SettingSyntaxError(`${key} takes one value (got ${args.length})`);
  return args[0]!;
}

const TRUE = new Set(['1', 'enable', 'enabled', 'on', 'true', 'yes']);
const FALSE = new Set(['0', 'disable', 'disabled', 'off', 'false', 'no']);

export function parseBool(v: string, key: string): boolean {
  const s = v.toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw new SettingSyntaxError(`${key} must be enable or disable (or 1/0), got '${v}'`);
}

export function parseUint(v: string, key: string, max = 0xffffffff): number {
  const n = /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n > max) throw new SettingSyntaxError(`${key} must be a whole number from 0 to ${max}, got '${v}'`);
  return n;
}

/** "10000", "10000kbit", "10mbit", "1.5mbit", "1gbit" -> kbit/s. */
export function parseKbps(v: string, key: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(kbit|mbit|gbit)?(?:\/s)?$/i.exec(v.trim());
  if (!m) throw new SettingSyntaxError(`${key}: '${v}' is not a bandwidth (e.g. 10000 for kbit/s, or 10mbit)`);
  const scale = { kbit: 1, mbit: 1000, gbit: 1_000_000 }[(m[2] ?? 'kbit').toLowerCase() as 'kbit'];
  const kbps = Math.round(Number(m[1]) * scale);
  if (!Number.isSafeInteger(kbps)) throw new SettingSyntaxError(`${key}: '${v}' is too large`);
  return kbps;
}

/** "DOWN[/UP]" like batctl: UP defaults to a fifth of DOWN. */
export function parseBandwidthPair(v: string, key: string): { down: number; up: number } {
  const [d, u, extra] = v.split('/');
  if (extra !== undefined || !d) throw new SettingSyntaxError(`${key} is DOWN[/UP], got '${v}'`);
  const down = parseKbps(d, key);
  return { down, up: u === undefined ? Math.floor(down / 5 / 100) * 100 : parseKbps(u, key) };
}

const onOff = (b: boolean) => (b ? 'enabled' : 'disabled');
const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

function boolKey(name: string, aliases: string[], field: keyof MeshSettings & string): MeshKey {
  return {
    name,
    aliases,
    syntax: 'enable|disable',
    parse: (a) => ({ [field]: parseBool(one(a, name), name) }),
    show: (s) => onOff(s[field] as boolean),
  };
}

function uintKey(name: string, aliases: string[], field: keyof MeshSettings & string, max: number, unit = ''): MeshKey {
  return {
    name,
    aliases,
    syntax: `0..${max}${unit ? ` (${unit})` : ''}`,
    parse: (a) => ({ [field]: parseUint(one(a, name), name, max) }),
    show: (s) => `${s[field] as number}`,
  };
}

const GW_BANDWIDTH: MeshKey = {
  name: 'gw_bandwidth',
  aliases: [],
  syntax: 'DOWN[/UP] (kbit/s, or with unit: 10mbit/2mbit)',
  parse: (a) => {
    const { down, up } = parseBandwidthPair(one(a, 'gw_bandwidth'), 'gw_bandwidth');
    return { gwBandwidthDownKbps: down, gwBandwidthUpKbps: up };
  },
  show: (s) => `${s.gwBandwidthDownKbps}/${s.gwBandwidthUpKbps} kbit/s (${bandwidth(s.gwBandwidthDownKbps, s.gwBandwidthUpKbps)})`,
};

export const MESH_SETTING_KEYS: readonly MeshKey[] = [
  boolKey('aggregation', ['ag'], 'aggregatedOgms'),
  boolKey('ap_isolation', ['ap'], 'apIsolation'),
  boolKey('bonding', ['b'], 'bonding'),
  boolKey('bridge_loop_avoidance', ['bl'], 'bridgeLoopAvoidance'),
  boolKey('distributed_arp_table', ['dat'], 'distributedArpTable'),
  boolKey('fragmentation', ['f'], 'fragmentation'),
  {
    name: 'gw_mode',
    aliases: ['gw'],
    syntax: 'off | client [SEL_CLASS] | server [DOWN[/UP]]',
    parse: (a) => {
      const [mode, arg, extra] = a;
      if (mode !== 'off' && mode !== 'client' && mode !== 'server') throw new SettingSyntaxError(`gw_mode must be off, client or server, got '${mode ?? ''}'`);
      if (extra !== undefined || (mode === 'off' && arg !== undefined)) throw new SettingSyntaxError(`too many values for gw_mode ${mode}`);
      if (arg === undefined) return { gwMode: mode };
      if (mode === 'client') return { gwMode: mode, gwSelClass: parseUint(arg, 'gw_mode client SEL_CLASS') };
      const { down, up } = parseBandwidthPair(arg, 'gw_mode server');
      return { gwMode: mode, gwBandwidthDownKbps: down, gwBandwidthUpKbps: up };
    },
    show: (s) => s.gwMode,
  },
  GW_BANDWIDTH,
  uintKey('gw_sel_class', [], 'gwSelClass', 0xffffffff),
  uintKey('hop_penalty', ['hp'], 'hopPenalty', 255),
  {
    name: 'isolation_mark',
    aliases: ['mark'],
    syntax: 'VALUE[/MASK] (e.g. 0x10/0xff)',
    parse: (a) => {
      const [value, mask, extra] = one(a, 'isolation_mark').split('/');
      if (extra !== undefined || !value) throw new SettingSyntaxError(`isolation_mark is VALUE[/MASK]`);
      return { isolationMark: parseUint(value, 'isolation_mark'), isolationMask: mask === undefined ? 0xffffffff : parseUint(mask, 'isolation_mark mask') };
    },
    show: (s) => `${hex32(s.isolationMark)}/${hex32(s.isolationMask)}`,
  },
  uintKey('loglevel', ['ll'], 'logLevel', 0xffffffff),
  boolKey('multicast_forceflood', ['mff'], 'multicastForceflood'),
  uintKey('multicast_fanout', ['mo'], 'multicastFanout', 0xffffffff),
  uintKey('orig_interval', ['it'], 'origIntervalMs', 0x7fffffff, 'ms'),
];

export const HARDIF_SETTING_KEYS: readonly HardifKey[] = [
  {
    name: 'hop_penalty',
    aliases: ['hp'],
    syntax: '0..255',
    parse: (a) => ({ hopPenalty: parseUint(one(a, 'hop_penalty'), 'hop_penalty', 255) }),
    show: (h) => `${h.hopPenalty}`,
  },
  {
    name: 'elp_interval',
    aliases: ['et'],
    syntax: 'ms (BATMAN_V)',
    parse: (a) => ({ elpIntervalMs: parseUint(one(a, 'elp_interval'), 'elp_interval') }),
    show: (h) => (h.elpIntervalMs === undefined ? 'n/a (not BATMAN_V)' : `${h.elpIntervalMs}`),
  },
  {
    name: 'throughput_override',
    aliases: ['to'],
    syntax: 'kbit/s or 10mbit, 0 = auto (BATMAN_V)',
    parse: (a) => ({ throughputOverrideKbps: parseKbps(one(a, 'throughput_override'), 'throughput_override') }),
    show: (h) => (h.throughputOverrideKbps === undefined ? 'n/a (not BATMAN_V)' : h.throughputOverrideKbps === 0 ? '0 (auto)' : `${h.throughputOverrideKbps} kbit/s`),
  },
];

export function findKey<K extends { name: string; aliases: readonly string[] }>(keys: readonly K[], name: string): K | undefined {
  return keys.find((k) => k.name === name || k.aliases.includes(name));
}
