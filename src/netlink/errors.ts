// The ways a netlink exchange fails, each its own class so that callers (the batman-adv
// driver) can map them to MeshError codes without parsing message text.
import { errnoName } from './errno.ts';

/** A frame that does not decode: truncated, a length field that lies, a value of the wrong size. */
export class NetlinkDecodeError extends Error {
  override readonly name = 'NetlinkDecodeError';
  constructor(
    message: string,
    /** Byte offset in the buffer being decoded where the problem was found. */
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
  }
}

/** A value that cannot be put on the wire (out of range for its attribute type, ...). */
export class NetlinkEncodeError extends Error {
  override readonly name = 'NetlinkEncodeError';
}

/** Where the kernel reported the error: an NLMSG_ERROR reply, or the status in NLMSG_DONE. */
export type KernelErrorSource = 'error' | 'done';

/** The kernel refused a request: -errno in NLMSG_ERROR or in NLMSG_DONE, plus any ext-ack text. */
export class NetlinkKernelError extends Error {
  override readonly name = 'NetlinkKernelError';
  readonly errnoName: string;
  constructor(
    /** Positive errno (2 for ENOENT). */
    readonly errno: number,
    readonly source: KernelErrorSource,
    /** What the request was, for the message ("GET_ORIGINATORS"). */
    readonly request: string,
    /** NLMSGERR_ATTR_MSG: the kernel's own explanation, when it gave one. */
    readonly extAckMessage?: string,
    /** NLMSGERR_ATTR_OFFS: byte offset of the offending attribute in our request. */
    readonly extAckOffset?: number,
  ) {
    const name = errnoName(errno);
    super(`${request}: ${name}${extAckMessage ? `: ${extAckMessage}` : ''}${source === 'done' ? ' (in NLMSG_DONE)' : ''}`);
    this.errnoName = name;
  }
}

/** No complete answer within the request's deadline. */
export class NetlinkTimeoutError extends Error {
  override readonly name = 'NetlinkTimeoutError';
}

/** The transport (netlink bridge) died, restarted, was closed or refused to send. */
export class NetlinkTransportError extends Error {
  override readonly name = 'NetlinkTransportError';
}

/** A dump stayed inconsistent (NLM_F_DUMP_INTR) through every retry. */
export class NetlinkDumpInterruptedError extends Error {
  override readonly name = 'NetlinkDumpInterruptedError';
}
