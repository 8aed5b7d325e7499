// What the loop reads from the router itself: interface packet counters and the time since boot.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { IfCounters } from './knowledge.ts';
import type { CounterReader } from './monitor.ts';

const ERROR_COUNTERS = [['rxErrors', 'rx_errors'], ['txErrors', 'tx_errors'], ['rxDropped', 'rx_dropped'], ['txDropped', 'tx_dropped']] as const;

/**
 * /sys/class/net/<if>/statistics: {rx,tx}_packets (null when the interface or they are missing)
 * and, where present, the error and drop counters.
 */
export const sysCounters: CounterReader = async (ifname) => {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) return null;
  const base = `/sys/class/net/${ifname}/statistics`;
  const read = (name: string): Promise<number> => readFile(`${base}/${name}`, 'utf8').then((t) => Number(t.trim()), () => NaN);
  const [rxPackets, txPackets, ...errors] = await Promise.all([read('rx_packets'), read('tx_packets'), ...ERROR_COUNTERS.map(([, f]) => read(f))]);
  if (!Number.isFinite(rxPackets) || !Number.isFinite(txPackets)) return null;
  const out: IfCounters = { rxPackets: rxPackets!, txPackets: txPackets! };
  // A counter a driver does not keep is left out, not read as 0.
  ERROR_COUNTERS.forEach(([key], i) => {
    if (Number.isFinite(errors[i])) out[key] = errors[i]!;
  });
  return out;
};

/** rx_packets and tx_packets only: the rx watch reads them ten times a second (rx-watch.ts). */
export async function sysPackets(ifname: string): Promise<{ rx: number; tx: number } | null> {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) return null;
  const read = (name: string): Promise<number> => readFile(`/sys/class/net/${ifname}/statistics/${name}`, 'utf8').then((t) => Number(t.trim()), () => NaN);
  const [rx, tx] = await Promise.all([read('rx_packets'), read('tx_packets')]);
  return Number.isFinite(rx) && Number.isFinite(tx) ? { rx, tx } : null;
}

/** Milliseconds since boot from /proc/uptime, or null when unreadable (the caller then counts from its own start). */
export function systemUptimeMs(): number | null {
  try {
    const s = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Number.isFinite(s) ? s * 1000 : null;
  } catch {
    return null;
  }
}
