// Starts the real agent from the build (dist/x0tta6bl4.mjs) on the simulated mesh, with the
// package's default config changed only where a test must: simulator driver, private socket
// and state directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
export const BUNDLE = join(ROOT, 'dist/x0tta6bl4.mjs');
export const DEFAULT_CONFIG = join(ROOT, 'openwrt/x0tta6bl4/files/x0tta6bl4.config');

/** The shipped default config with the simulator driver and the given paths. */
export function simulatorConfig(text: string, socket: string, stateDir: string): string {
  const swaps: [RegExp, string][] = [
    [/option mesh_driver '[^']*'/, "option mesh_driver 'simulator'"],
    [/option socket '[^']*'/, `option socket '${socket}'`],
    [/option state_dir '[^']*'/, `option state_dir '${stateDir}'`],
  ];
  for (const [re, to] of swaps) {
    if (!re.test(text)) throw new Error(`default config has no ${re}`);
    text = text.replace(re, to);
  }
  return text;
}

export function getJson(socketPath: string, path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export interface RunningAgent {
  socket: string;
  proc: ChildProcess;
  log: () => string;
  stop(): Promise<number | null>;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

export async function startRealAgent(dir: string): Promise<RunningAgent> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build`);
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'agent.sock');
  const config = join(dir, 'x0tta6bl4');
  writeFileSync(config, simulatorConfig(readFileSync(DEFAULT_CONFIG, 'utf8'), socket, join(dir, 'state')));
  const proc = spawn(process.execPath, [BUNDLE, 'agent', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  try {
    await waitFor('the agent status socket', async () => {
      if (proc.exitCode !== null) throw new Error(`agent exited ${proc.exitCode}: ${out}`);
      return existsSync(socket) && (await getJson(socket, '/health'));
    });
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\nagent output:\n${out}`);
  }
  return {
    socket,
    proc,
    log: () => out,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}
