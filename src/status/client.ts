// The CLI's side of the status API: one GET over the agent's Unix socket.
import { request } from 'node:http';

export class StatusClientError extends Error {
  override readonly name = 'StatusClientError';
}

export function fetchStatus<T>(socketPath: string, path: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new StatusClientError(`agent answered ${res.statusCode} for ${path}: ${body.trim()}`));
          return;
        }
        try {
          resolve((path === '/metrics' ? body : JSON.parse(body)) as T);
        } catch {
          reject(new StatusClientError(`agent sent invalid JSON for ${path}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new StatusClientError(`no answer from ${socketPath} within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof StatusClientError) return reject(e);
      const why =
        e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
          ? 'is the agent running? (/etc/init.d/x0tta6bl4 status)'
          : e.code === 'EACCES'
            ? 'permission denied (run as root?)'
            : e.message;
      reject(new StatusClientError(`cannot reach the agent at ${socketPath}: ${why}`));
    });
    req.end();
  });
}
