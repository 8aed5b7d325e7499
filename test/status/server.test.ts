// The status server on a real Unix socket and a real loopback port, queried by the CLI's client.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStatusServer, StatusServerError } from '../../src/status/server.ts';
import { fetchStatus, StatusClientError } from '../../src/status/client.ts';
import type { HealthReport, StatusReport, StatusSource } from '../../src/status/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-status-'));
const health: HealthReport = { schema: 1, node: 'n1', overall: 'degraded', components: [{ name: 'mesh', state: 'degraded', reason: 'no neighbours' }] };
const report = {
  schema: 1,
  node: { name: 'n1', fleet: 'f', version: '0.0.0', uptimeS: 1 },
  health,
  mesh: { interfaces: [], neighbours: [], originators: [], gateways: [], settings: null },
  links: [],
  events: [],
} as unknown as StatusReport;
const METRICS = 'x0tta6bl4_build_info{node="n1",version="0.0.0"} 1\nx0tta6bl4_up{node="n1"} 0.5\n';
let statusCalls = 0;
const source: StatusSource = {
  health: () => health,
  status: () => {
    statusCalls++;
    return report;
  },
  metrics: () => METRICS,
};

test('serves /health, /status, /metrics and 404 on the socket and on loopback TCP', async () => {
  const sock = join(dir, 'a.sock');
  const srv = await startStatusServer({ socketPath: sock, httpPort: 0, source });
  try {
    assert.equal(await fetchStatus(sock, '/health'), health);
    await fetchStatus(sock, '/status');
    assert.is(statusCalls, 1);
    assert.is(await fetchStatus<string>(sock, '/metrics'), METRICS);
    try {
      await fetchStatus(sock, '/nope');
      assert.unreachable();
    } catch (e) {
      assert.instance(e, StatusClientError);
      assert.match((e as Error).message, '404');
    }
  } finally {
    await srv.close();
  }
  // httpPort 0 means "off": nothing listens on TCP.
  assert.is(srv.httpPort, null);
});

test('optional TCP port binds 127.0.0.1 and answers the same documents', async () => {
  const sock = join(dir, 'tcp.sock');
  const port = 20000 + (process.pid % 20000);
  const srv = await startStatusServer({ socketPath: sock, httpPort: port, source });
  try {
    assert.is(srv.httpPort, port);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(await res.json(), health);
    const post = await fetch(`http://127.0.0.1:${port}/health`, { method: 'POST' });
    assert.is(post.status, 405);
  } finally {
    await srv.close();
  }
});

test('a stale socket file from a crashed agent is replaced; a live one is refused', async () => {
  const sock = join(dir, 'b.sock');
  const first = await startStatusServer({ socketPath: sock, source });
  try {
    await startStatusServer({ socketPath: sock, source });
    assert.unreachable('second server started on a live socket');
  } catch (e) {
    assert.instance(e, StatusServerError);
    assert.match((e as Error).message, 'another agent is already serving');
  }
  // Simulate a crash: the listener disappears but the file stays.
  const { createServer } = await import('node:net');
  await first.close();
  const orphan = createServer();
  await new Promise<void>((r) => orphan.listen(sock, r));
  // Closing a net server unlinks its socket; recreate the leftover file the way a SIGKILL leaves it.
  await new Promise<void>((r) => orphan.close(() => r()));
  const { execFileSync } = await import('node:child_process');
  execFileSync('python3', ['-c', `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(sock)})`]);
  const second = await startStatusServer({ socketPath: sock, source });
  assert.equal(await fetchStatus(sock, '/health'), health);
  await second.close();
});

test('a regular file at the socket path is never deleted', async () => {
  const p = join(dir, 'precious');
  writeFileSync(p, 'keep me');
  try {
    await startStatusServer({ socketPath: p, source });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, 'is not a socket');
  }
});

test('unusable paths give clear errors', async () => {
  try {
    await startStatusServer({ socketPath: join(dir, 'precious', 'x.sock'), source });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, StatusServerError);
    assert.match((e as Error).message, 'cannot create');
  }
  try {
    await fetchStatus(join(dir, 'missing.sock'), '/status');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, StatusClientError);
    assert.match((e as Error).message, 'is the agent running?');
  }
});

test('a symbolic link at the socket path is refused and left in place', async () => {
  const target = join(dir, 'target.txt');
  writeFileSync(target, 'target');
  for (const to of [target, join(dir, 'no-such-thing')]) {
    const link = join(dir, `link-${to.length}.sock`);
    symlinkSync(to, link);
    try {
      await startStatusServer({ socketPath: link, source });
      assert.unreachable('served through a symlink');
    } catch (e) {
      assert.instance(e, StatusServerError);
      assert.match((e as Error).message, 'symbolic link');
    }
    assert.ok(lstatSync(link).isSymbolicLink());
  }
  assert.is(readFileSync(target, 'utf8'), 'target');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
