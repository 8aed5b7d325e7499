// What the loop reads from the router itself: interface packet counters and the time since boot.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { CounterReader } from './monitor.ts';

/** /sys/class/net/<if>/statistics/{rx,tx}_packets; null when the interface or its counters are missing. */
export const sysCounters: CounterReader = async (ifname) => {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) return null;
  try {
    const base = `/sys/class/net/${ifname}/statistics`;
    const [rx, tx] = await Promise.all([readFile(`${base}/rx_packets`, 'utf8'), readFile(`${base}/tx_packets`, 'utf8')]);
    const rxPackets = Number(rx.trim());
    const txPackets = Number(tx.trim());
    return Number.isFinite(rxPackets) && Number.isFinite(txPackets) ? { rxPackets, txPackets } : null;
  } catch {
    return null;
  }
};

/** Milliseconds since boot from /proc/uptime, or null when unreadable (the caller then counts from its own start). */
export function systemUptimeMs(): number | null {
  try {
    const s = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Number.isFinite(s) ? s * 1000 : null;
  } catch {
    return null;
  }
}
