// NetlinkTransport over the bridge process (native/README.md). Owns the process: starts it,
// waits for READY, relays datagrams, joins groups, and when it dies fails what was in flight
// (onReset), restarts it with backoff and joins the groups again.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { MeshError } from '../mesh/driver.ts';
import {
  MAX_SEND,
  RecordKind,
  RecordReader,
  encodeGroupRecord,
  encodeRecord,
  parseError,
  parseReady,
  parseRefused,
  parseResult,
  refusalToNetlinkErrors,
  type BridgeErrorReport,
  type BridgeRecord,
} from './bridge-framing.ts';
import { BoundedLog } from './bridge-log.ts';
import { findBridge } from './bridge-path.ts';
import { errnoLabel } from './errno.ts';
import type { BridgeOptions, BridgeReady, NetlinkTransport } from './transport.ts';

export interface BridgeTransport extends NetlinkTransport {
  /** The binary in use. */
  readonly path: string;
  /** What the bridge reported at its latest start. */
  readonly ready: BridgeReady;
  /** Process id of the running bridge, undefined while it is down. */
  readonly pid: number | undefined;
  /** How many times the bridge was restarted after dying. */
  readonly restarts: number;
  /** The bridge's recent stderr lines and error reports. */
  log(): string[];
  /** ERROR records (lost multicasts, dropped datagrams...) as the bridge reports them. */
  onBridgeError(listener: (report: BridgeErrorReport) => void): () => void;
}

const FAMILY_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
const STABLE_RUN_MS = 30_000;
const EXIT_GRACE_MS = 2_000;

interface PendingMembership {
  kind: number;
  group: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

type State = 'starting' | 'ready' | 'down' | 'closed';

function validate(opts: BridgeOptions): string[] {
  if (opts.netns !== undefined && !/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/.test(opts.netns)) {
    throw new MeshError('INVALID', `bad network namespace name: ${JSON.stringify(opts.netns)}`);
  }
  if (opts.protocol === 'route') {
    if (opts.families?.length) throw new MeshError('INVALID', 'route bridges take no families');
    return ['route'];
  }
  if (opts.protocol !== 'generic') throw new MeshError('INVALID', `unknown netlink protocol: ${String(opts.protocol)}`);
  const fams = opts.families ?? [];
  if (fams.length < 1 || fams.length > 4) throw new MeshError('INVALID', 'a generic bridge needs 1 to 4 family names');
  for (const f of fams) if (!FAMILY_NAME.test(f)) throw new MeshError('INVALID', `bad generic netlink family name: ${JSON.stringify(f)}`);
  return ['generic', ...fams];
}

class BridgeProcessTransport implements BridgeTransport {
  readonly path: string;
  private readonly args: string[];
  private readonly readyTimeoutMs: number;
  private readonly joinTimeoutMs: number;
  private readonly restartMinMs: number;
  private readonly restartMaxMs: number;
  private readonly bridgeLog = new BoundedLog();
  private readonly datagramListeners = new Set<(d: Uint8Array) => void>();
  private readonly resetListeners = new Set<(e: Error) => void>();
  private readonly errorListeners = new Set<(r: BridgeErrorReport) => void>();
  private readonly groups = new Set<number>();
  private pending: PendingMembership[] = [];
  private readyWaiters: Waiter[] = [];
  private child: ChildProcessWithoutNullStreams | undefined;
  private generation = 0;
  private state: State = 'down';
  private current: BridgeReady | undefined;
  private lastFatal: string | undefined;
  private backoffMs: number;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartCount = 0;
  private exitWaiters: (() => void)[] = [];

  constructor(private readonly opts: BridgeOptions) {
    this.args = validate(opts);
    this.path = findBridge(opts.bridgePath);
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
    this.joinTimeoutMs = opts.joinTimeoutMs ?? 5_000;
    this.restartMinMs = opts.restartMinMs ?? 100;
    this.restartMaxMs = opts.restartMaxMs ?? 5_000;
    this.backoffMs = this.restartMinMs;
  }

  get ready(): BridgeReady {
    if (!this.current) throw new MeshError('TRANSPORT', 'netlink bridge has not started');
    return this.current;
  }

  get pid(): number | undefined {
    return this.state === 'ready' ? this.child?.pid : undefined;
  }

  get restarts(): number {
    return this.restartCount;
  }

  log(): string[] {
    return this.bridgeLog.snapshot();
  }

  onDatagram(listener: (d: Uint8Array) => void): () => void {
    this.datagramListeners.add(listener);
    return () => this.datagramListeners.delete(listener);
  }

  onReset(listener: (e: Error) => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }

