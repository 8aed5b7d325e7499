// Test helper: the shipped bundle, copied into a scratch directory, run the way procd runs it
// (`x0tta6bl4 agent`) and as a one-shot CLI (`x0tta6bl4 mesh`) where the netlink bridge is
// missing or cannot run. The daemon must print one line and stay up serving the status API
// with the mesh down; the CLI must print one line and exit 1. Nothing here is mocked: the
// bridge situations are real files (or a real SIGILL under qemu-user) the bundle finds itself.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/**
 * A scratch install: dist/ (bundle, .wasm, native/) copied into `dir` with this arch's bridge
 * removed, as on a router whose package has no bridge for its CPU; a batman-adv config whose
 * socket and state_dir are inside `dir`. Returns the config path.
 */
export function scratchInstall(dir: string): string {
  if (!existsSync(join(DIST, 'x0tta6bl4.mjs'))) throw new Error('dist/x0tta6bl4.mjs missing: run npm run build');
  for (const f of ['x0tta6bl4.mjs', 'core.wasm', 'core-scalar.wasm', 'native'])
    if (existsSync(join(DIST, f))) cpSync(join(DIST, f), join(dir, f), { recursive: true });
  rmSync(join(dir, 'native', `x0tta6bl4-nlbridge-${process.arch}`), { force: true });
  mkdirSync(join(dir, 'state'), { mode: 0o700 });
  const config = join(dir, 'x0tta6bl4');
  writeFileSync(
    config,
    `config agent 'agent'\n\toption mesh_driver 'batman-adv'\n\toption state_dir '${join(dir, 'state')}'\n\n` +
      `config status 'status'\n\toption socket '${join(dir, 'status.sock')}'\n`,
  );
  return config;
}

/** Lines other than info/debug log lines: what an operator reads as the agent's verdict. */
export function verdictLines(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .filter((l) => l && !/^(info|debug):/.test(l));
}

export const STACK_TRACE = /internal error|\n\s+at /;

function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export interface DaemonRun {
  /** Everything on stderr up to and including the stop. */
  stderr: string;
  health: { overall: string; components: { name: string; state: string; reason: string }[] };
  status: { health: unknown; healing: unknown; node: { driver: string } };
  metrics: string;
  /** Exit code after SIGTERM (null: killed by a signal). */
  code: number | null;
}

/**
 * `x0tta6bl4 agent` from the scratch install: waits (generously: the host may be loaded) for
 * its status socket, reads /health, /status and /metrics, then stops it with SIGTERM as procd
 * does. Throws with its stderr if it exits before serving.
 */
export async function runDaemon(dir: string, config: string, env: Record<string, string>): Promise<DaemonRun> {
  const socket = join(dir, 'status.sock');
  const proc = spawn(process.execPath, [join(dir, 'x0tta6bl4.mjs'), 'agent', '--config', config], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  try {
    const until = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the agent exited (${proc.exitCode ?? proc.signalCode}) instead of serving status`);
      if (Date.now() > until) throw new Error('no status socket within 60 s');
      if (existsSync(socket) && (await get(socket, '/health').then((r) => r.status > 0, () => false))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const health = JSON.parse((await get(socket, '/health')).body);
    const status = JSON.parse((await get(socket, '/status')).body);
    const metrics = (await get(socket, '/metrics')).body;
    proc.kill('SIGTERM');
    const code = await exited;
    return { stderr, health, status, metrics, code };
  } catch (e) {
    proc.kill('SIGKILL');
    await exited;
    throw new Error(`${(e as Error).message}\nstderr:\n${stderr}`);
  }
}

/** A one-shot CLI command from the scratch install: exit code and stderr. */
export function runCli(dir: string, args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [join(dir, 'x0tta6bl4.mjs'), ...args], { cwd: dir, timeout: 60_000, env: { ...process.env, ...env } }, (err, _out, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}
