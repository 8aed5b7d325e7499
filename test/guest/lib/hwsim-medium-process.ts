// The test-bed radio medium (hwsim-medium.ts) in a process of its own, and the client that
// drives it. hwsim hands every frame to the medium and waits for its verdict: in a process that
// also runs execFileSync (the benches do, a lot), each blocking call would hold every frame of
// every radio. Here the event loop only carries frames, commands and ramp timers.
//
// Run as `node --import tsx test/guest/lib/hwsim-medium-process.ts MAC...` (or call
// serveHwsimMedium from a bundle's own role), from the namespace the radios were created in.
// stdin: one JSON command per line, each with an `id`; stdout: one JSON reply per command
// ({id, ok, atMs, ...}), first {ready: true} once registered with hwsim.
//   {"id":1,"cmd":"set","a":MAC,"b":MAC,"loss":0.1,"signalDbm":-70}   both directions, at once
//   {"id":2,"cmd":"ramp","a":MAC,"b":MAC,"from":{loss,signalDbm},"to":{loss,signalDbm},"seconds":20}
//       linear from `from` to `to`, both directions, stepped here every RAMP_STEP_MS; then stays at `to`
//   {"id":3,"cmd":"stats"}   frame counters and every pair's current state
// A set or ramp on a pair ends a ramp running on it. stdin closed: the medium closes and the process exits.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { HwsimMedium, type MediumStats, type PathState } from './hwsim-medium.ts';

/** A ramp's step: fine enough that a 20 s fade is 200 small steps, as a real fade is gradual. */
export const RAMP_STEP_MS = 100;

export type MediumCommand =
  | { cmd: 'set'; a: string; b: string; loss: number; signalDbm: number }
  | { cmd: 'ramp'; a: string; b: string; from: PathState; to: PathState; seconds: number }
  | { cmd: 'stats' };

export interface PairReport { a: string; b: string; loss: number; signalDbm: number; ramping: boolean }
export interface MediumReply {
  id: number;
  ok: boolean;
  /** When the medium applied the command (a ramp: when it started). */
  atMs: number;
  error?: string;
  stats?: MediumStats;
  pairs?: PairReport[];
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function checkState(s: PathState | undefined, what: string): PathState {
  if (!s || !(s.loss >= 0 && s.loss <= 1) || !Number.isFinite(s.signalDbm)) throw new Error(`${what}: need loss 0..1 and a signalDbm`);
  return { loss: s.loss, signalDbm: Math.round(s.signalDbm) };
}

/** Starts the medium for these radios and serves commands until stdin closes. */
export async function serveHwsimMedium(macs: string[], input: Readable = process.stdin, output: Writable = process.stdout): Promise<void> {
  const radios = macs.map((m) => m.toLowerCase());
  if (radios.length < 2 || !radios.every((m) => MAC.test(m))) throw new Error(`hwsim medium: need two or more radio MACs, got ${JSON.stringify(macs)}`);
  const medium = await HwsimMedium.start(radios);
  const pairs = new Map<string, PairReport>();
  const ramps = new Map<string, NodeJS.Timeout>();
  const key = (a: string, b: string) => [a, b].sort().join('|');
  const apply = (a: string, b: string, s: PathState, ramping: boolean) => {
    medium.link(a, b, s);
    pairs.set(key(a, b), { a, b, ...s, ramping });
  };
  const stopRamp = (k: string) => {
    clearInterval(ramps.get(k));
    ramps.delete(k);
  };
  const reply = (r: MediumReply) => output.write(`${JSON.stringify(r)}\n`);

  const handle = (c: MediumCommand & { id: number }): MediumReply => {
    const atMs = Date.now();
    if (c.cmd === 'stats') return { id: c.id, ok: true, atMs, stats: { ...medium.stats }, pairs: [...pairs.values()] };
    const a = String(c.a).toLowerCase();
    const b = String(c.b).toLowerCase();
    if (a === b || !radios.includes(a) || !radios.includes(b)) throw new Error(`unknown pair ${c.a}–${c.b}`);
    const k = key(a, b);
    stopRamp(k);
    if (c.cmd === 'set') {
      apply(a, b, checkState(c, 'set'), false);
    } else if (c.cmd === 'ramp') {
      const from = checkState(c.from, 'ramp from');
      const to = checkState(c.to, 'ramp to');
      const ms = Number(c.seconds) * 1000;
      if (!(ms > 0)) throw new Error('ramp: seconds must be > 0');
      apply(a, b, from, true);
      // Stepped on the clock, not by counting ticks: a late timer does not stretch the ramp.
      ramps.set(k, setInterval(() => {
        const f = Math.min(1, (Date.now() - atMs) / ms);
        apply(a, b, { loss: from.loss + (to.loss - from.loss) * f, signalDbm: Math.round(from.signalDbm + (to.signalDbm - from.signalDbm) * f) }, f < 1);
        if (f >= 1) stopRamp(k);
      }, RAMP_STEP_MS));
    } else throw new Error(`unknown command ${JSON.stringify((c as { cmd: unknown }).cmd)}`);
    return { id: c.id, ok: true, atMs };
  };

  output.write(`${JSON.stringify({ ready: true, radios })}\n`);
  const lines = createInterface({ input });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let id = -1;
    try {
      const c = JSON.parse(line) as MediumCommand & { id: number };
      id = Number(c.id);
      reply(handle(c));
    } catch (e) {
      reply({ id, ok: false, atMs: Date.now(), error: (e as Error).message });
    }
  }
  for (const k of [...ramps.keys()]) stopRamp(k);
  await medium.close();
}

