// The learning topic's messages on the wire: a fixed binary header and a vector payload, so that
// a model of d parameters costs 4·d bytes plus ~40, and decoding a hostile message can only end
// in a LearningWireError, never in a crash or an allocation the message chose.
//
//   0  magic "X6L1"
//   4  type u8 (1 update, 2 model request, 3 model, 4 masked update, 5 round keys, 6 key shares, 7 unmask)
//   5  flags u8 (bit 0: payload is uint32, not float32)   6  reserved u16 = 0
//   8  round u32      12  model version u32      16  sender length u16   18  sender (UTF-8)
//   then: payload count u32, payload (4 bytes each, little-endian), then extra length u32 and
//   extra bytes (type-specific: keys and shares of the secure mode).

export const MAGIC = 0x58364c31; // "X6L1"
export const MAX_VALUES = 1 << 16;
export const MAX_SENDER = 128;
export const MAX_EXTRA = 1 << 16;

export type MessageType = 'update' | 'model-request' | 'model' | 'masked' | 'keys' | 'shares' | 'unmask';
const TYPE_CODES: Record<MessageType, number> = { update: 1, 'model-request': 2, model: 3, masked: 4, keys: 5, shares: 6, unmask: 7 };
const TYPE_NAMES = Object.fromEntries(Object.entries(TYPE_CODES).map(([k, v]) => [v, k])) as Record<number, MessageType>;

export interface LearningMessage {
  type: MessageType;
  round: number;
  modelVersion: number;
  sender: string;
  /** float32 values (update, model) or uint32 values (masked); empty for requests. */
  values: Float32Array | Uint32Array;
  extra: Uint8Array;
}

export class LearningWireError extends Error {
  override readonly name = 'LearningWireError';
}

export function encodeMessage(m: Omit<LearningMessage, 'extra'> & { extra?: Uint8Array }): Uint8Array {
  const sender = new TextEncoder().encode(m.sender);
  if (sender.length === 0 || sender.length > MAX_SENDER) throw new LearningWireError(`sender must be 1…${MAX_SENDER} bytes`);
  if (m.values.length > MAX_VALUES) throw new LearningWireError(`at most ${MAX_VALUES} values, got ${m.values.length}`);
  const extra = m.extra ?? new Uint8Array(0);
  if (extra.length > MAX_EXTRA) throw new LearningWireError(`extra at most ${MAX_EXTRA} bytes`);
  for (const [name, v] of [['round', m.round], ['modelVersion', m.modelVersion]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new LearningWireError(`${name} must be a u32, got ${v}`);
  }
  const size = 18 + sender.length + 4 + 4 * m.values.length + 4 + extra.length;
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, MAGIC);
  dv.setUint8(4, TYPE_CODES[m.type]);
  dv.setUint8(5, m.values instanceof Uint32Array ? 1 : 0);
  dv.setUint32(8, m.round, true);
  dv.setUint32(12, m.modelVersion, true);
  dv.setUint16(16, sender.length, true);
  buf.set(sender, 18);
  let o = 18 + sender.length;
  dv.setUint32(o, m.values.length, true);
  o += 4;
  const ints = m.values instanceof Uint32Array;
  for (let i = 0; i < m.values.length; i++, o += 4) {
    if (ints) dv.setUint32(o, m.values[i]!, true);
    else dv.setFloat32(o, m.values[i]!, true);
  }
  dv.setUint32(o, extra.length, true);
  buf.set(extra, o + 4);
  return buf;
}

/** Decodes one message; throws LearningWireError saying what is wrong with it. */
export function decodeMessage(bytes: Uint8Array): LearningMessage {
  if (!(bytes instanceof Uint8Array)) throw new LearningWireError('message is not bytes');
  if (bytes.length < 26) throw new LearningWireError(`message of ${bytes.length} bytes is shorter than any header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0) !== MAGIC) throw new LearningWireError('bad magic (not a learning message)');
  const type = TYPE_NAMES[dv.getUint8(4)];
  if (!type) throw new LearningWireError(`unknown message type ${dv.getUint8(4)}`);
  const flags = dv.getUint8(5);
  if ((flags & ~1) !== 0 || dv.getUint16(6) !== 0) throw new LearningWireError('reserved bits set');
  const round = dv.getUint32(8, true);
  const modelVersion = dv.getUint32(12, true);
  const slen = dv.getUint16(16, true);
  if (slen === 0 || slen > MAX_SENDER) throw new LearningWireError(`sender length ${slen} outside 1…${MAX_SENDER}`);
  if (18 + slen + 4 > bytes.length) throw new LearningWireError('truncated sender');
  let sender: string;
  try {
    sender = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(18, 18 + slen));
  } catch {
    throw new LearningWireError('sender is not valid UTF-8');
  }
  let o = 18 + slen;
  const count = dv.getUint32(o, true);
  o += 4;
  if (count > MAX_VALUES) throw new LearningWireError(`${count} values exceed the limit of ${MAX_VALUES}`);
  if (o + 4 * count + 4 > bytes.length) throw new LearningWireError(`truncated payload: ${count} values announced`);
  const ints = (flags & 1) === 1;
  const values = ints ? new Uint32Array(count) : new Float32Array(count);
  for (let i = 0; i < count; i++, o += 4) values[i] = ints ? dv.getUint32(o, true) : dv.getFloat32(o, true);
  const elen = dv.getUint32(o, true);
  o += 4;
  if (elen > MAX_EXTRA || o + elen !== bytes.length) throw new LearningWireError(`extra of ${elen} bytes does not match the message length`);
  return { type, round, modelVersion, sender, values, extra: bytes.slice(o, o + elen) };
}
