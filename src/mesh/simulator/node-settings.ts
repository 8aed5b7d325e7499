// SET_MESH / SET_HARDIF as a caller of the batman-adv driver sees them. A value the real driver
// refuses before sending (src/mesh/batman/from-model.ts: not representable in the kernel's units,
// below the kernel's minimum, not a name it knows, an empty change) is refused here the same way
// (INVALID, nothing written), so that code tested on the simulator behaves the same on a router.
// What the kernel itself silently drops or masks is dropped or masked, so callers must read back.
import { MeshError, type GatewayMode, type HardIfSettings, type MeshSettings, type RoutingAlgo } from '../driver.ts';

/** A node's mesh settings, in the driver's units. */
export type NodeSettings = MeshSettings;

const U8 = 0xff;
const U32 = 0xffffffff;
const INT_MAX = 0x7fffffff;
const BATADV_JITTER = 20;
/** batman-adv clamps orig_interval below 2 * BATADV_JITTER; the real driver refuses it. */
const MIN_ORIG_INTERVAL_MS = 2 * BATADV_JITTER;
/** batman-adv's bandwidth and throughput unit. */
const KBPS_UNIT = 100;
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
const U32_KEYS = ['isolationMark', 'isolationMask', 'logLevel', 'multicastFanout'] as const;
const KBPS_KEYS = ['gwBandwidthDownKbps', 'gwBandwidthUpKbps'] as const;
const ALL_KEYS = new Set<string>([...BOOLEAN_KEYS, ...U32_KEYS, ...KBPS_KEYS, 'gwMode', 'gwSelClass', 'hopPenalty', 'origIntervalMs']);
const GW_MODES: GatewayMode[] = ['off', 'client', 'server'];

function invalid(msg: string): never {
  throw new MeshError('INVALID', msg, -22);
}

function checkInt(key: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    invalid(`${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
}

/** kbit/s: only whole 100 kbit/s units can be represented in batman-adv's attributes. */
function checkKbps(key: string, v: unknown): void {
  checkInt(key, v, 0, U32 * KBPS_UNIT);
  if ((v as number) % KBPS_UNIT !== 0) invalid(`${key} must be a multiple of ${KBPS_UNIT} kbit/s, batman-adv's unit, got ${JSON.stringify(v)}`);
}

function checkObject(changes: unknown, what: string, allowEmpty: boolean): Record<string, unknown> {
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) invalid(`${what} expects an object of settings`);
  const c = changes as Record<string, unknown>;
  if (!allowEmpty && Object.values(c).every((v) => v === undefined)) invalid(`${what}: no setting to change`);
  return c;
}

/**
 * Validates all of `changes`, then applies them to a copy of `current` and returns it.
 * `allowEmpty` is for a world's initial settings, where "nothing to change" is normal.
 */
export function applyMeshChanges(current: NodeSettings, changes: unknown, algo: RoutingAlgo, allowEmpty = false): NodeSettings {
  const c = checkObject(changes, 'setMesh', allowEmpty);
  for (const [k, v] of Object.entries(c)) {
    if (!ALL_KEYS.has(k)) invalid(`unknown mesh setting '${k}'`);
    if (v === undefined) continue;
    if ((BOOLEAN_KEYS as readonly string[]).includes(k)) {
      if (typeof v !== 'boolean') invalid(`${k} must be true or false, got ${JSON.stringify(v)}`);
    } else if ((U32_KEYS as readonly string[]).includes(k)) checkInt(k, v, 0, U32);
    else if ((KBPS_KEYS as readonly string[]).includes(k)) checkKbps(k, v);
    else if (k === 'hopPenalty') checkInt(k, v, 0, U8);
    else if (k === 'gwSelClass') checkInt(k, v, 1, U32);
    else if (k === 'origIntervalMs') checkInt(k, v, MIN_ORIG_INTERVAL_MS, INT_MAX);
    else if (k === 'gwMode' && !(GW_MODES as unknown[]).includes(v)) invalid(`gwMode must be one of ${GW_MODES.join(', ')}, got ${JSON.stringify(v)}`);
  }
  const next: NodeSettings = { ...current };
  for (const k of BOOLEAN_KEYS) if (c[k] !== undefined) next[k] = c[k] as boolean;
  for (const k of KBPS_KEYS) if (c[k] !== undefined) next[k] = c[k] as number;
  if (c.gwMode !== undefined) next.gwMode = c.gwMode as GatewayMode;
  if (c.gwSelClass !== undefined) {
    // BATMAN_IV's selection class is a TQ difference (max 255; the kernel drops more); BATMAN_V's a throughput.
    const v = c.gwSelClass as number;
    if (algo !== 'BATMAN_IV' || v <= U8) next.gwSelClass = v;
  }
  if (c.hopPenalty !== undefined) next.hopPenalty = c.hopPenalty as number;
  if (c.isolationMark !== undefined) next.isolationMark = c.isolationMark as number;
  if (c.isolationMask !== undefined) next.isolationMask = c.isolationMask as number;
  if (c.logLevel !== undefined) next.logLevel = (c.logLevel as number) & DBG_ALL;
  if (c.multicastFanout !== undefined) next.multicastFanout = c.multicastFanout as number;
  if (c.origIntervalMs !== undefined) next.origIntervalMs = c.origIntervalMs as number;
  return next;
}

export interface HardIfValues {
  hopPenalty: number;
  elpIntervalMs: number;
  /** 100 kbit/s units, 0 = automatic. */
  throughputOverrideUnits: number;
}

const HARDIF_KEYS = new Set(['hopPenalty', 'elpIntervalMs', 'throughputOverrideKbps']);

/** SET_HARDIF: hop_penalty (u8), elp_interval (the kernel keeps >= BATADV_JITTER), throughput_override (100 kbit/s). */
export function applyHardIfChanges(current: HardIfValues, changes: unknown): HardIfValues {
  const c = checkObject(changes, 'setHardIf', false) as Partial<Record<keyof HardIfSettings, unknown>>;
  for (const [k, v] of Object.entries(c)) {
    if (!HARDIF_KEYS.has(k)) invalid(`unknown hard-interface setting '${k}'`);
    if (v === undefined) continue;
    if (k === 'hopPenalty') checkInt(k, v, 0, U8);
    else if (k === 'elpIntervalMs') checkInt(k, v, 1, U32);
    else checkKbps(k, v);
  }
  const next = { ...current };
  if (c.hopPenalty !== undefined) next.hopPenalty = c.hopPenalty as number;
  if (c.elpIntervalMs !== undefined) next.elpIntervalMs = Math.max(Math.min(c.elpIntervalMs as number, INT_MAX), BATADV_JITTER);
  if (c.throughputOverrideKbps !== undefined) next.throughputOverrideUnits = (c.throughputOverrideKbps as number) / KBPS_UNIT;
  return next;
}