/** Spawns the medium process and sends it commands; each call resolves with the medium's reply. */
export class HwsimMediumClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: MediumReply) => void; reject: (e: Error) => void }>();
  /** Set once the process has exited: every later command fails with it. */
  private dead: Error | null = null;
  readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.dead = new Error(`hwsim medium process exited (${signal ?? code})`);
        for (const p of this.pending.values()) p.reject(this.dead);
        this.pending.clear();
        resolve();
      });
    });
  }

  /**
   * Starts the medium for these radio MACs. `command`: how to start a process that runs
   * serveHwsimMedium (default: this file under tsx); the MACs follow as arguments.
   */
  static async start(macs: string[], opts: { command?: string[]; env?: NodeJS.ProcessEnv; readyTimeoutMs?: number } = {}): Promise<HwsimMediumClient> {
    const command = opts.command ?? [process.execPath, '--import', 'tsx', new URL(import.meta.url).pathname];
    // stderr straight through: the medium's complaints must not wait for this process's event loop.
    const child = spawn(command[0]!, [...command.slice(1), ...macs], { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'inherit'] });
    const client = new HwsimMediumClient(child);
    const lines = createInterface({ input: child.stdout });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('hwsim medium process: not ready in time')), opts.readyTimeoutMs ?? 60_000);
      child.on('error', reject);
      void client.exited.then(() => reject(client.dead));
      lines.on('line', (line) => {
        let r: (MediumReply & { ready?: boolean }) | undefined;
        try {
          r = JSON.parse(line) as MediumReply & { ready?: boolean };
        } catch {
          return; // not ours
        }
        if (r.ready) {
          clearTimeout(timer);
          resolve();
          return;
        }
        const p = client.pending.get(r.id);
        if (!p) return;
        client.pending.delete(r.id);
        if (r.ok) p.resolve(r);
        else p.reject(new Error(`hwsim medium: ${r.error}`));
      });
    }).catch((e: Error) => {
      child.kill('SIGKILL');
      throw e;
    });
    return client;
  }

  private send(c: MediumCommand): Promise<MediumReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ ...c, id })}\n`);
    });
  }

  /** Both directions between two radios, at once. */
  set(a: string, b: string, s: PathState): Promise<MediumReply> {
    return this.send({ cmd: 'set', a, b, loss: s.loss, signalDbm: s.signalDbm });
  }

  /** Both directions from `from` to `to` over `seconds`, stepped inside the medium process. */
  ramp(a: string, b: string, from: PathState, to: PathState, seconds: number): Promise<MediumReply> {
    return this.send({ cmd: 'ramp', a, b, from, to, seconds });
  }

  async stats(): Promise<{ stats: MediumStats; pairs: PairReport[] }> {
    const r = await this.send({ cmd: 'stats' });
    return { stats: r.stats!, pairs: r.pairs! };
  }

  /** Closes stdin (the medium unregisters and the process exits); kills it if it does not. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.dead) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

// Run directly (not when bundled into another script, whose file has another name).
if (/hwsim-medium-process\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) {
  await serveHwsimMedium(process.argv.slice(2));
  process.exit(0);
}
