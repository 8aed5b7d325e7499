// Just enough of the protobuf wire format for OTLP: varints, fixed32/64, doubles, strings,
// bytes, and length-delimited sub-messages written in place (one growable buffer, the length
// prefix made room for once the sub-message's size is known).

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** '0'-'9', 'a'-'f' (ids are checked lowercase hex before they get here). */
function hexDigit(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57;
}

export class ProtobufWriter {
  private buf: Buffer;
  private pos = 0;
  /** Start offsets of the open sub-messages (where their 1-byte length placeholder is). */
  private readonly open: number[] = [];

  constructor(initialBytes = 4096) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private rawVarint(v: number): void {
    // v is a non-negative integer below 2^53.
    this.ensure(10);
    while (v > 0x7f) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** uint32/uint64/enum/bool values; skipped when 0 (proto3 default). */
  uint(field: number, v: number): this {
    if (v !== 0) { this.tag(field, WIRE_VARINT); this.rawVarint(v); }
    return this;
  }

  /** int64, always written (used inside a oneof, where 0 is a value). Negative: 10-byte two's complement. */
  int64(field: number, v: number): this {
    this.tag(field, WIRE_VARINT);
    if (v >= 0) { this.rawVarint(v); return this; }
    this.ensure(10);
    let x = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 9; i++) { this.buf[this.pos++] = Number(x & 0x7fn) | 0x80; x >>= 7n; }
    this.buf[this.pos++] = Number(x);
    return this;
  }

  /** bool inside a oneof: always written. */
  bool(field: number, v: boolean): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(v ? 1 : 0);
    return this;
  }

  double(field: number, v: number): this {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  fixed32(field: number, v: number): this {
    if (v === 0) return this;
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** A 64-bit unsigned value given as its low and high 32-bit halves; skipped when 0. */
  fixed64(field: number, lo: number, hi: number): this {
    if (lo === 0 && hi === 0) return this;
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.buf.writeUInt32LE(lo >>> 0, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
    return this;
  }

  /** Skipped when empty, unless `always` (a oneof member). */
  string(field: number, s: string, always = false): this {
    const len = s.length;
    if (len === 0 && !always) return this;
    this.tag(field, WIRE_LEN);
    // Short ASCII (names, keys, most values) is copied here: cheaper than two calls into C++.
    if (len < 128 && isAscii(s)) {
      this.ensure(1 + len);
      this.buf[this.pos++] = len;
      for (let i = 0; i < len; i++) this.buf[this.pos++] = s.charCodeAt(i);
      return this;
    }
    const n = Buffer.byteLength(s);
    this.rawVarint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  /** Lowercase hex (trace and span ids, already checked) written as raw bytes; skipped when empty. */
  hexBytes(field: number, hex: string | undefined): this {
    if (!hex) return this;
    const n = hex.length >>> 1;
    this.tag(field, WIRE_LEN);
    this.rawVarint(n);
    this.ensure(n);
    for (let i = 0; i < n; i++) this.buf[this.pos++] = (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1));
    return this;
  }

  /** Opens a length-delimited sub-message; close it with end(). */
  begin(field: number): this {
    this.tag(field, WIRE_LEN);
    this.ensure(1);
    this.open.push(this.pos);
    this.pos += 1;
    return this;
  }

  end(): this {
    const start = this.open.pop();
    if (start === undefined) throw new Error('ProtobufWriter.end() without begin()');
    const len = this.pos - start - 1;
    let lenBytes = 1;
    for (let v = len; v > 0x7f; v = Math.floor(v / 128)) lenBytes++;
    if (lenBytes > 1) {
      // Make room for the longer length prefix: move the body right.
      this.ensure(lenBytes - 1);
      this.buf.copyWithin(start + lenBytes, start + 1, this.pos);
      this.pos += lenBytes - 1;
    }
    let v = len;
    let p = start;
    while (v > 0x7f) { this.buf[p++] = (v % 128) | 0x80; v = Math.floor(v / 128); }
    this.buf[p] = v;
    return this;
  }

  finish(): Uint8Array {
    if (this.open.length) throw new Error('ProtobufWriter.finish() with an open sub-message');
    return this.buf.subarray(0, this.pos);
  }
}
