// SET_MESH / SET_HARDIF as batman-adv applies them (net/batman-adv/netlink.c): a value that
// cannot be encoded in its netlink attribute is rejected before anything is written (INVALID);
// a value the kernel does not like is silently clamped or dropped, so callers must read back.
import { MeshError, type GatewayMode, type HardIfSettings, type MeshSettings, type RoutingAlgo } from '../driver.ts';

/** A node's mesh settings; gateway bandwidths are kept as batman-adv does, in 100 kbit/s. */
export type NodeSettings = MeshSettings;

const U8 = 0xff;
const U32 = 0xffffffff;
const INT_MAX = 0x7fffffff;
const BATADV_JITTER = 20;
/** BATADV_DBG_ALL: every debug log class. */
const DBG_ALL = 0xff;

const BOOLEAN_KEYS = [
  'aggregatedOgms',
  'apIsolation',
  'bonding',
  'bridgeLoopAvoidance',
  'distributedArpTable',
  'fragmentation',
  'multicastForceflood',
] as const;
const U32_KEYS = ['isolationMark', 'isolationMask', 'logLevel', 'multicastFanout', 'origIntervalMs', 'gwSelClass'] as const;
const KBPS_KEYS = ['gwBandwidthDownKbps', 'gwBandwidthUpKbps'] as const;
const ALL_KEYS = new Set<string>([...BOOLEAN_KEYS, ...U32_KEYS, ...KBPS_KEYS, 'gwMode', 'hopPenalty']);
const GW_MODES: GatewayMode[] = ['off', 'client', 'server'];

function invalid(msg: string): never {
  throw new MeshError('INVALID', msg, -22);
}

function isUint(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

/** Validates all of `changes`, then applies them to a copy of `current` and returns it. */
export function applyMeshChanges(current: NodeSettings, changes: unknown, algo: RoutingAlgo): NodeSettings {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) invalid('setMesh expects an object of settings');
  const c = changes as Record<string, unknown>;
  for (const [k, v] of Object.entries(c)) {
    if (!ALL_KEYS.has(k)) invalid(`unknown mesh setting '${k}'`);
    if (v === undefined) continue;
    if ((BOOLEAN_KEYS as readonly string[]).includes(k)) {
      if (typeof v !== 'boolean') invalid(`${k} must be a boolean, got ${JSON.stringify(v)}`);
    } else if ((U32_KEYS as readonly string[]).includes(k)) {
      if (!isUint(v, U32)) invalid(`${k} must be an integer in 0..${U32} (u32), got ${JSON.stringify(v)}`);
    } else if ((KBPS_KEYS as readonly string[]).includes(k)) {
      if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0 && Math.floor(v / 100) <= U32)) {
        invalid(`${k} must be a number of kbit/s in 0..${U32 * 100}, got ${JSON.stringify(v)}`);
      }
    } else if (k === 'hopPenalty') {
      if (!isUint(v, U8)) invalid(`hopPenalty must be an integer in 0..255 (u8), got ${JSON.stringify(v)}`);
    } else if (k === 'gwMode') {
      // The kernel takes a u8 and ignores values above 2; a number is accepted for that reason.
      if (!(GW_MODES as unknown[]).includes(v) && !isUint(v, U8)) invalid(`gwMode must be off, client or server, got ${JSON.stringify(v)}`);
    }
  }
  const next: NodeSettings = { ...current };
  for (const k of BOOLEAN_KEYS) if (c[k] !== undefined) next[k] = c[k] as boolean;
  for (const k of KBPS_KEYS) if (c[k] !== undefined) next[k] = Math.floor((c[k] as number) / 100) * 100;
  if (c.gwMode !== undefined) {
    const m = typeof c.gwMode === 'number' ? GW_MODES[c.gwMode] : (c.gwMode as GatewayMode);
    if (m !== undefined) next.gwMode = m; // gw_mode > 2: ignored
  }
  if (c.gwSelClass !== undefined) {
    const v = c.gwSelClass as number;
    // BATMAN_IV's selection class is a TQ difference (max 255); BATMAN_V's a throughput (u32).
    const max = algo === 'BATMAN_IV' ? U8 : U32;
    if (v >= 1 && v <= max) next.gwSelClass = v;
  }
  if (c.hopPenalty !== undefined) next.hopPenalty = c.hopPenalty as number;
  if (c.isolationMark !== undefined) next.isolationMark = c.isolationMark as number;
  if (c.isolationMask !== undefined) next.isolationMask = c.isolationMask as number;
  if (c.logLevel !== undefined) next.logLevel = (c.logLevel as number) & DBG_ALL;
  if (c.multicastFanout !== undefined) next.multicastFanout = c.multicastFanout as number;
  if (c.origIntervalMs !== undefined) next.origIntervalMs = Math.max(Math.min(c.origIntervalMs as number, INT_MAX), 2 * BATADV_JITTER);
  return next;
}

export interface HardIfValues {
  hopPenalty: number;
  elpIntervalMs: number;
  /** 100 kbit/s units, 0 = automatic. */
  throughputOverrideUnits: number;
}

const HARDIF_KEYS = new Set(['hopPenalty', 'elpIntervalMs', 'throughputOverrideKbps']);

/** SET_HARDIF: hop_penalty (u8), elp_interval (clamped >= BATADV_JITTER), throughput_override (100 kbit/s). */
export function applyHardIfChanges(current: HardIfValues, changes: unknown): HardIfValues {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) invalid('setHardIf expects an object of settings');
  const c = changes as Partial<Record<keyof HardIfSettings, unknown>>;
  for (const [k, v] of Object.entries(c)) {
    if (!HARDIF_KEYS.has(k)) invalid(`unknown hard-interface setting '${k}'`);
    if (v === undefined) continue;
    if (k === 'hopPenalty' && !isUint(v, U8)) invalid(`hopPenalty must be an integer in 0..255 (u8), got ${JSON.stringify(v)}`);
    if (k === 'elpIntervalMs' && !isUint(v, U32)) invalid(`elpIntervalMs must be an integer in 0..${U32} (u32), got ${JSON.stringify(v)}`);
    if (k === 'throughputOverrideKbps' && !(typeof v === 'number' && Number.isFinite(v) && v >= 0 && Math.floor(v / 100) <= U32)) {
      invalid(`throughputOverrideKbps must be a number of kbit/s in 0..${U32 * 100}, got ${JSON.stringify(v)}`);
    }
  }
  const next = { ...current };
  if (c.hopPenalty !== undefined) next.hopPenalty = c.hopPenalty as number;
  if (c.elpIntervalMs !== undefined) next.elpIntervalMs = Math.max(Math.min(c.elpIntervalMs as number, INT_MAX), BATADV_JITTER);
  if (c.throughputOverrideKbps !== undefined) next.throughputOverrideUnits = Math.floor((c.throughputOverrideKbps as number) / 100);
  return next;
}
