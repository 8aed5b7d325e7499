// The agent's local status API: JSON over HTTP/1.1 on a Unix socket (for the CLI and the
// LuCI rpcd plugin), and optionally on 127.0.0.1:PORT (for Prometheus). Read-only by design:
// nothing that changes the router is reachable here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { mkdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StatusSource } from './types.ts';

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

/** A socket file left by a crashed agent is removed; one that answers belongs to a live agent. */
async function clearStaleSocket(socketPath: string): Promise<void> {
  let isSocket = false;
  try {
    isSocket = statSync(socketPath).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new StatusServerError(`${socketPath} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(socketPath);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
  if (alive) throw new StatusServerError(`another agent is already serving ${socketPath}`);
  unlinkSync(socketPath);
}

function listen(server: Server, target: string | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => (server.off('error', reject), resolve());
    if (typeof target === 'string') server.listen(target, done);
    else server.listen(target.port, target.host, done);
  });
}

export async function startStatusServer(opts: StatusServerOptions): Promise<StatusServer> {
  const onRequest = handler(opts.source);
  try {
    mkdirSync(dirname(opts.socketPath), { recursive: true });
  } catch (e) {
    throw new StatusServerError(`cannot create ${dirname(opts.socketPath)}: ${(e as Error).message}`);
  }
  await clearStaleSocket(opts.socketPath);
  const unix = createServer(onRequest);
  try {
    await listen(unix, opts.socketPath);
  } catch (e) {
    throw new StatusServerError(`cannot listen on ${opts.socketPath}: ${(e as Error).message}`);
  }
  let tcp: Server | null = null;
  if (opts.httpPort !== undefined && opts.httpPort !== null && opts.httpPort >= 0 && opts.httpPort !== 0) {
    tcp = createServer(onRequest);
    try {
      await listen(tcp, { port: opts.httpPort, host: '127.0.0.1' });
    } catch (e) {
      unix.close();
      throw new StatusServerError(`cannot listen on 127.0.0.1:${opts.httpPort}: ${(e as Error).message}`);
    }
  }
  const address = tcp?.address();
  return {
    httpPort: address && typeof address === 'object' ? address.port : null,
    async close() {
      for (const s of [unix, tcp]) {
        if (!s) continue;
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
      try {
        unlinkSync(opts.socketPath);
      } catch {
        /* already gone */
      }
    },
  };
}
