// RSS and CPU time of another process from /proc (Linux): how the bench sees the exporter,
// the broker and Prometheus from outside.
import { readFileSync } from 'node:fs';

const TICK_S = 1 / 100; // USER_HZ

export function rssMb(pid: number | undefined | null): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** User + system CPU seconds used so far. */
export function cpuS(pid: number | undefined | null): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_S;
  } catch {
    return NaN;
  }
}

/** Samples each pid's RSS every second; max() gives the peak seen. */
export class RssSampler {
  private readonly peak = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pids: Record<string, number | undefined | null>) {
    this.timer = setInterval(() => this.sample(), 1000);
    this.sample();
  }
  sample(): void {
    for (const [k, pid] of Object.entries(this.pids)) {
      const v = rssMb(pid);
      if (Number.isFinite(v)) this.peak.set(k, Math.max(this.peak.get(k) ?? 0, v));
    }
  }
  max(k: string): number {
    return this.peak.get(k) ?? NaN;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}
