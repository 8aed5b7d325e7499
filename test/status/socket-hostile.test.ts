// status.socket and status.http_port pointed at what a careless operator or a local attacker
// leaves there, against the real agent from the build (dist/x0tta6bl4.mjs, simulated mesh).
// Every path is in a scratch directory, except the /proc cases, which only read /proc.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE, DEFAULT_CONFIG, getJson, simulatorConfig, waitFor } from '../luci/real-agent.ts';

const scratch = mkdtempSync(join(tmpdir(), 'x0-sock-hostile-'));
// Readable by the unprivileged runs below (mkdtemp makes it 0700).
chmodSync(scratch, 0o755);
const NOBODY = 65534;
let seq = 0;

/** A config file for the simulated agent with the given socket and http_port. */
function configFor(socket: string, httpPort = 0): { config: string; dir: string } {
  const dir = join(scratch, `case${++seq}`);
  mkdirSync(dir, { mode: 0o755 });
  const state = join(dir, 'state');
  mkdirSync(state, { mode: 0o700 });
  const config = join(dir, 'x0tta6bl4');
  const text = simulatorConfig(readFileSync(DEFAULT_CONFIG, 'utf8'), socket, state).replace(/option http_port '[^']*'/, `option http_port '${httpPort}'`);
  writeFileSync(config, text, { mode: 0o644 });
  return { config, dir };
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Runs a command to its end; a run that has not ended after `limitMs` is killed (code null). */
function run(cmd: string, args: string[], limitMs = 20_000, opts: { uid?: number; gid?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), limitMs);
    p.once('close', (code) => (clearTimeout(timer), resolve({ code, out, err })));
  });
}

const agent = (config: string, limitMs?: number, opts?: { uid?: number; gid?: number }) =>
  run(process.execPath, [BUNDLE, 'agent', '--config', config, '--log-level', 'warn'], limitMs, opts);

/** The refusal the issue asks for: exit 1, one line naming the option, no stack trace. */
function assertOneLineRefusal(r: Run, option: string, fragment?: string): void {
  const lines = r.err.trim().split('\n');
  assert.is(r.code, 1, `exit code 1 expected, got ${r.code}; stderr:\n${r.err}`);
  assert.is(lines.length, 1, `one line expected:\n${r.err}`);
  assert.match(lines[0]!, option);
  if (fragment) assert.match(lines[0]!, fragment);
  assert.not.match(r.err, /\n\s+at /, 'stack trace');
  assert.not.match(r.err, 'internal error');
}

/** A file's bytes and metadata, to show it was not touched. */
function fingerprint(p: string): string {
  const st = statSync(p);
  return JSON.stringify([readFileSync(p, 'base64'), st.mode, st.uid, st.size, st.mtimeMs, st.ino]);
}

test('a directory at status.socket: one line, exit 1, the directory stays', async () => {
  const sock = join(scratch, 'a-directory');
  mkdirSync(join(sock, 'inside'), { recursive: true });
  const { config } = configFor(sock);
  assertOneLineRefusal(await agent(config), 'status.socket', 'is a directory');
  assert.ok(statSync(join(sock, 'inside')).isDirectory());
});

test('a regular file at status.socket is left byte-for-byte unchanged', async () => {
  const sock = join(scratch, 'precious.txt');
  writeFileSync(sock, 'root:x:0:0:decoy\n', { mode: 0o644 });
  const before = fingerprint(sock);
  const { config } = configFor(sock);
  assertOneLineRefusal(await agent(config), 'status.socket', 'not a socket');
  assert.is(fingerprint(sock), before);
});

test("status.socket whose parent is a file: one line, the file unchanged", async () => {
  const parent = join(scratch, 'parent-file');
  writeFileSync(parent, 'keep');
  const before = fingerprint(parent);
  const { config } = configFor(join(parent, 'run', 'status.sock'));
  assertOneLineRefusal(await agent(config), 'status.socket', 'not a directory');
  assert.is(fingerprint(parent), before);
});

test('status.socket under /proc: one line and exit 1 at once, no spinning in mkdir', async () => {
  for (const sock of ['/proc/x0tta6bl4-no-such-dir/run/status.sock', '/proc/self/status.sock']) {
    const { config } = configFor(sock);
    // A functional deadline: today's mkdir -p never returns here, so the run is killed.
    assertOneLineRefusal(await agent(config, 15_000), 'status.socket');
  }
});

