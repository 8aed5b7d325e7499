// Declarative attribute tables: one table per attribute namespace says, for every attribute
// we care about, its number and wire type. Decoding and encoding are generic over a table,
// so no command has hand-written parsing, and the decoded record's TypeScript type follows
// from the table. Unknown attribute numbers are skipped (newer kernels add attributes).
import { AttrWriter, forEachAttr, formatMac } from './attributes.ts';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.ts';
import { HOST_LITTLE_ENDIAN as LE, viewOf } from './host-order.ts';
import { decodeCString } from './nlmsg.ts';

export type ScalarKind =
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 'string'
  | 'mac'
  | 'flag'
  | 'binary'
  /** IPv4 address in network byte order, as "a.b.c.d". */
  | 'ipv4'
  /** Unsigned integer whose width the sender chooses (1, 2, 4 or 8 bytes); `width` is what we send. */
  | 'uint';

export interface ScalarSpec {
  readonly id: number;
  readonly kind: ScalarKind;
  readonly width?: 1 | 2 | 4 | 8;
}
export interface NestedSpec {
  readonly id: number;
  readonly kind: 'nested';
  readonly table: AttrTable;
}
/** A nest whose members are themselves nests of one table, numbered 1..n (e.g. CTRL_ATTR_MCAST_GROUPS). */
export interface NestedListSpec {
  readonly id: number;
  readonly kind: 'nested-list';
  readonly table: AttrTable;
}
export type AttrSpec = ScalarSpec | NestedSpec | NestedListSpec;
export type AttrTable = { readonly [name: string]: AttrSpec };

export type AttrValue<S> = S extends { kind: 'nested'; table: infer T extends AttrTable }
  ? AttrRecord<T>
  : S extends { kind: 'nested-list'; table: infer T extends AttrTable }
    ? AttrRecord<T>[]
    : S extends { kind: 'u64' }
      ? bigint
      : S extends { kind: 'string' | 'mac' | 'ipv4' }
        ? string
        : S extends { kind: 'flag' }
          ? boolean
          : S extends { kind: 'binary' }
            ? Uint8Array
            : number;

/** What decoding a table yields: every attribute optional, typed by its kind. */
export type AttrRecord<T extends AttrTable> = { -readonly [K in keyof T]?: AttrValue<T[K]> };

/** A record with some attributes guaranteed present (the ones a reply must carry). */
export type WithRequired<R, K extends keyof R> = R & { [P in K]-?: Exclude<R[P], undefined> };

interface Slot {
  name: string;
  spec: AttrSpec;
}
const slotCache = new WeakMap<AttrTable, Array<Slot | undefined>>();

function slotsOf(table: AttrTable): Array<Slot | undefined> {
  let slots = slotCache.get(table);
  if (!slots) {
    slots = [];
    for (const [name, spec] of Object.entries(table)) {
      if (slots[spec.id]) throw new Error(`attribute table: id ${spec.id} used twice (${slots[spec.id]!.name}, ${name})`);
      slots[spec.id] = { name, spec };
    }
    slotCache.set(table, slots);
  }
  return slots;
}

const FIXED_WIDTH: Partial<Record<ScalarKind, number>> = { u8: 1, u16: 2, u32: 4, u64: 8, mac: 6, ipv4: 4, flag: 0 };

/**
 * Decodes the attributes in `buf` by `table`. Wrong-sized values throw NetlinkDecodeError
 * naming the attribute; `base` is added to offsets in error messages.
 */
export function decodeAttrs<T extends AttrTable>(table: T, buf: Uint8Array, base = 0): AttrRecord<T> {
  const slots = slotsOf(table);
  const out: Record<string, unknown> = {};
  forEachAttr(buf, (type, payload, off) => {
    const slot = slots[type];
    if (!slot) return;
    out[slot.name] = decodeValue(slot, payload, base + off);
  });
  return out as AttrRecord<T>;
}

