// The CLI's side of the status API: one GET over the agent's Unix socket. Whatever answers is
// checked before it is returned: another program on the socket path gives one clear error.
import { request } from 'node:http';
import { healthProblem, metricsProblem } from './answer-checks.ts';

export class StatusClientError extends Error {
  override readonly name = 'StatusClientError';
}

/** Far above any real /status (hundreds of KB on a big mesh); bounds what a stranger can make us hold. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** A short, printable excerpt of an answer for an error line. */
function excerpt(body: string): string {
  const s = JSON.stringify(body.trim().slice(0, 60));
  return body.trim().length > 60 ? `${s.slice(0, -1)}…"` : s;
}

function problemOf(path: string, body: string): string | null {
  if (path === '/metrics') return metricsProblem(body);
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return `not JSON: ${excerpt(body)}`;
  }
  if (path === '/health') return healthProblem(doc);
  // The commands that show one block of /status check that block; `status` checks the whole.
  if (path === '/status') return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? null : 'expected a JSON object';
  return null;
}

/** The error for an answer that is not the agent's. */
export function notAgentError(socketPath: string, path: string, why: string): StatusClientError {
  return new StatusClientError(`${socketPath} did not answer ${path} as an x0tta6bl4 agent does: ${why}`);
}

export function fetchStatus<T>(socketPath: string, path: string, timeoutMs = 5000): Promise<T> {
  const notAgent = (why: string) => notAgentError(socketPath, path, why);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (body.length > MAX_ANSWER_BYTES) req.destroy(notAgent(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
      });
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new StatusClientError(`agent answered ${res.statusCode} for ${path}: ${excerpt(body)}`));
          return;
        }
        const problem = problemOf(path, body);
        if (problem) return reject(notAgent(problem));
        resolve((path === '/metrics' ? body : JSON.parse(body)) as T);
      });
    });
    req.on('timeout', () => req.destroy(new StatusClientError(`no answer from ${socketPath} within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof StatusClientError) return reject(e);
      if (e.code?.startsWith('HPE_')) return reject(notAgent('the answer is not HTTP'));
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