test('status.socket in a directory the agent may not write (agent as nobody): one line, exit 1', async () => {
  const runDir = join(scratch, 'root-only');
  mkdirSync(runDir, { mode: 0o755 });
  const { config, dir } = configFor(join(runDir, 'status.sock'));
  // The agent's own state directory belongs to the user it runs as.
  chownSync(join(dir, 'state'), NOBODY, NOBODY);
  const r = await agent(config, 20_000, { uid: NOBODY, gid: NOBODY });
  assertOneLineRefusal(r, 'status.socket', 'EACCES');
  assert.not.ok(existsSync(join(runDir, 'status.sock')));
});

test('status.http_port already taken: one line naming it, exit 1, no socket left behind', async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const port = (holder.address() as { port: number }).port;
  try {
    const sock = join(scratch, 'port-taken.sock');
    const { config } = configFor(sock, port);
    assertOneLineRefusal(await agent(config), 'status.http_port', 'in use');
    assert.not.ok(existsSync(sock), 'the socket of the failed start was removed');
  } finally {
    await new Promise<void>((r) => holder.close(() => r()));
  }
});

/** Starts the agent and waits until it answers /health on its socket. */
async function startAgent(config: string, socket: string, viaShell?: string) {
  const p = viaShell
    ? spawn('sh', ['-c', `${viaShell}; exec "$0" "$@"`, process.execPath, BUNDLE, 'agent', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [BUNDLE, 'agent', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  try {
    await waitFor('the agent to answer /health', async () => {
      if (p.exitCode !== null) throw new Error(`agent exited ${p.exitCode}: ${out}`);
      return existsSync(socket) && (await getJson(socket, '/health'));
    });
  } catch (e) {
    p.kill('SIGKILL');
    throw e;
  }
  return {
    proc: p,
    log: () => out,
    kill: async (sig: NodeJS.Signals) => (p.exitCode === null && p.signalCode === null && p.kill(sig), exited),
  };
}

test("a dead agent's socket is replaced; a live agent's socket is not stolen", async () => {
  const sock = join(scratch, 'shared.sock');
  const { config } = configFor(sock);
  const first = await startAgent(config, sock);
  // SIGKILL leaves the socket file behind with nobody listening, as a crash does.
  await first.kill('SIGKILL');
  assert.ok(statSync(sock).isSocket(), 'the dead agent left its socket');
  const second = await startAgent(config, sock);
  try {
    const r = await agent(config);
    assertOneLineRefusal(r, 'status.socket', 'another agent is already serving');
    assert.is((await getJson(sock, '/health')).schema, 1, 'the live agent still answers');
  } finally {
    assert.is(await second.kill('SIGTERM'), 0);
  }
});

test('under umask 000 the socket is 0660 and the directories the agent creates 0750; others cannot connect', async () => {
  const base = join(scratch, 'umask');
  mkdirSync(base, { mode: 0o755 });
  const sock = join(base, 'run', 'x0tta6bl4', 'status.sock');
  const { config } = configFor(sock);
  const a = await startAgent(config, sock, 'umask 000');
  try {
    assert.is(statSync(sock).mode & 0o7777, 0o660, 'socket mode');
    assert.is(statSync(join(base, 'run', 'x0tta6bl4')).mode & 0o7777, 0o750, 'socket directory mode');
    assert.is(statSync(join(base, 'run')).mode & 0o7777, 0o750, 'created parent mode');
    // Open the directories as the init script leaves them (0755), so that only the socket's
    // own mode stands between another user and /status.
    chmodSync(join(base, 'run'), 0o755);
    chmodSync(join(base, 'run', 'x0tta6bl4'), 0o755);
    const probe = `require('net').connect(${JSON.stringify(sock)}).on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(0)})`;
    const other = await run(process.execPath, ['-e', probe], 10_000, { uid: NOBODY, gid: NOBODY });
    assert.is(other.out.trim(), 'EACCES', 'a user outside owner and group');
    const groupMember = await run(process.execPath, ['-e', probe], 10_000, { uid: NOBODY, gid: 0 });
    assert.is(groupMember.out.trim(), 'connected', "a user in the socket's group");
  } finally {
    assert.is(await a.kill('SIGTERM'), 0);
  }
});

test.after(() => {
  rmSync(scratch, { recursive: true, force: true });
});
test.run();
