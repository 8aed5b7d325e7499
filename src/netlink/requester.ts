// The request layer over one netlink socket: numbers requests, matches replies by sequence
// number (and port id, once known), collects multi-part dumps until NLMSG_DONE, turns the
// status in NLMSG_DONE and NLMSG_ERROR (with its ext-ack text) into typed errors, retries
// dumps the kernel marked inconsistent (NLM_F_DUMP_INTR), and fails requests on a deadline
// or when the transport resets. Requests go one at a time: the kernel runs only one dump per
// socket (a second gets EBUSY), and one in flight makes every reply unambiguous.
import {
  NetlinkDecodeError,
  NetlinkDumpInterruptedError,
  NetlinkKernelError,
  NetlinkTimeoutError,
  NetlinkTransportError,
} from './errors.ts';
import { NlmsgFlag, NlmsgType, decodeDatagram, decodeDoneStatus, decodeErrorReply, encodeMessage, type NetlinkMessage } from './nlmsg.ts';

/**
 * What requests need from a transport. The bridge transport (src/netlink/transport.ts) has
 * this shape; the unit tests use an in-memory stand-in.
 */
export interface DatagramLink {
  send(datagram: Uint8Array): void;
  onDatagram(listener: (datagram: Uint8Array) => void): () => void;
  onReset(listener: (reason: Error) => void): () => void;
  joinGroup(groupId: number): Promise<void>;
}

export interface RequesterOptions {
  /** Deadline per request (each dump attempt counts as one), ms. */
  timeoutMs?: number;
  /** How many times an interrupted dump is repeated before giving up. */
  dumpRetries?: number;
  /**
   * Our socket's netlink port id (the bridge reports it in READY; a restarted bridge has a new
   * one, hence a getter). Replies whose nlmsg_pid differs are not ours. Without it, replies
   * are matched by sequence number alone, which is safe because the bridge relays only what
   * the kernel sends to its own socket.
   */
  portId?: number | (() => number | undefined);
}

export interface RequesterStats {
  requests: number;
  /** Replies for no request in flight (late after a timeout, or not ours). */
  stale: number;
  /** Datagrams that did not decode. */
  malformed: number;
  dumpRetries: number;
  notifications: number;
}

interface Exchange {
  seq: number;
  what: string;
  dump: boolean;
  messages: NetlinkMessage[];
  interrupted: boolean;
  done(messages: NetlinkMessage[]): void;
  fail(err: Error): void;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_DUMP_RETRIES = 3;

export class NetlinkRequester {
  readonly stats: RequesterStats = { requests: 0, stale: 0, malformed: 0, dumpRetries: 0, notifications: 0 };
  private readonly timeoutMs: number;
  private readonly dumpRetries: number;
  private readonly portId: () => number | undefined;
  private seq = 0;
  private current: Exchange | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly notificationListeners = new Set<(msg: NetlinkMessage) => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();
  private readonly unsubscribe: Array<() => void>;

  constructor(
    private readonly link: DatagramLink,
    opts: RequesterOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.dumpRetries = opts.dumpRetries ?? DEFAULT_DUMP_RETRIES;
    const port = opts.portId;
    this.portId = typeof port === 'function' ? port : () => port;
    this.unsubscribe = [
      link.onDatagram((d) => this.receive(d)),
      link.onReset((reason) => this.current?.fail(new NetlinkTransportError(`netlink transport reset: ${reason.message}`))),
    ];
  }

  /**
   * A non-dump request (`what` names it in errors). Sent with NLM_F_ACK; resolves with the
   * reply messages once the kernel acknowledges, rejects with NetlinkKernelError on -errno.
   */
  request(type: number, payload: Uint8Array, what: string, flags = 0): Promise<NetlinkMessage[]> {
    return this.enqueue(() => this.exchange(type, flags | NlmsgFlag.REQUEST | NlmsgFlag.ACK, payload, what, false).then((x) => x.messages));
  }

  /** A dump: every message until NLMSG_DONE; repeated while the kernel flags it inconsistent. */
  dump(type: number, payload: Uint8Array, what: string): Promise<NetlinkMessage[]> {
    return this.enqueue(async () => {
      for (let attempt = 0; ; attempt++) {
        const x = await this.exchange(type, NlmsgFlag.REQUEST | NlmsgFlag.DUMP, payload, what, true);
        if (!x.interrupted) return x.messages;
        if (attempt >= this.dumpRetries)
          throw new NetlinkDumpInterruptedError(`${what}: dump still inconsistent (NLM_F_DUMP_INTR) after ${attempt + 1} attempts`);
        this.stats.dumpRetries++;
      }
    });
  }

