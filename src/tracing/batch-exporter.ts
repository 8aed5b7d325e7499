// Ended spans wait in a bounded queue and leave in batches: after flushDelayMs, or at once when
// maxBatch are waiting. One batch is out at a time; a failed one is retried with growing,
// jittered delays on an unref'd timer (the loop never waits on the collector), then given up
// and counted as dropped. Spans arriving while the queue (including the batch out) holds
// queueLimit are dropped and counted. Nothing runs, and no timer exists, while nothing is queued.
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { readRegularFile } from '../flash/safe-read.ts';
import { encodeTraceRequest, type ResourceInfo, type ScopeInfo } from './otlp-encode.ts';
import { createAgent, postTraces, type PostResult } from './otlp-http.ts';
import type { SpanData } from './span-data.ts';

export interface ExporterOptions {
  endpoint: string;
  headers: Record<string, string>;
  caFile?: string;
  queueLimit: number;
  resource: ResourceInfo;
  scope: ScopeInfo;
  maxBatch?: number;
  flushDelayMs?: number;
  timeoutMs?: number;
  /** Delay before the first retry; doubles each time up to maxRetryDelayMs. */
  firstRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Attempts per batch, the first included. */
  maxAttempts?: number;
}

export interface ExporterStats { queued: number; exported: number; dropped: number; failedExports: number }

const MAX_CA_BYTES = 1024 * 1024;

/** `endpoint` as the URL to POST to: a bare origin gets OTLP's default path /v1/traces. */
export function tracesUrl(endpoint: string): URL {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`expected an http:// or https:// URL, found '${url.protocol}'`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url;
}

export class BatchExporter {
  private queue: SpanData[] = [];
  /** The batch being sent or waiting for its retry. */
  private batch: SpanData[] | null = null;
  private body: Uint8Array | null = null;
  private attempts = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private sending: Promise<void> | null = null;
  private closed = false;
  private exported = 0;
  private dropped = 0;
  private failedExports = 0;
  private lastError: string | null = null;
  private lastDropMs = 0;
  private readonly url: URL | null = null;
  private readonly agent: HttpAgent | HttpsAgent | null = null;
  private readonly userAgent: string;
  private readonly o: Required<Omit<ExporterOptions, 'caFile'>> & { caFile?: string };

  constructor(options: ExporterOptions) {
    this.o = {
      maxBatch: 512, flushDelayMs: 5000, timeoutMs: 10_000, firstRetryDelayMs: 1000, maxRetryDelayMs: 30_000, maxAttempts: 5,
      ...options,
    };
    this.userAgent = `x0tta6bl4/${options.scope.version}`;
    try {
      this.url = tracesUrl(options.endpoint);
      this.agent = createAgent(this.url);
    } catch (e) {
      // The config check refuses this first; a caller that skipped it gets drops and a reason.
      this.lastError = `endpoint '${options.endpoint}': ${(e as Error).message}`;
    }
  }

  stats(): ExporterStats {
    return { queued: this.queue.length + (this.batch?.length ?? 0), exported: this.exported, dropped: this.dropped, failedExports: this.failedExports };
  }

  /** The last failure's reason, null once a batch went through again. */
  problem(): string | null {
    return this.lastError;
  }

  /** Date.now() of the last span dropped (0: none yet). */
  lastDrop(): number {
    return this.lastDropMs;
  }

  private drop(n: number): void {
    if (n <= 0) return;
    this.dropped += n;
    this.lastDropMs = Date.now();
  }

  get target(): string {
    return this.url ? `${this.url.origin}${this.url.pathname}` : '(no valid endpoint)';
  }

  enqueue(span: SpanData): void {
    if (this.closed || !this.url || this.queue.length + (this.batch?.length ?? 0) >= this.o.queueLimit) {
      this.drop(1);
      return;
    }
    this.queue.push(span);
    if (this.batch) return; // the batch out (or its retry) schedules what follows
    this.schedule(this.queue.length >= this.o.maxBatch ? 0 : this.o.flushDelayMs);
  }

  /** Arms the one timer for `ms` from now, unless it is already due sooner. */
  private schedule(ms: number): void {
    const due = Date.now() + ms;
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      // Never an unhandled rejection out of a timer: that would stop the agent.
      this.sending = this.sendBatch()
        .catch((e: unknown) => { this.lastError = `${this.target}: ${(e as Error).message}`; })
        .finally(() => { this.sending = null; });
    }, ms);
    this.timer.unref();
  }

  private async sendBatch(): Promise<void> {
    if (!this.batch) {
      if (this.queue.length === 0) return;
      this.batch = this.queue.splice(0, this.o.maxBatch);
      this.body = null;
      this.attempts = 0;
    }
    const result = await this.post();
    this.afterPost(result, !this.closed);
  }

  private async post(): Promise<PostResult> {
    const batch = this.batch!;
    this.attempts++;
    let ca: Buffer | undefined;
    if (this.url!.protocol === 'https:' && this.o.caFile) {
      // Read at each attempt, like MQTT at each reconnect: a fixed file is picked up without a restart.
      try {
        ca = readRegularFile(this.o.caFile, { maxBytes: MAX_CA_BYTES }) ?? undefined;
        if (!ca) return { ok: false, retryable: true, error: `ca_file ${this.o.caFile}: no such file` };
        if (!ca.includes('-----BEGIN CERTIFICATE-----')) return { ok: false, retryable: true, error: `ca_file ${this.o.caFile}: no PEM certificate in it` };
      } catch (e) {
        return { ok: false, retryable: true, error: `ca_file ${(e as Error).message}` };
      }
    }
    try {
      this.body ??= encodeTraceRequest(this.o.resource, this.o.scope, batch);
    } catch (e) {
      return { ok: false, retryable: false, error: `encoding the batch: ${(e as Error).message}` };
    }
    return postTraces(
      { url: this.url!, headers: this.o.headers, ca, timeoutMs: this.o.timeoutMs, agent: this.agent!, userAgent: this.userAgent },
      this.body,
    );
  }

  private afterPost(r: PostResult, mayRetry: boolean): void {
    const batch = this.batch!;
    if (r.ok) {
      this.exported += batch.length;
      this.lastError = null;
    } else {
      this.failedExports++;
      this.lastError = `${this.target}: ${r.error}`;
      if (r.retryable && mayRetry && this.attempts < this.o.maxAttempts) {
        const backoff = Math.min(this.o.maxRetryDelayMs, this.o.firstRetryDelayMs * 2 ** (this.attempts - 1));
        const jittered = backoff * (0.8 + Math.random() * 0.4);
        this.schedule(Math.min(this.o.maxRetryDelayMs, Math.max(jittered, r.retryAfterMs ?? 0)));
        return;
      }
      this.drop(batch.length);
    }
    this.batch = null;
    this.body = null;
    if (this.queue.length > 0 && !this.closed) this.schedule(this.queue.length >= this.o.maxBatch ? 0 : this.o.flushDelayMs);
  }

  /**
   * Stops the timers, waits for a send under way, then makes one last attempt for what is
   * queued (no retries, stopping at the first failure); what is not delivered counts as dropped.
   */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.sending) await this.sending;
    while (this.url && (this.batch || this.queue.length > 0)) {
      if (!this.batch) { this.batch = this.queue.splice(0, this.o.maxBatch); this.body = null; this.attempts = 0; }
      const r = await this.post();
      this.afterPost(r, false);
      if (!r.ok) break; // the collector is away: do not hold the stop up batch after batch
    }
    this.drop(this.queue.length);
    this.queue = [];
    this.agent?.destroy();
  }
}
