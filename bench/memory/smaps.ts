// A process's memory from /proc/PID/smaps_rollup (Linux 4.14+). "Private" here is the
// `Anonymous:` total: the JS heap, malloc arenas, WASM memory and every other page that is the
// process's own. The node binary's and libraries' clean file pages are left out on purpose: they
// are shared and the kernel can drop and re-read them, so they are not what an agent costs.
import { readFileSync } from 'node:fs';

export interface MemorySample {
  rssKb: number;
  anonymousKb: number;
  privateDirtyKb: number;
  swapKb: number;
}

export function parseSmapsRollup(text: string): MemorySample {
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`smaps_rollup has no ${name} line`);
    return Number(m[1]);
  };
  return { rssKb: field('Rss'), anonymousKb: field('Anonymous'), privateDirtyKb: field('Private_Dirty'), swapKb: field('Swap') };
}

export function sampleMemory(pid: number): MemorySample {
  return parseSmapsRollup(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
}

/**
 * The anonymous pages of malloc's main arena (the `[heap]` mapping of /proc/PID/smaps): native
 * allocations (OpenSSL, libuv, ICU, zlib, Buffer backing stores). The rest of the anonymous total
 * is mostly V8's own heap pages (256 KB mappings), thread stacks and WASM memory.
 */
export function mallocHeapKb(pid: number): number {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const at = text.search(/ \[heap\]\n/);
  if (at < 0) return 0;
  const m = /^Anonymous:\s+(\d+) kB/m.exec(text.slice(at));
  return m ? Number(m[1]) : 0;
}

export const mb = (kb: number): number => Math.round((kb / 1024) * 10) / 10;
