// Runs one measured agent (the shipped bundle under plain node, with the node flags under test)
// and samples its memory from /proc once it answers /health.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fetchStatus } from '../../src/status/client.ts';
import { mallocHeapKb, sampleMemory, type MemorySample } from './smaps.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunningAgent {
  proc: ChildProcess;
  socket: string;
  output: () => string;
  /** The last full-GC line the agent printed (node --trace-gc), or '' */
  lastFullGc: () => string;
  stop(): Promise<void>;
}

export async function startAgent(bundle: string, nodeFlags: string[], dir: string, config: string): Promise<RunningAgent> {
  const proc = spawn(process.execPath, [...nodeFlags, bundle, 'agent', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let fullGc = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-4000);
    // Scavenges print many lines a second: keep the last full GC apart from the tail.
    for (const line of out.split('\n')) if (line.includes('Mark-Compact')) fullGc = line;
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const socket = join(dir, 'status.sock');
  const agent: RunningAgent = {
    proc,
    socket,
    output: () => out,
    lastFullGc: () => fullGc,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}:\n${out}`);
    try {
      await fetchStatus(socket, '/health', 2000);
      return agent;
    } catch (e) {
      if (Date.now() > deadline) {
        await agent.stop();
        throw new Error(`agent did not answer /health within 60 s: ${(e as Error).message}\n${out}`);
      }
      await sleep(250);
    }
  }
}

export interface Measured {
  /** The sample with the median anonymous size: one GC more or less must not decide a row. */
  last: MemorySample;
  peakAnonymousKb: number;
  /** malloc's main arena at the median sample (the rest of `last.anonymousKb` is mostly V8's heap). */
  mallocKb: number;
  /** From the agent's last full GC line when it runs with --trace-gc: live V8 heap after it, and committed. */
  gc: { liveMb: number; committedMb: number } | null;
  healthMs: number[];
}

// node --trace-gc: "... Mark-Compact 9.8 (12.1) -> 9.5 (11.3) MB, ..." (sizes before and after, committed in brackets).
const FULL_GC = /Mark-Compact(?: \([a-z ]+\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/g;
function lastFullGc(output: string): Measured['gc'] {
  const all = [...output.matchAll(FULL_GC)];
  const m = all.at(-1);
  return m ? { liveMb: Number(m[1]), committedMb: Number(m[2]) } : null;
}

/** Samples memory and /health latency once a second for `windowS` seconds. */
export async function measure(agent: RunningAgent, windowS: number): Promise<Measured> {
  const pid = agent.proc.pid!;
  const sample = () => ({ ...sampleMemory(pid), mallocKb: mallocHeapKb(pid) });
  const samples = [sample()];
  const healthMs: number[] = [];
  for (let i = 0; i < windowS; i++) {
    const t0 = performance.now();
    await fetchStatus(agent.socket, '/health', 10_000);
    healthMs.push(performance.now() - t0);
    await sleep(1000);
    samples.push(sample());
  }
  const sorted = [...samples].sort((a, b) => a.anonymousKb - b.anonymousKb);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return { last: median, peakAnonymousKb: sorted.at(-1)!.anonymousKb, mallocKb: median.mallocKb, gc: lastFullGc(agent.lastFullGc()), healthMs };
}
