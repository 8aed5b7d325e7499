// Test helper: runs one bridge binary (natively or under qemu-user) and reads its records
// with explicit byte checks. The receive timeout only guards against a hang; no test asserts
// on time.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const ARCHES = ['x64', 'ia32', 'arm64', 'arm', 'mipsel'] as const;
export type Arch = (typeof ARCHES)[number];

export const QEMU: Record<Arch, string | undefined> = {
  x64: undefined,
  ia32: 'qemu-i386-static',
  arm64: 'qemu-aarch64-static',
  arm: 'qemu-arm-static',
  mipsel: 'qemu-mipsel-static',
};

export function binaryPath(arch: Arch): string {
  return `${root}dist/native/x0tta6bl4-nlbridge-${arch}`;
}

let built = false;
/** Runs build:native once (incremental, so cheap after `npm test`'s pretest). */
export function ensureBuilt(): void {
  if (built) return;
  const r = spawnSync(process.execPath, [`${root}scripts/build-native.mjs`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-native failed:\n${r.stderr}`);
  for (const a of ARCHES) if (!existsSync(binaryPath(a))) throw new Error(`missing bridge binary for ${a}: ${r.stderr}`);
  built = true;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export interface Rec {
  kind: number;
  payload: Buffer;
}

export function record(kind: number, payload: Buffer, reserved = 0): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(payload.length, 0);
  h.writeUInt16LE(kind, 4);
  h.writeUInt16LE(reserved, 6);
  return Buffer.concat([h, payload]);
}

export class BridgeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exit: Promise<{ code: number | null; signal: string | null }>;
  stderr = '';
  private buf = Buffer.alloc(0);
  private queue: Rec[] = [];
  private wake: (() => void) | undefined;

  /** `cpu`: a qemu-user CPU model (`arm926`: ARMv5TE) instead of qemu's newest default. */
  constructor(arch: Arch, args: string[], opts: { netns?: string; cpu?: string } = {}) {
    const qemu = QEMU[arch];
    let cmd = qemu ?? binaryPath(arch);
    let argv = qemu ? [...(opts.cpu ? ['-cpu', opts.cpu] : []), binaryPath(arch), ...args] : args;
    if (opts.netns) {
      argv = ['netns', 'exec', opts.netns, cmd, ...argv];
      cmd = 'ip';
    }
    this.child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => {});
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdout.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 8) {
        const len = this.buf.readUInt32LE(0);
        if (this.buf.length < 8 + len) break;
        this.queue.push({ kind: this.buf.readUInt16LE(4), payload: Buffer.from(this.buf.subarray(8, 8 + len)) });
        this.buf = this.buf.subarray(8 + len);
      }
      this.wake?.();
    });
    this.exit = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
    void this.exit.then(() => this.wake?.());
  }

  write(b: Buffer): void {
    this.child.stdin.write(b);
  }

  send(kind: number, payload: Buffer): void {
    this.write(record(kind, payload));
  }

  /** Bytes on stdout not (yet) forming a record: must be 0 when a test ends cleanly. */
  get leftover(): number {
    return this.buf.length;
  }

  /** Next record, skipping none; rejects if the process ends first or nothing comes. */
  async next(guardMs = 30_000): Promise<Rec> {
    const deadline = Date.now() + guardMs;
    for (;;) {
      const r = this.queue.shift();
      if (r) return r;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`bridge exited (${this.child.exitCode ?? this.child.signalCode}) with no further record; stderr: ${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no record from the bridge (hang guard); stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Collects NL records until one holds a message of type `untilType` with `seq`. */
  async collectUntil(untilType: number, seq: number, parse: (d: Buffer) => { type: number; seq: number }[]): Promise<Rec[]> {
    const got: Rec[] = [];
    for (;;) {
      const r = await this.next();
      got.push(r);
      if (r.kind === 1 && parse(r.payload).some((m) => m.type === untilType && m.seq === seq)) return got;
    }
  }

  async end(): Promise<{ code: number | null; signal: string | null }> {
    this.child.stdin.end();
    return this.exit;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

export const RecKind = { NL: 1, JOIN: 2, LEAVE: 3, READY: 16, RESULT: 17, REFUSED: 18, ERROR: 19 } as const;
