// The agent's setting changes (kbit/s, ms, names) -> batman-adv SET_* attributes, validated
// before anything is sent: the kernel drops invalid values silently, so a bad value must be
// refused here with a reason instead.
import type { BatadvHardifChanges, BatadvMeshChanges } from '../../netlink/batadv-protocol.ts';
import { MeshError, type HardIfSettings, type MeshSettings } from '../driver.ts';
import { GW_MODES, KBPS_PER_BATADV_UNIT } from './to-model.ts';

const U32_MAX = 0xffffffff;
const INT_MAX = 0x7fffffff;
/** batman-adv clamps orig_interval below 2 * BATADV_JITTER (20 ms). */
export const MIN_ORIG_INTERVAL_MS = 40;

function invalid(msg: string): MeshError {
  return new MeshError('INVALID', msg);
}

function bool(key: string, v: unknown): number {
  if (typeof v !== 'boolean') throw invalid(`${key} must be true or false (got ${String(v)})`);
  return v ? 1 : 0;
}

function int(key: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalid(`${key} must be an integer from ${min} to ${max} (got ${String(v)})`);
  return v;
}

/** kbit/s -> batman-adv's 100 kbit/s units; only whole units can be represented. */
function kbps(key: string, v: unknown): number {
  const n = int(key, v, 0, U32_MAX * KBPS_PER_BATADV_UNIT);
  if (n % KBPS_PER_BATADV_UNIT !== 0) throw invalid(`${key} must be a multiple of ${KBPS_PER_BATADV_UNIT} kbit/s, batman-adv's unit (got ${n})`);
  return n / KBPS_PER_BATADV_UNIT;
}

type Converter<C> = (v: unknown, key: string) => Partial<C>;

const MESH: { [K in keyof MeshSettings]-?: Converter<BatadvMeshChanges> } = {
  aggregatedOgms: (v, k) => ({ aggregatedOgmsEnabled: bool(k, v) }),
  apIsolation: (v, k) => ({ apIsolationEnabled: bool(k, v) }),
  bonding: (v, k) => ({ bondingEnabled: bool(k, v) }),
  bridgeLoopAvoidance: (v, k) => ({ bridgeLoopAvoidanceEnabled: bool(k, v) }),
  distributedArpTable: (v, k) => ({ distributedArpTableEnabled: bool(k, v) }),
  fragmentation: (v, k) => ({ fragmentationEnabled: bool(k, v) }),
  gwMode: (v, k) => {
    const i = GW_MODES.indexOf(v as never);
    if (i < 0) throw invalid(`${k} must be one of ${GW_MODES.join(', ')} (got ${String(v)})`);
    return { gwMode: i };
  },
  gwBandwidthDownKbps: (v, k) => ({ gwBandwidthDown: kbps(k, v) }),
  gwBandwidthUpKbps: (v, k) => ({ gwBandwidthUp: kbps(k, v) }),
  gwSelClass: (v, k) => ({ gwSelClass: int(k, v, 1, U32_MAX) }),
  hopPenalty: (v, k) => ({ hopPenalty: int(k, v, 0, 255) }),
  isolationMark: (v, k) => ({ isolationMark: int(k, v, 0, U32_MAX) }),
  isolationMask: (v, k) => ({ isolationMask: int(k, v, 0, U32_MAX) }),
  logLevel: (v, k) => ({ logLevel: int(k, v, 0, U32_MAX) }),
  multicastForceflood: (v, k) => ({ multicastForcefloodEnabled: bool(k, v) }),
  multicastFanout: (v, k) => ({ multicastFanout: int(k, v, 0, U32_MAX) }),
  origIntervalMs: (v, k) => ({ origInterval: int(k, v, MIN_ORIG_INTERVAL_MS, INT_MAX) }),
};

const HARDIF: { [K in keyof HardIfSettings]-?: Converter<BatadvHardifChanges> } = {
  hopPenalty: (v, k) => ({ hopPenalty: int(k, v, 0, 255) }),
  elpIntervalMs: (v, k) => ({ elpInterval: int(k, v, 1, U32_MAX) }),
  throughputOverrideKbps: (v, k) => ({ throughputOverride: kbps(k, v) }),
};

function convert<C>(table: Record<string, Converter<C>>, changes: object, what: string): C {
  const out: Partial<C> = {};
  let n = 0;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    const conv = Object.hasOwn(table, key) ? table[key] : undefined;
    if (!conv) throw invalid(`${what} has no setting '${key}'`);
    Object.assign(out, conv(value, key));
    n++;
  }
  if (n === 0) throw invalid(`no ${what} setting to change`);
  return out as C;
}

export function toMeshChanges(changes: Partial<MeshSettings>): BatadvMeshChanges {
  return convert(MESH, changes, 'mesh');
}

export function toHardifChanges(changes: Partial<HardIfSettings>): BatadvHardifChanges {
  return convert(HARDIF, changes, 'hard interface');
}
