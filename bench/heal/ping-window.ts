// The heal benches' measure: a 10/s ping n1 → n4 over bat0 from inside n1's namespace, with the
// fault set off part-way; heal is the longest run of unanswered pings from the fault on, lost
// all of them (s).
import { spawn } from 'node:child_process';

export const PING_INTERVAL_S = 0.1;

export interface PingWindow { lostRunS: number; lostS: number; answered: number; sent: number }

/**
 * Pings `to` for durationMs with `enter` (the command that puts ping in the node's network
 * namespace) in front, calls fault at faultAtMs.
 */
export function pingWindow(enter: string[], to: string, durationMs: number, faultAtMs: number, fault: () => void): Promise<PingWindow> {
  return new Promise((resolve) => {
    const count = Math.round(durationMs / 1000 / PING_INTERVAL_S);
    const p = spawn(enter[0]!, [...enter.slice(1), 'ping', '-n', '-i', String(PING_INTERVAL_S), '-c', String(count), '-W', '1', to]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(fault, faultAtMs);
    p.on('close', () => {
      clearTimeout(timer);
      const ok = new Set<number>();
      for (const m of out.matchAll(/icmp_seq=(\d+)/g)) ok.add(Number(m[1]));
      const faultSeq = Math.floor(faultAtMs / 1000 / PING_INTERVAL_S);
      let run = 0;
      let worst = 0;
      let lost = 0;
      for (let s = faultSeq; s <= count; s++) {
        if (ok.has(s)) run = 0;
        else {
          run++;
          lost++;
          worst = Math.max(worst, run);
        }
      }
      const seconds = (n: number) => Math.round(n * PING_INTERVAL_S * 10) / 10;
      resolve({ lostRunS: seconds(worst), lostS: seconds(lost), answered: ok.size, sent: count });
    });
  });
}
