// Runs a host command (ip, nft, wifi, init scripts) with a timeout. Actions take the runner as a
// parameter, so the simulator can answer the same command lines without root (sim-host.ts).
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (argv: string[], opts?: { input?: string; timeoutMs?: number }) => Promise<CommandResult>;

const OUTPUT_LIMIT = 64 * 1024;

/** The real runner: never throws; a missing program is code 127, a timeout code 124, as a shell reports them. */
export const systemRunner: CommandRunner = (argv, opts = {}) =>
  new Promise((resolve) => {
    if (argv.length === 0) return resolve({ code: 127, stdout: '', stderr: 'empty command' });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const done = (r: CommandResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ code: 124, stdout, stderr: `${stderr}timed out after ${opts.timeoutMs ?? 15_000} ms` });
    }, opts.timeoutMs ?? 15_000);
    // Bounded: a chatty command must not grow the agent's memory.
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-OUTPUT_LIMIT)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-OUTPUT_LIMIT)));
    child.on('error', (e: NodeJS.ErrnoException) => done({ code: e.code === 'ENOENT' ? 127 : 126, stdout, stderr: `${argv[0]}: ${e.message}` }));
    child.on('close', (code, signal) => done({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => {}); // the command may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });

/** One line for messages: the command and what it said. */
export function describeFailure(argv: string[], r: CommandResult): string {
  const said = (r.stderr || r.stdout).trim().split('\n').slice(-2).join(' / ');
  return `${argv.join(' ')} exited ${r.code}${said ? `: ${said}` : ''}`;
}
