// Netlink failures -> MeshError codes. The same errno means different things depending on
// the request: -ENOENT from the controller is "batman-adv not loaded", from an originator,
// neighbour or gateway dump (in NLMSG_DONE) it is "no active primary interface".
import {
  NetlinkDecodeError,
  NetlinkDumpInterruptedError,
  NetlinkEncodeError,
  NetlinkKernelError,
  NetlinkTimeoutError,
  NetlinkTransportError,
} from '../../netlink/errors.ts';
import { Errno } from '../../netlink/errno.ts';
import { MeshError, type MeshErrorCode } from '../driver.ts';

export interface ErrorContext {
  /** What was being done, for the message: "originators of bat0". */
  what: string;
  /** What -ENOENT means for this request. */
  enoent?: MeshErrorCode;
}

const EXPLAIN: Partial<Record<MeshErrorCode, string>> = {
  NO_MODULE: 'batman-adv is not loaded (no batadv netlink family)',
  NO_MESH: 'no such batman-adv mesh interface',
  NO_PRIMARY: 'the mesh has no active primary interface',
  NO_DEVICE: 'no such interface',
  PERMISSION: 'permission denied (needs CAP_NET_ADMIN)',
  INVALID: 'invalid request',
};

export function codeForErrno(errno: number, enoent: MeshErrorCode = 'NO_DEVICE'): MeshErrorCode {
  switch (errno) {
    case Errno.ENOENT:
      return enoent;
    case Errno.ENODEV:
      return 'NO_DEVICE';
    case Errno.ENONET:
      return 'NO_MESH';
    case Errno.EPERM:
    case Errno.EACCES:
      return 'PERMISSION';
    case Errno.EINVAL:
    case Errno.ERANGE:
    case Errno.EOPNOTSUPP:
    case Errno.EEXIST:
      return 'INVALID';
    default:
      return 'PROTOCOL';
  }
}

export function toMeshError(err: unknown, ctx: ErrorContext): MeshError {
  if (err instanceof MeshError) return err;
  if (err instanceof NetlinkKernelError) {
    const code = codeForErrno(err.errno, ctx.enoent);
    const why = EXPLAIN[code] ?? 'kernel error';
    const ext = err.extAckMessage ? `; kernel says: ${err.extAckMessage}` : '';
    return new MeshError(code, `${ctx.what}: ${why} (${err.errnoName}${err.source === 'done' ? ' in NLMSG_DONE' : ''}${ext})`, err.errno);
  }
  if (err instanceof NetlinkTimeoutError) return new MeshError('TIMEOUT', `${ctx.what}: ${err.message}`);
  if (err instanceof NetlinkTransportError) {
    // The bridge transport says itself what went wrong (not running, datagram too large...).
    const code = err.cause instanceof MeshError ? err.cause.code : 'TRANSPORT';
    return new MeshError(code, `${ctx.what}: ${err.message}`);
  }
  if (err instanceof NetlinkEncodeError) return new MeshError('INVALID', `${ctx.what}: ${err.message}`);
  if (err instanceof NetlinkDecodeError || err instanceof NetlinkDumpInterruptedError)
    return new MeshError('PROTOCOL', `${ctx.what}: ${err.message}`);
  return new MeshError('TRANSPORT', `${ctx.what}: ${(err as Error)?.message ?? String(err)}`);
}