  onBridgeError(listener: (r: BridgeErrorReport) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  send(datagram: Uint8Array): void {
    if (this.state !== 'ready' || !this.child) {
      throw new MeshError('TRANSPORT', `netlink bridge is not running (${this.state})`);
    }
    if (datagram.length < 16 || datagram.length > MAX_SEND) {
      throw new MeshError('INVALID', `netlink datagram of ${datagram.length} bytes (must be 16..${MAX_SEND})`);
    }
    this.child.stdin.write(encodeRecord(RecordKind.NL, datagram));
  }

  async joinGroup(groupId: number): Promise<void> {
    if (!Number.isInteger(groupId) || groupId < 1 || groupId > 0xffffffff) {
      throw new MeshError('INVALID', `bad multicast group id: ${groupId}`);
    }
    if (this.state === 'closed') throw new MeshError('TRANSPORT', 'netlink transport is closed');
    if (this.state !== 'ready') await this.whenReady();
    await this.membership(RecordKind.JOIN, groupId);
    this.groups.add(groupId);
  }

  /** First start: resolves with READY, or rejects with why the bridge could not start. */
  async open(): Promise<this> {
    await this.start();
    return this;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasUp = this.state === 'ready';
    this.state = 'closed';
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const closed = new MeshError('TRANSPORT', 'netlink transport closed');
    this.failPending(closed);
    for (const w of this.readyWaiters.splice(0)) w.reject(closed);
    const child = this.child;
    if (child) {
      const exited = new Promise<void>((r) => this.exitWaiters.push(r));
      child.stdin.end(); // the bridge exits 0 on end of input
      const t = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
      await exited;
      clearTimeout(t);
    }
    if (wasUp) this.emitReset(closed);
  }

  private whenReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
      const t = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((x) => x !== w);
        reject(new MeshError('TIMEOUT', `netlink bridge not running after ${this.joinTimeoutMs} ms`));
      }, this.joinTimeoutMs);
      this.readyWaiters.push(w);
    });
  }

  private membership(kind: number, group: number): Promise<void> {
    const child = this.child;
    if (!child || this.state !== 'ready') return Promise.reject(new MeshError('TRANSPORT', 'netlink bridge is not running'));
    return new Promise((resolve, reject) => {
      const p: PendingMembership = {
        kind,
        group,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pending = this.pending.filter((x) => x !== p);
          reject(new MeshError('TIMEOUT', `netlink bridge did not answer JOIN ${group} within ${this.joinTimeoutMs} ms`));
        }, this.joinTimeoutMs),
      };
      this.pending.push(p);
      child.stdin.write(encodeGroupRecord(kind as 2 | 3, group));
    });
  }

  private start(): Promise<BridgeReady> {
    const gen = ++this.generation;
    this.state = 'starting';
    this.lastFatal = undefined;
    const cmd = this.opts.netns ? 'ip' : this.path;
    const argv = this.opts.netns ? ['netns', 'exec', this.opts.netns, this.path, ...this.args] : this.args;
    return new Promise<BridgeReady>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | undefined, r?: BridgeReady) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(r!);
      };
      const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
      this.child = child;
      const reader = new RecordReader();
      const timer = setTimeout(() => {
        settle(new MeshError('TRANSPORT', `netlink bridge ${this.path} sent no READY within ${this.readyTimeoutMs} ms`));
        child.kill('SIGKILL');
      }, this.readyTimeoutMs);

      child.stdin.on('error', (e) => this.bridgeLog.add(`stdin: ${e.message}`));
      child.stderr.on('data', (d: Buffer) => this.bridgeLog.write(d));
      child.stdout.on('data', (chunk: Buffer) => {
        if (gen !== this.generation) return;
        let records: BridgeRecord[];
        try {
          records = reader.push(chunk);
        } catch (e) {
          this.bridgeLog.add(String((e as Error).message));
          child.kill('SIGKILL');
          return;
        }
        for (const rec of records) this.handleRecord(rec, (r) => settle(undefined, r));
      });
      let exited = false;
      const onGone = (code: number | null, signal: string | null, spawnError?: Error) => {
        if (exited) return;
        exited = true;
        const why = spawnError
          ? `could not run ${cmd}: ${spawnError.message}`
          : `exited with ${signal ? `signal ${signal}` : `code ${code}`}`;
        const detail = this.lastFatal ?? this.bridgeLog.last();
        const err = new MeshError('TRANSPORT', `netlink bridge ${this.path} ${why}${detail ? `: ${detail}` : ''}`);
        settle(err);
        if (gen === this.generation) this.handleExit(err);
      };
      child.on('error', (e) => onGone(null, null, e));
      child.on('exit', (code, signal) => onGone(code, signal));
    });
  }

  private handleRecord(rec: BridgeRecord, onReady: (r: BridgeReady) => void): void {
    try {
      switch (rec.kind) {
        case RecordKind.NL:
          this.emitDatagram(rec.payload);
          return;
        case RecordKind.READY: {
          const r = parseReady(rec.payload);
          this.current = r;
          this.state = 'ready';
          this.startedAt = Date.now();
          onReady(r);
          for (const w of this.readyWaiters.splice(0)) w.resolve();
          return;
        }
        case RecordKind.RESULT: {
          const r = parseResult(rec.payload);
          const i = this.pending.findIndex((p) => p.kind === r.kind && p.group === r.group);
          if (i < 0) return;
          const [p] = this.pending.splice(i, 1);
          clearTimeout(p!.timer);
          if (r.errno === 0) p!.resolve();
          else if (r.errno === 1) {
            const fams = this.current ? [...this.current.families.keys()].join(', ') : this.args.join(' ');
            p!.reject(new MeshError('INVALID', `multicast group ${r.group} does not belong to the bridge's families (${fams})`, 1));
          } else p!.reject(new MeshError('TRANSPORT', `joining multicast group ${r.group} failed: ${errnoLabel(r.errno)}`, r.errno));
          return;
        }
        case RecordKind.REFUSED: {
          const r = parseRefused(rec.payload);
          this.bridgeLog.add(`refused (${errnoLabel(r.errno)}): ${r.reason}`);
          if (r.headers.length) this.emitDatagram(refusalToNetlinkErrors(r, this.current?.portId ?? 0));
          return;
        }
        case RecordKind.ERROR: {
          const r = parseError(rec.payload);
          // The number is the bridge's kernel's (MIPS numbers differ): named by this arch, kept as is.
          if (r.fatal) this.lastFatal = `${r.text} (${errnoLabel(r.errno)})`;
          this.bridgeLog.add(`${r.fatal ? 'fatal' : 'error'} (${errnoLabel(r.errno)}): ${r.text}`);
          for (const l of this.errorListeners) l(r);
          return;
        }
        default:
          this.bridgeLog.add(`unknown record kind ${rec.kind} ignored`);
      }
    } catch (e) {
      this.bridgeLog.add(`record kind ${rec.kind}: ${(e as Error).message}`);
    }
  }

  private emitDatagram(d: Uint8Array): void {
    for (const l of this.datagramListeners) {
      try {
        l(d);
      } catch (e) {
        // a listener's bug must not stop the stream for the others
        this.bridgeLog.add(`datagram listener threw: ${(e as Error).message}`);
      }
    }
  }

  private emitReset(err: Error): void {
    for (const l of this.resetListeners) {
      try {
        l(err);
      } catch (e) {
        this.bridgeLog.add(`reset listener threw: ${(e as Error).message}`);
      }
    }
  }

  private failPending(err: Error): void {
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  private handleExit(err: MeshError): void {
    this.child = undefined;
    for (const w of this.exitWaiters.splice(0)) w();
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'down';
    this.failPending(err);
    this.bridgeLog.add(err.message);
    if (wasReady) {
      this.emitReset(err);
      this.scheduleRestart();
    }
    // a failed (re)start is retried by restart() itself
  }

  private scheduleRestart(): void {
    if (this.state === 'closed' || this.restartTimer) return;
    if (this.startedAt && Date.now() - this.startedAt >= STABLE_RUN_MS) this.backoffMs = this.restartMinMs;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.restartMaxMs);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart();
    }, delay);
  }

  private async restart(): Promise<void> {
    if (this.state === 'closed') return;
    this.restartCount++;
    try {
      await this.start();
    } catch (e) {
      this.bridgeLog.add(`restart failed: ${(e as Error).message}`);
      // close() may have run while start() was pending
      if ((this.state as State) !== 'closed') this.state = 'down';
      this.scheduleRestart();
      return;
    }
    for (const g of this.groups) {
      try {
        await this.membership(RecordKind.JOIN, g);
      } catch (e) {
        this.bridgeLog.add(`re-joining group ${g} failed: ${(e as Error).message}`);
      }
    }
  }
}

/**
 * Starts the bridge and waits for its READY. Rejects with MeshError 'TRANSPORT' (naming the
 * binary and the bridge's own reason) when it is missing or cannot open its socket, and with
 * 'INVALID' for bad options.
 */
export async function openBridge(opts: BridgeOptions): Promise<BridgeTransport> {
  return new BridgeProcessTransport(opts).open();
}
