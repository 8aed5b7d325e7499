// The sliver of DER that CRLs and the operator's certificate issuing need: a bounded reader
// (never reads past its input, lengths capped) and a writer. Not a general ASN.1 library.

export class DerError extends Error {
  override readonly name = 'DerError';
}

export interface Tlv {
  tag: number;
  /** Start of the whole element (tag byte). */
  at: number;
  start: number;
  end: number;
}

export function readTlv(der: Uint8Array, at: number, end = der.length, expect?: number): Tlv {
  if (at + 2 > end) throw new DerError('truncated DER');
  const tag = der[at]!;
  if (expect !== undefined && tag !== expect) throw new DerError(`DER tag 0x${tag.toString(16)} where 0x${expect.toString(16)} was expected`);
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not used here');
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > end) throw new DerError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > end) throw new DerError('DER length past the end');
  return { tag, at, start, end: start + len };
}

/** The children of a constructed element. */
export function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = readTlv(der, at, parent.end);
    out.push(t);
    at = t.end;
    if (out.length > 100_000) throw new DerError('too many DER elements');
  }
  return out;
}

export function oidText(der: Uint8Array, t: Tlv): string {
  if (t.tag !== 0x06 || t.end === t.start) throw new DerError('not an OBJECT IDENTIFIER');
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (der[i]! & 0x7f);
    if (!(der[i]! & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

export function readTime(der: Uint8Array, t: Tlv): number {
  const s = Buffer.from(der.subarray(t.start, t.end)).toString('latin1');
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : t.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
  if (!m) throw new DerError(`unreadable time '${s}'`);
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900; // RFC 5280 4.1.2.5.1
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** A positive INTEGER as a bigint. */
export function readUnsigned(der: Uint8Array, t: Tlv): bigint {
  if (t.tag !== 0x02 || t.end === t.start || t.end - t.start > 64) throw new DerError('bad INTEGER');
  return BigInt('0x' + Buffer.from(der.subarray(t.start, t.end)).toString('hex'));
}

// ---- writer ----

export function der(tag: number, ...content: Uint8Array[]): Uint8Array {
  const len = content.reduce((n, c) => n + c.length, 0);
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : len < 0x10000 ? [tag, 0x82, len >> 8, len & 0xff] : [tag, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  let at = head.length;
  for (const c of content) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const seq = (...c: Uint8Array[]) => der(0x30, ...c);

export function oid(text: string): Uint8Array {
  const p = text.split('.').map(Number);
  const bytes: number[] = [p[0]! * 40 + p[1]!];
  for (const n of p.slice(2)) {
    const b: number[] = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) b.unshift((v & 0x7f) | 0x80);
    bytes.push(...b);
  }
  return der(0x06, Uint8Array.from(bytes));
}

export function uint(v: bigint): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = '00' + hex;
  return der(0x02, Buffer.from(hex, 'hex'));
}

export function time(ms: number): Uint8Array {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  // UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
  return y < 2050 ? der(0x17, Buffer.from(`${p(y % 100)}${rest}`, 'latin1')) : der(0x18, Buffer.from(`${p(y, 4)}${rest}`, 'latin1'));
}

export const octets = (b: Uint8Array) => der(0x04, b);
export const bool = (v: boolean) => der(0x01, Uint8Array.of(v ? 0xff : 0));
export const bits = (b: Uint8Array, unused = 0) => der(0x03, Uint8Array.of(unused), b);
export const utf8String = (s: string) => der(0x0c, Buffer.from(s, 'utf8'));
