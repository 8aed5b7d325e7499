// A small OTLP/HTTP receiver on 127.0.0.1 for the tracing tests: it records each POST and
// decodes the body with the official OpenTelemetry protobuf definitions (the code generated from
// opentelemetry-proto that @opentelemetry/otlp-transformer ships, a devDependency), never with
// our own encoder's knowledge.
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
// The package has no "exports" map; the generated root is CommonJS.
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: { decode(b: Uint8Array): unknown; toObject(m: unknown, o: object): unknown } } } } } };
};
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

export interface DecodedValue { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number }
export interface DecodedKV { key: string; value: DecodedValue }
export interface DecodedSpan {
  traceId: string; spanId: string; parentSpanId: string; traceState: string; flags: number;
  name: string; kind: number; startTimeUnixNano: string; endTimeUnixNano: string;
  attributes: DecodedKV[]; droppedAttributesCount: number;
  events: { timeUnixNano: string; name: string; attributes: DecodedKV[]; droppedAttributesCount: number }[];
  droppedEventsCount: number;
  links: { traceId: string; spanId: string; traceState: string; flags: number; attributes: DecodedKV[] }[];
  droppedLinksCount: number;
  status?: { code: number; message: string };
}
export interface DecodedRequest {
  resourceSpans: { resource: { attributes: DecodedKV[] }; scopeSpans: { scope: { name: string; version: string }; spans: DecodedSpan[] }[] }[];
}

/** Decodes an ExportTraceServiceRequest: 64-bit numbers as decimal strings, ids as lowercase hex. */
export function decodeTraceRequest(body: Uint8Array): DecodedRequest {
  const msg = Request.decode(body);
  const obj = Request.toObject(msg, { longs: String, enums: Number, bytes: Array, defaults: true, arrays: true }) as DecodedRequest;
  const hex = (v: unknown) => Buffer.from(v as number[]).toString('hex');
  for (const rs of obj.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        s.traceId = hex(s.traceId); s.spanId = hex(s.spanId); s.parentSpanId = hex(s.parentSpanId);
        for (const l of s.links) { l.traceId = hex(l.traceId); l.spanId = hex(l.spanId); }
      }
  return obj;
}

/** Attributes as a plain object, values as the AnyValue member that is set. */
export function attrs(kvs: DecodedKV[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of kvs) {
    // AnyValue is a oneof: toObject emits only the member that was written.
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}

export interface ReceivedPost { path: string; headers: IncomingHttpHeaders; body: Buffer; request: DecodedRequest | null; decodeError: string | null; atMs: number }

export class OtlpReceiver {
  readonly posts: ReceivedPost[] = [];
  /** HTTP status to answer with (200 = accept). */
  status = 200;
  /** Extra response headers (Retry-After). */
  answerHeaders: Record<string, string> = {};
  /** Holds answers back (to test that a slow collector never blocks the agent). */
  stall = false;
  private readonly stalled: ServerResponse[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(tls?: { key: Buffer | string; cert: Buffer | string }, port = 0): Promise<OtlpReceiver> {
    let recv!: OtlpReceiver;
    const handler = (req: IncomingMessage, res: ServerResponse) => recv.handle(req, res);
    const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createHttpServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = server.address() as AddressInfo;
    recv = new OtlpReceiver(server, `${tls ? 'https' : 'http'}://127.0.0.1:${addr.port}`);
    return recv;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let request: DecodedRequest | null = null;
      let decodeError: string | null = null;
      try {
        request = decodeTraceRequest(body);
      } catch (e) {
        decodeError = (e as Error).message;
      }
      this.posts.push({ path: req.url ?? '', headers: req.headers, body, request, decodeError, atMs: Date.now() });
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
      if (this.stall) { this.stalled.push(res); return; }
      res.writeHead(this.status, { 'content-type': 'application/x-protobuf', ...this.answerHeaders });
      res.end();
    });
  }

  /** All spans received so far, in arrival order. */
  spans(): DecodedSpan[] {
    return this.posts.flatMap((p) => p.request?.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)) ?? []);
  }

  /** Resolves once `n` posts have arrived; rejects after timeoutMs (generous: the machine is loaded). */
  async waitForPosts(n: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.posts.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} posts, got ${this.posts.length} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  async close(): Promise<void> {
    for (const r of this.stalled.splice(0)) r.destroy();
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls `cond` every 10 ms until true; throws after timeoutMs (generous: the machine is loaded). */
export async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
