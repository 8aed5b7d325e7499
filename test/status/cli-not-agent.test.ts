// `x0tta6bl4 status` (the built CLI) against a socket where something other than the agent
// answers: one line on stderr, nothing on stdout, exit 1. The real agent is the control.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE, startRealAgent } from '../luci/real-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-not-agent-'));
const MODES = [['--metrics'], ['--json'], ['--health'], ['--health', '--json'], []];

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BUNDLE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.once('close', (code) => (clearTimeout(timer), resolve({ code, out, err })));
  });
}

async function listening<S extends HttpServer | NetServer>(server: S, path: string): Promise<S> {
  await new Promise<void>((r) => server.listen(path, r));
  return server;
}

// Not waiting for 'close': the garbage server's half-closed connections may keep it from coming.
const close = (s: HttpServer | NetServer) => {
  if ('closeAllConnections' in s) s.closeAllConnections();
  s.close();
};

/** Each impostor answers every request on its own socket. */
const impostors: Record<string, () => HttpServer | NetServer> = {
  'plain Unix socket that answers garbage': () =>
    createNetServer((c) => {
      c.on('error', () => {});
      c.end('garbage \x1b[31m not http\n');
    }),
  'HTTP that answers plain text': () => createHttpServer((_q, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello\nworld\n')),
  'HTTP that answers JSON of another shape': () =>
    createHttpServer((_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"schema":1,"hello":"world"}\n')),
  'HTTP that answers metrics of another program': () =>
    createHttpServer((_q, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('# TYPE up gauge\nup 1\n')),
};

for (const [name, make] of Object.entries(impostors)) {
  test(`status against ${name}: one line, exit 1, nothing on stdout`, async () => {
    const sock = join(dir, `${name.replace(/\W+/g, '-')}.sock`);
    const server = await listening(make(), sock);
    try {
      for (const mode of MODES) {
        const r = await cli(['status', '--socket', sock, ...mode]);
        const what = `status ${mode.join(" ")}: exit ${r.code}, stdout ${JSON.stringify(r.out)}, stderr ${JSON.stringify(r.err)}`;
        assert.is(r.code, 1, what);
        assert.is(r.out, '', what);
        assert.is(r.err.trim().split('\n').length, 1, what);
        assert.match(r.err, 'as an x0tta6bl4 agent', what);
        assert.not.match(r.err, '\x1b', 'no raw control characters from the answer');
        assert.not.match(r.err, 'internal error', what);
      }
    } finally {
      close(server);
    }
  });
}

test('control: the real agent passes the same checks', async () => {
  const agent = await startRealAgent(join(dir, 'real'));
  try {
    for (const mode of MODES) {
      const r = await cli(['status', '--socket', agent.socket, ...mode]);
      const what = `status ${mode.join(' ')}: exit ${r.code}, stderr ${JSON.stringify(r.err)}`;
      assert.is(r.err, '', what);
      assert.ok(r.out.length > 0, what);
      // Degraded (exit 1) is an honest answer of a simulated mesh at start; unreachable is not.
      assert.ok(r.code === 0 || r.code === 1 || r.code === 3, what);
      if (mode[0] === '--metrics') {
        assert.is(r.code, 0, what);
        assert.match(r.out, 'x0tta6bl4_build_info');
      }
    }
  } finally {
    await agent.stop();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
