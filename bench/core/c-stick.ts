// The native C measuring stick of bench:core (bench/core/c/aggregators.c): compiled with
// gcc -O3 -march=native at run time into a temporary directory, fed the same updates through a
// binary file, and read back (results and median times). Used by bench/core/run.ts and by
// test/core/bench-c.test.ts, which checks the stick against the plain reference.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const C_SOURCE = fileURLToPath(new URL('./c/aggregators.c', import.meta.url));

// -ffp-contract=off: no FMA contraction, so the C rounds where the WASM build rounds and the
// results can be compared bit for bit. No -ffast-math: no reassociation either.
export const GCC_FLAGS = ['-O3', '-march=native', '-ffp-contract=off', '-std=c11', '-Wall', '-Wextra', '-Werror'];

/** The same, limited to 128-bit vectors (SSE4.2 on x86): as wide as WASM SIMD, for the diagnosis. */
export const GCC_FLAGS_128 = [...GCC_FLAGS, '-mno-avx'];

export interface StickInput {
  n: number;
  d: number;
  /** n·d float32, row-major. */
  xs: Float32Array;
  /** n weights, used by specs that start with '@'. */
  weights?: ArrayLike<number>;
  /** v₀ of centered clipping (default 0). */
  center?: Float32Array;
}

export interface StickCheck {
  /** The result (d float32) of one run. */
  result: Float32Array;
  /** geometric-median: Weiszfeld updates done (-1 for other rules). */
  iterations: number;
  /** krum: position of the chosen update in the rule's row list (-1 for other rules). */
  selected: number;
}

/** A compiled stick in its own temporary directory; dispose() removes both. */
export class CStick {
  readonly dir: string;
  readonly binary: string;
  private seq = 0;

  private constructor(dir: string, binary: string) {
    this.dir = dir;
    this.binary = binary;
  }

  /** Compiles the C with gcc; throws with gcc's message when gcc is missing or the build fails. */
  static compile(flags: readonly string[] = GCC_FLAGS, gcc = process.env.CC ?? 'gcc'): CStick {
    const dir = mkdtempSync(join(tmpdir(), 'bench-core-c-'));
    const binary = join(dir, 'bench-core-c');
    const r = spawnSync(gcc, [...flags, '-o', binary, C_SOURCE, '-lm'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      const why = r.error ? r.error.message : r.stderr.trim();
      throw new Error(`bench:core: compiling ${C_SOURCE} with ${gcc} failed: ${why}`);
    }
    return new CStick(dir, binary);
  }

  /** Writes the updates to a file and starts a stick process on them. */
  open(input: StickInput): StickSession {
    const { n, d, xs, weights, center } = input;
    if (xs.length !== n * d) throw new Error(`bench:core: xs has ${xs.length} values, expected n·d = ${n * d}`);
    if (weights && weights.length !== n) throw new Error(`bench:core: ${weights.length} weights for n = ${n}`);
    if (center && center.length !== d) throw new Error(`bench:core: centre has ${center.length} values for d = ${d}`);
    const flags = (weights ? 1 : 0) | (center ? 2 : 0);
    const parts: Uint8Array[] = [new Uint8Array(Int32Array.of(n, d, flags).buffer), new Uint8Array(xs.buffer, xs.byteOffset, xs.byteLength)];
    if (weights) parts.push(new Uint8Array(Float64Array.from(weights).buffer));
    if (center) parts.push(new Uint8Array(center.buffer, center.byteOffset, center.byteLength));
    const path = join(this.dir, `input-${this.seq++}.bin`);
    writeFileSync(path, Buffer.concat(parts));
    return new StickSession(this.binary, path, join(this.dir, `output-${this.seq++}.bin`), d);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * One stick process on one input: commands go in on stdin, one JSON line comes back per command
 * (the protocol is described in aggregators.c). Commands are answered in order.
 */
export class StickSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  private buffered = '';
  private stderr = '';
  private ended: Error | undefined;

  constructor(binary: string, readonly inputPath: string, private readonly outPath: string, private readonly d: number) {
    this.child = spawn(binary, [inputPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.waiting.shift()?.resolve(line);
      }
    });
    this.child.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    const fail = (why: string): void => {
      this.ended = new Error(`bench:core: the C stick ${why}${this.stderr ? `: ${this.stderr.trim()}` : ''}`);
      for (const w of this.waiting.splice(0)) w.reject(this.ended);
    };
    this.child.on('error', (err) => fail(`could not run (${err.message})`));
    this.child.on('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`})`));
  }

  private async ask(command: string): Promise<Record<string, unknown>> {
    if (this.ended) throw this.ended;
    const line = await new Promise<string>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${command}\n`);
    });
    const answer = JSON.parse(line) as Record<string, unknown>;
    if (typeof answer.error === 'string') throw new Error(`bench:core: the C stick refused "${command}": ${answer.error}`);
    return answer;
  }

  /** One run of spec; its result and what the rule reports. */
  async check(spec: string): Promise<StickCheck> {
    const a = await this.ask(`check ${this.outPath} ${spec}`);
    const bytes = readFileSync(this.outPath);
    if (bytes.length !== this.d * 4) throw new Error(`bench:core: the C stick wrote ${bytes.length} bytes, expected ${this.d * 4}`);
    const result = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    return { result, iterations: a.iterations as number, selected: a.selected as number };
  }

  /** reps timed runs of spec, each measured inside the C process (milliseconds). */
  async time(spec: string, reps: number): Promise<number[]> {
    const a = await this.ask(`time ${reps} ${spec}`);
    return a.ms as number[];
  }

  async close(): Promise<void> {
    if (this.ended) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    await exited;
    rmSync(this.inputPath, { force: true });
    rmSync(this.outPath, { force: true });
  }
}
