// The agent's local status API: JSON over HTTP/1.1 on a Unix socket (for the CLI and the
// LuCI rpcd plugin), and optionally on 127.0.0.1:PORT (for Prometheus). Read-only by design:
// nothing that changes the router is reachable here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { StatusSource } from './types.ts';

/**
 * Owner and group only, whatever the umask: the documents name the mesh, its peers and the
 * agent's health, which is nobody else's business on the router. Connecting to a Unix socket
 * needs write permission on it, so 0660 alone keeps other users out.
 */
export const SOCKET_MODE = 0o660;
/** Directories the agent creates for the socket (an existing directory is left as it is). */
export const SOCKET_DIR_MODE = 0o750;

/** A status.socket or status.http_port that cannot be served: the message names the option. */
export class StatusServerError extends Error {
  override readonly name = 'StatusServerError';
}

export interface StatusServerOptions {
  socketPath: string;
  httpPort?: number;
  source: StatusSource;
}

export interface StatusServer {
  close(): Promise<void>;
  /** The TCP port actually bound (useful with httpPort 0 in tests), or null. */
  readonly httpPort: number | null;
}

function handler(source: StatusSource) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    try {
      if (path === '/health') return sendJson(res, source.health());
      if (path === '/status') return sendJson(res, source.status());
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(source.metrics());
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found', paths: ['/health', '/status', '/metrics'] }) + '\n');
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String((e as Error).message ?? e) }) + '\n');
    }
  };
}

function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

function socketError(socketPath: string, why: string): StatusServerError {
  return new StatusServerError(`status.socket '${socketPath}': ${why}`);
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code} (${err.message.replace(/^[A-Z]+: /, '')})` : String(err.message ?? e);
}

/**
 * Creates the socket's directory one level at a time. mkdir -p (recursive mkdirSync) spins
 * forever under /proc, where every mkdir answers ENOENT; this walk fails at once instead.
 */
function ensureSocketDir(socketPath: string): void {
  const dir = dirname(socketPath);
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    let st: Stats | undefined;
    try {
      st = statSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw socketError(socketPath, `cannot use directory ${d}: ${errText(e)}`);
    }
    if (st) {
      if (!st.isDirectory()) throw socketError(socketPath, `cannot create ${dir}: ${d} is not a directory`);
      break;
    }
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: SOCKET_DIR_MODE });
    } catch (e) {
      // Someone else made it meanwhile (a second agent starting): theirs, left as it is.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw socketError(socketPath, `cannot create directory ${d}: ${errText(e)}`);
    }
    try {
      chmodSync(d, SOCKET_DIR_MODE); // mkdir's mode passes through the umask
    } catch (e) {
      throw socketError(socketPath, `cannot set the mode of ${d}: ${errText(e)}`);
    }
  }
}

/** Whether something accepts connections on the socket: true, false (ECONNREFUSED: stale), or why not known. */
function probeSocket(socketPath: string): Promise<true | false | string> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    // A listener that never accepts is alive for our purpose: it is not ours to remove.
    const timer = setTimeout(() => (s.destroy(), resolve(true)), 2000);
    s.once('connect', () => (clearTimeout(timer), s.destroy(), resolve(true)));
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code === 'ECONNREFUSED' || e.code === 'ENOENT' ? false : errText(e));
    });
  });
}

/**
 * A socket file left by a crashed agent is removed; one that answers belongs to a live agent.
 * Anything that is not a socket (a file, a directory, a symlink) is left untouched.
 */
async function clearStaleSocket(socketPath: string): Promise<void> {
  let st: Stats;
  try {
    st = lstatSync(socketPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing there
    throw socketError(socketPath, `cannot inspect it: ${errText(e)}`);
  }
  if (st.isDirectory()) throw socketError(socketPath, 'is a directory, not a socket; give a file path such as /var/run/x0tta6bl4/status.sock');
  if (st.isSymbolicLink()) throw socketError(socketPath, 'is a symbolic link; refusing to replace it');
  if (!st.isSocket()) throw socketError(socketPath, 'exists and is not a socket; refusing to replace it (left unchanged)');
  const alive = await probeSocket(socketPath);
  if (alive === true) throw socketError(socketPath, 'another agent is already serving it');
  if (alive !== false) throw socketError(socketPath, `cannot tell whether another agent serves it: ${alive}`);
  try {
    unlinkSync(socketPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw socketError(socketPath, `cannot remove the stale socket: ${errText(e)}`);
  }
}

function listen(server: Server, target: string | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => (server.off('error', reject), resolve());
    if (typeof target !== 'string') {
      server.listen(target.port, target.host, done);
      return;
    }
    // bind() runs inside listen(), synchronously: the socket is born 0660, with no window in
    // which another user could connect before the chmod below.
    const umask = process.umask(0o117);
    try {
      server.listen(target, done);
    } finally {
      process.umask(umask);
    }
  });
}

function closeServer(s: Server): Promise<void> {
  s.closeAllConnections();
  return new Promise<void>((r) => s.close(() => r()));
}

export async function startStatusServer(opts: StatusServerOptions): Promise<StatusServer> {
  const onRequest = handler(opts.source);
  const path = opts.socketPath;
  ensureSocketDir(path);
  await clearStaleSocket(path);
  const unix = createServer(onRequest);
  try {
    await listen(unix, path);
    chmodSync(path, SOCKET_MODE);
  } catch (e) {
    if (unix.listening) await closeServer(unix);
    throw socketError(path, `cannot listen: ${errText(e)}`);
  }
  let tcp: Server | null = null;
  if (opts.httpPort !== undefined && opts.httpPort !== null && opts.httpPort > 0) {
    tcp = createServer(onRequest);
    try {
      await listen(tcp, { port: opts.httpPort, host: '127.0.0.1' });
    } catch (e) {
      await closeServer(unix);
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'already in use by another program' : errText(e);
      throw new StatusServerError(`status.http_port ${opts.httpPort}: cannot listen on 127.0.0.1:${opts.httpPort}: ${why}`);
    }
  }
  const address = tcp?.address();
  return {
    httpPort: address && typeof address === 'object' ? address.port : null,
    async close() {
      for (const s of [unix, tcp]) if (s) await closeServer(s);
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}
