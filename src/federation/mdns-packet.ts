// The few DNS messages mesh discovery needs (RFC 6762 multicast DNS, the record layout of the
// libp2p mDNS spec): a PTR query for the fleet's service, and a response with a PTR to the
// node's instance name plus a TXT record of `dnsaddr=<multiaddr>` strings. Encoding writes no
// name compression; decoding accepts it (other responders use it) with bounded pointer chains,
// and everything from the wire is length-checked: a malformed packet is a MdnsPacketError.

export const TYPE_PTR = 12;
export const TYPE_TXT = 16;
const CLASS_IN = 1;
// mDNS: the top bit of a record's class is "cache flush" (unique record), of a question's "QU".
const CLASS_MASK = 0x7fff;
const FLAGS_RESPONSE = 0x8400; // QR + AA
/** Records per packet we look at; more than a fleet response ever carries. */
const MAX_RECORDS = 64;
const MAX_NAME = 255;
const MAX_POINTER_HOPS = 16;
export const TTL_S = 120;

export class MdnsPacketError extends Error {
  override readonly name = 'MdnsPacketError';
}

export interface MdnsQuestion {
  name: string;
  type: number;
}

export interface MdnsRecord {
  name: string;
  type: number;
  ttl: number;
  /** PTR: the target name; TXT: the strings; anything else: null (skipped). */
  data: string | string[] | null;
}

export interface MdnsPacket {
  id: number;
  response: boolean;
  questions: MdnsQuestion[];
  /** Answer, authority and additional records together. */
  records: MdnsRecord[];
}

// ---- encoding ----

function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.')) {
    const b = Buffer.from(label, 'utf8');
    if (b.length === 0 || b.length > 63) throw new MdnsPacketError(`DNS label '${label}' must be 1..63 bytes`);
    parts.push(Buffer.of(b.length), b);
  }
  parts.push(Buffer.of(0));
  const out = Buffer.concat(parts);
  if (out.length > MAX_NAME) throw new MdnsPacketError(`DNS name longer than ${MAX_NAME} bytes`);
  return out;
}

function header(id: number, flags: number, qd: number, an: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  return h;
}

function record(name: string, type: number, cacheFlush: boolean, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(CLASS_IN | (cacheFlush ? 0x8000 : 0), 2);
  fixed.writeUInt32BE(TTL_S, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([encodeName(name), fixed, rdata]);
}

export function encodeQuery(id: number, service: string): Buffer {
  return Buffer.concat([header(id, 0, 1, 0), encodeName(service), Buffer.from([0, TYPE_PTR, 0, CLASS_IN])]);
}

/** The announcement / answer: PTR service → instance, TXT instance = dnsaddr strings. */
export function encodeResponse(service: string, instance: string, txt: string[]): Buffer {
  const strings = txt.map((t) => {
    const b = Buffer.from(t, 'utf8');
    if (b.length > 255) throw new MdnsPacketError('TXT string longer than 255 bytes');
    return Buffer.concat([Buffer.of(b.length), b]);
  });
  return Buffer.concat([
    header(0, FLAGS_RESPONSE, 0, 2),
    record(service, TYPE_PTR, false, encodeName(instance)),
    record(instance, TYPE_TXT, true, Buffer.concat(strings.length ? strings : [Buffer.of(0)])),
  ]);
}

// ---- decoding ----

function fail(why: string): never {
  throw new MdnsPacketError(why);
}

/** Reads a (possibly compressed) name at `at`; returns it and the offset after it in place. */
function readName(b: Buffer, at: number): [string, number] {
  const labels: string[] = [];
  let len = 0;
  let hops = 0;
  let end = -1;
  let p = at;
  for (;;) {
    if (p >= b.length) fail('name runs past the packet');
    const n = b[p]!;
    if (n === 0) {
      if (end < 0) end = p + 1;
      break;
    }
    if ((n & 0xc0) === 0xc0) {
      if (p + 1 >= b.length) fail('truncated name pointer');
      const target = ((n & 0x3f) << 8) | b[p + 1]!;
      // Only backwards: a forward or self pointer could loop.
      if (target >= p || ++hops > MAX_POINTER_HOPS) fail('bad name pointer');
      if (end < 0) end = p + 2;
      p = target;
      continue;
    }
    if (n & 0xc0) fail('unknown label type');
    if (p + 1 + n > b.length) fail('label runs past the packet');
    len += n + 1;
    if (len > MAX_NAME) fail('name too long');
    labels.push(b.toString('utf8', p + 1, p + 1 + n));
    p += 1 + n;
  }
  return [labels.join('.'), end];
}

function readTxt(b: Buffer, start: number, end: number): string[] {
  const out: string[] = [];
  let p = start;
  while (p < end) {
    const n = b[p]!;
    if (p + 1 + n > end) fail('TXT string runs past its record');
    if (n) out.push(b.toString('utf8', p + 1, p + 1 + n));
    p += 1 + n;
  }
  return out;
}

export function decodePacket(b: Buffer): MdnsPacket {
  if (b.length < 12) fail('shorter than a DNS header');
  const id = b.readUInt16BE(0);
  const flags = b.readUInt16BE(2);
  if (flags & 0x7800) fail('not a standard query or response (opcode)');
  const qd = b.readUInt16BE(4);
  const rr = b.readUInt16BE(6) + b.readUInt16BE(8) + b.readUInt16BE(10);
  if (qd + rr > MAX_RECORDS) fail(`more than ${MAX_RECORDS} records`);
  let p = 12;
  const questions: MdnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const [name, next] = readName(b, p);
    if (next + 4 > b.length) fail('truncated question');
    questions.push({ name, type: b.readUInt16BE(next) });
    p = next + 4;
  }
  const records: MdnsRecord[] = [];
  for (let i = 0; i < rr; i++) {
    const [name, next] = readName(b, p);
    if (next + 10 > b.length) fail('truncated record');
    const type = b.readUInt16BE(next);
    const cls = b.readUInt16BE(next + 2) & CLASS_MASK;
    const ttl = b.readUInt32BE(next + 4);
    const rdlen = b.readUInt16BE(next + 8);
    const start = next + 10;
    const end = start + rdlen;
    if (end > b.length) fail('record data runs past the packet');
    let data: MdnsRecord['data'] = null;
    if (cls === CLASS_IN && type === TYPE_PTR) {
      const [target, after] = readName(b, start);
      if (after > end) fail('PTR target runs past its record');
      data = target;
    } else if (cls === CLASS_IN && type === TYPE_TXT) {
      data = readTxt(b, start, end);
    }
    records.push({ name, type, ttl, data });
    p = end;
  }
  return { id, response: (flags & 0x8000) !== 0, questions, records };
}