  /** Messages that answer no request: multicast notifications (sequence number 0). */
  onNotification(listener: (msg: NetlinkMessage) => void): () => void {
    this.notificationListeners.add(listener);
    return () => this.notificationListeners.delete(listener);
  }

  /** Datagrams that could not be decoded while no request was waiting, and listener failures. */
  onError(listener: (err: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  joinGroup(groupId: number): Promise<void> {
    return this.link.joinGroup(groupId);
  }

  /** Fails what is in flight and refuses new requests; the transport itself is the caller's to close. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe) off();
    this.current?.fail(new NetlinkTransportError('netlink requester closed'));
  }

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private nextSeq(): number {
    // Never 0: the kernel's multicasts use sequence number 0.
    this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    return this.seq;
  }

  private exchange(type: number, flags: number, payload: Uint8Array, what: string, dump: boolean): Promise<{ messages: NetlinkMessage[]; interrupted: boolean }> {
    if (this.closed) return Promise.reject(new NetlinkTransportError(`${what}: netlink requester closed`));
    return new Promise((resolve, reject) => {
      const seq = this.nextSeq();
      const timer = setTimeout(() => x.fail(new NetlinkTimeoutError(`${what}: no complete answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        if (this.current === x) this.current = undefined;
      };
      const x: Exchange = {
        seq,
        what,
        dump,
        messages: [],
        interrupted: false,
        done: (messages) => {
          finish();
          resolve({ messages, interrupted: x.interrupted });
        },
        fail: (err) => {
          finish();
          reject(err);
        },
      };
      this.current = x;
      this.stats.requests++;
      try {
        this.link.send(encodeMessage({ type, flags, seq, pid: 0 }, payload));
      } catch (e) {
        x.fail(e instanceof NetlinkTransportError ? e : new NetlinkTransportError(`${what}: send failed: ${(e as Error).message}`, { cause: e }));
      }
    });
  }

  private receive(datagram: Uint8Array): void {
    let messages: NetlinkMessage[];
    try {
      messages = decodeDatagram(datagram);
    } catch (e) {
      this.stats.malformed++;
      this.report(e as Error);
      return;
    }
    for (const m of messages) {
      try {
        this.dispatch(m);
      } catch (e) {
        this.stats.malformed++;
        this.report(e as Error);
      }
    }
  }

  /** A decode failure goes to the request waiting (it may have been its reply), else to onError. */
  private report(err: Error): void {
    const x = this.current;
    if (x && err instanceof NetlinkDecodeError) {
      x.fail(new NetlinkDecodeError(`${x.what}: ${err.message.replace(/ \(at byte \d+\)$/, '')}`, err.offset));
      return;
    }
    for (const l of this.errorListeners) l(err);
  }

  private dispatch(m: NetlinkMessage): void {
    const x = this.current;
    if (m.seq === 0 && m.pid === 0) {
      this.stats.notifications++;
      for (const l of this.notificationListeners) {
        try {
          l(m);
        } catch (e) {
          for (const el of this.errorListeners) el(e as Error);
        }
      }
      return;
    }
    const port = x ? this.portId() : undefined;
    if (!x || m.seq !== x.seq || (port !== undefined && m.pid !== port)) {
      this.stats.stale++;
      return;
    }
    switch (m.type) {
      case NlmsgType.NOOP:
        return;
      case NlmsgType.ERROR: {
        const { error, extAck } = decodeErrorReply(m);
        if (error === 0) x.done(x.messages);
        else x.fail(new NetlinkKernelError(-error, 'error', x.what, extAck.message, extAck.offset));
        return;
      }
      case NlmsgType.DONE: {
        const { status, extAck } = decodeDoneStatus(m);
        if (m.flags & NlmsgFlag.DUMP_INTR) x.interrupted = true;
        if (status !== 0) x.fail(new NetlinkKernelError(-status, 'done', x.what, extAck.message, extAck.offset));
        else x.done(x.messages);
        return;
      }
      case NlmsgType.OVERRUN:
        x.fail(new NetlinkTransportError(`${x.what}: NLMSG_OVERRUN, data lost`));
        return;
      default:
        if (m.type < NlmsgType.MIN_TYPE) throw new NetlinkDecodeError(`unknown control message type ${m.type}`, 0);
        if (m.flags & NlmsgFlag.DUMP_INTR) x.interrupted = true;
        x.messages.push(m);
    }
  }
}
