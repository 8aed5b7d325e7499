// Generic netlink: the 4-byte genlmsghdr (cmd, version, reserved) between the nlmsghdr and
// the attributes (include/uapi/linux/genetlink.h).
import { NetlinkDecodeError } from './errors.ts';
import { type NetlinkMessage } from './nlmsg.ts';

export const GENL_HDRLEN = 4;

export interface GenlMessage {
  cmd: number;
  version: number;
  /** The attribute bytes after the genl header (a view). */
  attrs: Uint8Array;
}

export function encodeGenlPayload(cmd: number, version: number, attrs: Uint8Array): Uint8Array {
  const out = new Uint8Array(GENL_HDRLEN + attrs.length);
  out[0] = cmd;
  out[1] = version;
  out.set(attrs, GENL_HDRLEN);
  return out;
}

/** Reads the genl header of a message; `hdrSize` is the family's fixed header after it (0 for batadv). */
export function decodeGenl(msg: NetlinkMessage, hdrSize = 0): GenlMessage {
  const p = msg.payload;
  if (p.length < GENL_HDRLEN + hdrSize)
    throw new NetlinkDecodeError(`generic netlink message of ${p.length} bytes, need ${GENL_HDRLEN + hdrSize}`, 0);
  return { cmd: p[0]!, version: p[1]!, attrs: p.subarray(GENL_HDRLEN + hdrSize) };
}