function decodeValue(slot: Slot, p: Uint8Array, at: number): unknown {
  const { spec, name } = slot;
  const fixed = FIXED_WIDTH[spec.kind as ScalarKind];
  if (fixed !== undefined && p.length !== fixed)
    throw new NetlinkDecodeError(`attribute ${name} (${spec.id}) is ${p.length} bytes, a ${spec.kind} is ${fixed}`, at);
  const v = viewOf(p);
  switch (spec.kind) {
    case 'u8':
      return p[0];
    case 'u16':
      return v.getUint16(0, LE);
    case 'u32':
      return v.getUint32(0, LE);
    case 'u64':
      return v.getBigUint64(0, LE);
    case 'uint':
      if (p.length === 1) return p[0];
      if (p.length === 2) return v.getUint16(0, LE);
      if (p.length === 4) return v.getUint32(0, LE);
      if (p.length === 8) return Number(v.getBigUint64(0, LE));
      throw new NetlinkDecodeError(`attribute ${name} (${spec.id}) is ${p.length} bytes, not 1, 2, 4 or 8`, at);
    case 'string':
      return decodeCString(p);
    case 'mac':
      return formatMac(p);
    case 'ipv4':
      return `${p[0]}.${p[1]}.${p[2]}.${p[3]}`;
    case 'flag':
      return true;
    case 'binary':
      return p.slice();
    case 'nested':
      return decodeAttrs(spec.table, p, at + 4);
    case 'nested-list': {
      const list: unknown[] = [];
      forEachAttr(p, (_t, inner, off) => list.push(decodeAttrs(spec.table, inner, at + 4 + off + 4)));
      return list;
    }
  }
}

/**
 * Writes every attribute of `values` that `table` names, in table order. Values of the wrong
 * type or range throw NetlinkEncodeError before anything is sent.
 */
export function encodeAttrs<T extends AttrTable>(table: T, values: AttrRecord<T>, w: AttrWriter = new AttrWriter()): AttrWriter {
  const rec = values as Record<string, unknown>;
  for (const [name, spec] of Object.entries(table)) {
    const value = rec[name];
    if (value === undefined) continue;
    encodeValue(w, name, spec, value);
  }
  for (const name of Object.keys(rec)) {
    if (!(name in table) && rec[name] !== undefined) throw new NetlinkEncodeError(`unknown attribute '${name}'`);
  }
  return w;
}

function encodeValue(w: AttrWriter, name: string, spec: AttrSpec, value: unknown): void {
  const bad = (want: string) => new NetlinkEncodeError(`attribute ${name}: expected ${want}, got ${typeof value} ${String(value)}`);
  const id = spec.id;
  switch (spec.kind) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'uint': {
      if (typeof value !== 'number') throw bad('a number');
      const width = spec.kind === 'uint' ? (spec.width ?? 4) : FIXED_WIDTH[spec.kind]!;
      if (width === 1) w.u8(id, value);
      else if (width === 2) w.u16(id, value);
      else if (width === 4) w.u32(id, value);
      else w.u64(id, BigInt(value));
      return;
    }
    case 'u64':
      if (typeof value !== 'bigint') throw bad('a bigint');
      w.u64(id, value);
      return;
    case 'string':
      if (typeof value !== 'string') throw bad('a string');
      w.string(id, value);
      return;
    case 'mac':
      if (typeof value !== 'string') throw bad('a MAC string');
      w.mac(id, value);
      return;
    case 'ipv4':
      if (typeof value !== 'string') throw bad('an IPv4 string');
      w.ipv4(id, value);
      return;
    case 'flag':
      if (typeof value !== 'boolean') throw bad('a boolean');
      if (value) w.flag(id);
      return;
    case 'binary':
      if (!(value instanceof Uint8Array)) throw bad('bytes');
      w.bytes(id, value);
      return;
    case 'nested':
      if (typeof value !== 'object' || value === null) throw bad('an object');
      w.nested(id, (inner) => encodeAttrs(spec.table, value as AttrRecord<AttrTable>, inner));
      return;
    case 'nested-list':
      if (!Array.isArray(value)) throw bad('an array');
      w.nested(id, (inner) =>
        value.forEach((el, i) => inner.nested(i + 1, (x) => encodeAttrs(spec.table, el as AttrRecord<AttrTable>, x), true)),
      );
      return;
  }
}

/** Throws NetlinkDecodeError unless every attribute in `required` is present. */
export function requireAttrs<R extends object, K extends keyof R & string>(
  record: R,
  required: readonly K[],
  what: string,
): WithRequired<R, K> {
  for (const k of required) {
    if ((record as Record<string, unknown>)[k] === undefined) throw new NetlinkDecodeError(`${what}: reply lacks attribute ${k}`, 0);
  }
  return record as WithRequired<R, K>;
}
