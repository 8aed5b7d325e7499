// Netlink headers and attributes are in the host's byte order (not network order). Every
// target the agent runs on is little-endian, but the codec asks instead of assuming, so that
// the same code decodes correctly on a big-endian machine too.
import { endianness } from 'node:os';

export const HOST_LITTLE_ENDIAN = endianness() === 'LE';

export function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Netlink rounds every header, message and attribute up to 4 bytes. */
export function align4(n: number): number {
  // Arithmetic, not `& ~3`: bit operations would turn lengths of 2^31 and above negative.
  return n + 3 - ((n + 3) % 4);
}
