// One OTLP/HTTP POST of an encoded ExportTraceServiceRequest. Never throws: the answer says
// whether the batch went through and, if not, whether trying again can help (OTLP/HTTP spec:
// 429, 502, 503, 504 and network errors are retryable; other 4xx/5xx are final).
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';

export type PostResult =
  | { ok: true }
  | { ok: false; retryable: boolean; error: string; retryAfterMs?: number };

export interface PostTarget {
  url: URL;
  headers: Record<string, string>;
  /** PEM CA certificates for https (else the system's); verification is always on. */
  ca?: Buffer;
  timeoutMs: number;
  agent: HttpAgent | HttpsAgent;
  userAgent: string;
}

const RETRYABLE_STATUS = new Set([408, 429, 502, 503, 504]);
/** A collector's error body is only read this far (for the message). */
const MAX_ERROR_BODY = 512;

export function createAgent(url: URL): HttpAgent | HttpsAgent {
  // One socket kept open between batches; idle sockets do not keep the process alive.
  const o = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1, timeout: 60_000 };
  return url.protocol === 'https:' ? new HttpsAgent(o) : new HttpAgent(o);
}

function retryAfterMs(res: IncomingMessage): number | undefined {
  const v = res.headers['retry-after'];
  if (typeof v !== 'string' || !/^\d{1,6}$/.test(v.trim())) return undefined;
  return Number(v.trim()) * 1000;
}

export function postTraces(t: PostTarget, body: Uint8Array): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: PostResult) => {
      if (!settled) { settled = true; resolve(r); }
    };
    const headers: OutgoingHttpHeaders = {
      ...t.headers,
      'content-type': 'application/x-protobuf',
      'content-length': body.byteLength,
      'user-agent': t.userAgent,
    };
    const https = t.url.protocol === 'https:';
    let req;
    try {
      const options = {
        method: 'POST',
        host: t.url.hostname.replace(/^\[|\]$/g, ''),
        port: t.url.port || (https ? 443 : 80),
        path: `${t.url.pathname}${t.url.search}`,
        headers,
        agent: t.agent,
        timeout: t.timeoutMs,
      };
      req = https
        ? httpsRequest({ ...options, ca: t.ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' })
        : httpRequest(options);
    } catch (e) {
      // An invalid header name/value, caught here rather than crashing the loop.
      done({ ok: false, retryable: false, error: (e as Error).message });
      return;
    }
    req.on('timeout', () => req.destroy(new Error(`no answer within ${t.timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, retryable: true, error: e.code ? `${e.code}: ${e.message}` : e.message }));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => {
        if (text.length < MAX_ERROR_BODY) text += chunk.slice(0, MAX_ERROR_BODY - text.length);
      });
      res.on('error', () => {});
      res.on('end', () => {
        if (status >= 200 && status < 300) return done({ ok: true });
        const retryable = RETRYABLE_STATUS.has(status);
        const after = retryAfterMs(res);
        // The body of a protobuf error is a google.rpc.Status: keep its printable text only.
        const detail = text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 200);
        done({ ok: false, retryable, error: `HTTP ${status}${detail ? `: ${detail}` : ''}`, ...(after !== undefined ? { retryAfterMs: after } : {}) });
      });
      res.on('close', () => done({ ok: false, retryable: true, error: `HTTP ${status}: connection closed mid-answer` }));
    });
    req.end(body);
  });
}
