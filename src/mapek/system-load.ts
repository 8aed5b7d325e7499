// Load and memory of the router, from /proc: context for the loop's findings (a radio that
// hangs while the CPU is pegged or memory is gone is a different story) and for /status.
import { readFile } from 'node:fs/promises';

export interface SystemLoad {
  /** /proc/loadavg: runnable tasks averaged over 1, 5 and 15 minutes. */
  load1: number;
  load5: number;
  load15: number;
  /** /proc/meminfo, kB. MemAvailable (kernels since 3.14), else MemFree + Buffers + Cached. */
  memTotalKb: number;
  memAvailableKb: number;
  /** When it was read (the loop's clock). */
  atMs: number;
}

export type SystemLoadReader = () => Promise<Omit<SystemLoad, 'atMs'> | null>;

/** Reads /proc/loadavg and /proc/meminfo; null when either is missing or unreadable. */
export function procLoadReader(root = '/proc'): SystemLoadReader {
  return async () => {
    try {
      const [loadavg, meminfo] = await Promise.all([readFile(`${root}/loadavg`, 'utf8'), readFile(`${root}/meminfo`, 'utf8')]);
      return parseProcLoad(loadavg, meminfo);
    } catch {
      return null;
    }
  };
}

/** Exported for tests: the two files' text to numbers; null when they do not read as expected. */
export function parseProcLoad(loadavg: string, meminfo: string): Omit<SystemLoad, 'atMs'> | null {
  const [l1, l5, l15] = loadavg.trim().split(/\s+/).map(Number);
  if (![l1, l5, l15].every((x) => Number.isFinite(x) && x! >= 0)) return null;
  const kb = new Map<string, number>();
  for (const line of meminfo.split('\n')) {
    const m = /^(\w+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]));
  }
  const total = kb.get('MemTotal');
  const available = kb.get('MemAvailable') ?? (kb.has('MemFree') ? kb.get('MemFree')! + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0) : undefined);
  if (!total || available === undefined) return null;
  return { load1: l1!, load5: l5!, load15: l15!, memTotalKb: total, memAvailableKb: Math.min(available, total) };
}
