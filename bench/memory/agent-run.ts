// Runs one measured agent (the shipped bundle under plain node, with the node flags under test)
// and samples its memory from /proc once it answers /health.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fetchStatus } from '../../src/status/client.ts';
import { sampleMemory, type MemorySample } from './smaps.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunningAgent {
  proc: ChildProcess;
  socket: string;
  output: () => string;
  stop(): Promise<void>;
}

export async function startAgent(bundle: string, nodeFlags: string[], dir: string, config: string): Promise<RunningAgent> {
  const proc = spawn(process.execPath, [...nodeFlags, bundle, 'agent', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-4000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const socket = join(dir, 'status.sock');
  const agent: RunningAgent = {
    proc,
    socket,
    output: () => out,
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
  healthMs: number[];
}

/** Samples memory and /health latency once a second for `windowS` seconds. */
export async function measure(agent: RunningAgent, windowS: number): Promise<Measured> {
  const samples = [sampleMemory(agent.proc.pid!)];
  const healthMs: number[] = [];
  for (let i = 0; i < windowS; i++) {
    const t0 = performance.now();
    await fetchStatus(agent.socket, '/health', 10_000);
    healthMs.push(performance.now() - t0);
    await sleep(1000);
    samples.push(sampleMemory(agent.proc.pid!));
  }
  const sorted = [...samples].sort((a, b) => a.anonymousKb - b.anonymousKb);
  return { last: sorted[Math.floor(sorted.length / 2)]!, peakAnonymousKb: sorted.at(-1)!.anonymousKb, healthMs };
}
