// The netlink codec against hand-built frames: framing, attributes of every width, nests,
// flags, ext-ack errors, DONE status, and typed errors for truncated or lying lengths.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrWriter, forEachAttr, parseMac } from '../../src/netlink/attributes.ts';
import { decodeAttrs, encodeAttrs, requireAttrs, type AttrTable } from '../../src/netlink/attr-schema.ts';
import { NetlinkDecodeError, NetlinkEncodeError } from '../../src/netlink/errors.ts';
import { decodeGenl } from '../../src/netlink/genl.ts';
import { decodeDatagram, decodeDoneStatus, decodeErrorReply, encodeMessage } from '../../src/netlink/nlmsg.ts';
import { BATADV_ATTRS } from '../../src/netlink/batadv-protocol.ts';
import { CTRL_ATTRS, decodeFamily } from '../../src/netlink/controller.ts';
import { attr, cstr, doneMsg, errorMsg, genl, mac, nest, nlmsg, s32, u16, u32, u64, u8 } from './wire.ts';

const isDecodeError = (e: unknown) => e instanceof NetlinkDecodeError;
const isEncodeError = (e: unknown) => e instanceof NetlinkEncodeError;

const TABLE = {
  small: { id: 1, kind: 'u8' },
  medium: { id: 2, kind: 'u16' },
  large: { id: 3, kind: 'u32' },
  huge: { id: 4, kind: 'u64' },
  name: { id: 5, kind: 'string' },
  hw: { id: 6, kind: 'mac' },
  on: { id: 7, kind: 'flag' },
  ip: { id: 8, kind: 'ipv4' },
  vid: { id: 9, kind: 'uint', width: 2 },
  inner: { id: 10, kind: 'nested', table: { a: { id: 1, kind: 'u32' }, b: { id: 2, kind: 'string' } } },
} as const satisfies AttrTable;

test('decodeDatagram splits several messages, honouring 4-byte alignment of nlmsg_len', () => {
  // First message has a 5-byte payload: nlmsg_len 21, next message starts at 24.
  const m1 = Buffer.concat([nlmsg(0x20, 2, 7, 99, Buffer.from([1, 2, 3, 4, 5])), Buffer.alloc(3)]);
  const m2 = nlmsg(0x21, 0, 8, 99, u32(0xdeadbeef));
  const msgs = decodeDatagram(Buffer.concat([m1, m2]));
  assert.is(msgs.length, 2);
  assert.equal([msgs[0]!.type, msgs[0]!.flags, msgs[0]!.seq, msgs[0]!.pid], [0x20, 2, 7, 99]);
  assert.equal([...msgs[0]!.payload], [1, 2, 3, 4, 5]);
  assert.equal([msgs[1]!.type, msgs[1]!.seq], [0x21, 8]);
  assert.is(Buffer.from(msgs[1]!.payload).readUInt32LE(0), 0xdeadbeef);
});

test('decodeDatagram: truncated header, nlmsg_len < 16 and nlmsg_len past the end are typed errors', () => {
  assert.throws(() => decodeDatagram(Buffer.alloc(10)), (e: unknown) => e instanceof NetlinkDecodeError && /truncated nlmsghdr/.test(e.message));
  const short = nlmsg(0x20, 0, 1, 0);
  short.writeUInt32LE(12, 0);
  assert.throws(() => decodeDatagram(short), (e: unknown) => e instanceof NetlinkDecodeError && /smaller than the header/.test(e.message));
  const lying = nlmsg(0x20, 0, 1, 0, u32(1));
  lying.writeUInt32LE(0xfffffff0, 0);
  assert.throws(() => decodeDatagram(lying), (e: unknown) => e instanceof NetlinkDecodeError && /runs past/.test(e.message));
  // A good message followed by a truncated one still fails as a whole.
  assert.throws(() => decodeDatagram(Buffer.concat([nlmsg(0x20, 0, 1, 0), Buffer.alloc(8)])), isDecodeError);
});

test('encodeMessage writes the header fields in place', () => {
  const out = Buffer.from(encodeMessage({ type: 0x1c, flags: 0x305, seq: 0xfffffffe, pid: 0 }, Buffer.from([9, 9, 9, 9])));
  assert.is(out.length, 20);
  assert.is(out.readUInt32LE(0), 20);
  assert.is(out.readUInt16LE(4), 0x1c);
  assert.is(out.readUInt16LE(6), 0x305);
  assert.is(out.readUInt32LE(8), 0xfffffffe);
  assert.equal([...out.subarray(16)], [9, 9, 9, 9]);
});

test('decodeAttrs reads every kind from hand-built attributes, skipping unknown ones', () => {
  const buf = Buffer.concat([
    attr(1, u8(200)),
    attr(2, u16(0xbeef)),
    attr(99, Buffer.from('ignored')),
    attr(3, u32(4_000_000_000)),
    attr(4, u64(0x1_0000_0001n)),
    attr(5, cstr('bat0')),
    attr(6, mac('02:00:0A:0b:0c:ff')),
    attr(7),
    attr(8 | (1 << 14), Buffer.from([192, 168, 1, 20])),
    attr(9, u32(42)), // VLANID comes back as u32
    nest(10 | (1 << 15), attr(1, u32(5)), attr(2, cstr('x'))),
  ]);
  const r = decodeAttrs(TABLE, buf);
  assert.equal(r, {
    small: 200,
    medium: 0xbeef,
    large: 4_000_000_000,
    huge: 0x1_0000_0001n,
    name: 'bat0',
    hw: '02:00:0a:0b:0c:ff',
    on: true,
    ip: '192.168.1.20',
    vid: 42,
    inner: { a: 5, b: 'x' },
  });
});

test('decodeAttrs: a value of the wrong size names the attribute; lying nla_len is a typed error', () => {
  assert.throws(() => decodeAttrs(TABLE, attr(3, u16(1))), (e: unknown) => e instanceof NetlinkDecodeError && /large \(3\) is 2 bytes/.test(e.message));
  assert.throws(() => decodeAttrs(TABLE, attr(6, Buffer.from([1, 2, 3, 4, 5]))), (e: unknown) => e instanceof NetlinkDecodeError && /hw/.test(e.message));
  assert.throws(() => decodeAttrs(TABLE, attr(9, Buffer.from([1, 2, 3]))), isDecodeError);
  const lying = attr(3, u32(1));
  lying.writeUInt16LE(0xffff, 0);
  assert.throws(() => decodeAttrs(TABLE, lying), (e: unknown) => e instanceof NetlinkDecodeError && /runs past/.test(e.message));
  const tiny = attr(3, u32(1));
  tiny.writeUInt16LE(2, 0);
  assert.throws(() => decodeAttrs(TABLE, tiny), (e: unknown) => e instanceof NetlinkDecodeError && /smaller than the attribute header/.test(e.message));
  assert.throws(() => decodeAttrs(TABLE, Buffer.concat([attr(1, u8(1)), Buffer.alloc(2)])), (e: unknown) => e instanceof NetlinkDecodeError && /stray bytes/.test(e.message));
  // A lie inside a nest is caught too.
  const inner = attr(1, u32(5));
  inner.writeUInt16LE(200, 0);
  assert.throws(() => decodeAttrs(TABLE, nest(10, inner)), isDecodeError);
});

test('forEachAttr masks NLA_F_NESTED and NLA_F_NET_BYTEORDER off the type', () => {
  const seen: Array<[number, number]> = [];
  forEachAttr(Buffer.concat([attr(5 | 0x8000, Buffer.alloc(0)), attr(6 | 0x4000, u32(1))]), (type, _p, _o, raw) => seen.push([type, raw]));
  assert.equal(seen, [
    [5, 0x8005],
    [6, 0x4006],
  ]);
});

test('encodeAttrs produces exactly the bytes the kernel layout prescribes (padding zeroed)', () => {
  const got = Buffer.from(
    encodeAttrs(TABLE, { small: 7, name: 'abc', hw: 'aa:bb:cc:dd:ee:ff', on: true, vid: 5, inner: { a: 1 } }).finish(),
  );
  const want = Buffer.concat([attr(1, u8(7)), attr(5, cstr('abc')), attr(6, mac('aa:bb:cc:dd:ee:ff')), attr(7), attr(9, u16(5)), nest(10, attr(1, u32(1)))]);
  assert.equal([...got], [...want]);
});

test('encode -> decode round-trips, including a false flag (omitted) and u64', () => {
  const values = { small: 0, medium: 65535, large: 0xffffffff, huge: 2n ** 64n - 1n, name: 'mesh-ü', hw: '00:11:22:33:44:55', on: false, ip: '10.0.0.1' };
  const back = decodeAttrs(TABLE, encodeAttrs(TABLE, values).finish());
  const { on: _off, ...rest } = values;
  assert.equal(back, rest);
});

test('AttrWriter keeps every value when its buffer grows mid-write (found by the fuzzer)', () => {
  const w = new AttrWriter();
  for (let i = 0; i < 200; i++) w.u32(3, i).u8(1, i & 0xff).u16(2, i).u64(4, BigInt(i));
  const seen: number[] = [];
  forEachAttr(w.finish(), (type, p) => {
    if (type === 3) seen.push(Buffer.from(p).readUInt32LE(0));
  });
  assert.equal(seen, Array.from({ length: 200 }, (_, i) => i));
});

test('encoding refuses out-of-range values and unknown names before anything is built', () => {
  assert.throws(() => encodeAttrs(TABLE, { small: 256 }), isEncodeError);
  assert.throws(() => encodeAttrs(TABLE, { large: -1 }), isEncodeError);
  assert.throws(() => encodeAttrs(TABLE, { medium: 1.5 }), isEncodeError);
  assert.throws(() => encodeAttrs(TABLE, { hw: 'aa:bb:cc:dd:ee' }), isEncodeError);
  assert.throws(() => encodeAttrs(TABLE, { name: 'a\0b' }), isEncodeError);
  assert.throws(() => encodeAttrs(TABLE, { nope: 1 } as never), /unknown attribute 'nope'/);
  assert.throws(() => parseMac('zz:00:00:00:00:00'), isEncodeError);
  assert.throws(() => new AttrWriter().bytes(1, new Uint8Array(70000)), isEncodeError);
});

test('NLMSG_ERROR: errno, echoed request header, ext-ack message; capped and uncapped', () => {
  const [capped] = decodeDatagram(errorMsg(12, 77, 22, { type: 0x1d, flags: 5 }, 'Missing attribute'));
  const e = decodeErrorReply(capped!);
  assert.is(e.error, -22);
  assert.is(e.request.seq, 12);
  assert.is(e.request.type, 0x1d);
  assert.is(e.extAck.message, 'Missing attribute');

  // Uncapped: the whole 24-byte request follows, then the TLVs (offset attribute here).
  const request = nlmsg(0x1d, 5, 13, 0, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  const body = Buffer.concat([s32(-1), request, attr(2, u32(20)), attr(1, cstr('nope'))]);
  const [uncapped] = decodeDatagram(nlmsg(2, 0x200, 13, 77, body));
  const u = decodeErrorReply(uncapped!);
  assert.equal([u.error, u.request.length, u.extAck.offset, u.extAck.message], [-1, 24, 20, 'nope']);

  // The echoed request claiming more bytes than there are is a typed error.
  const lying = Buffer.concat([s32(-1), request]);
  lying.writeUInt32LE(400, 4);
  assert.throws(() => decodeErrorReply(decodeDatagram(nlmsg(2, 0, 13, 77, lying))[0]!), isDecodeError);
  assert.throws(() => decodeErrorReply(decodeDatagram(nlmsg(2, 0x100, 13, 77, s32(-1)))[0]!), isDecodeError);
});

test('NLMSG_DONE carries the dump status, with ext-ack text when present', () => {
  const d = decodeDoneStatus(decodeDatagram(doneMsg(3, 1, -2, 0, 'no primary'))[0]!);
  assert.equal(d, { status: -2, extAck: { message: 'no primary' } });
  assert.equal(decodeDoneStatus(decodeDatagram(doneMsg(3, 1))[0]!).status, 0);
  assert.throws(() => decodeDoneStatus(decodeDatagram(nlmsg(3, 2, 3, 1, u16(0)))[0]!), isDecodeError);
});

test('decodeGenl splits cmd/version from the attributes; a short payload is a typed error', () => {
  const [m] = decodeDatagram(nlmsg(0x1c, 0, 1, 1, genl(8, 1, attr(3, u32(4)))));
  const g = decodeGenl(m!);
  assert.equal([g.cmd, g.version], [8, 1]);
  assert.equal(decodeAttrs(BATADV_ATTRS, g.attrs), { meshIfindex: 4 });
  assert.throws(() => decodeGenl(decodeDatagram(nlmsg(0x1c, 0, 1, 1, Buffer.from([8, 1])))[0]!), isDecodeError);
});

test('controller NEWFAMILY: id, version and multicast groups from the nested list', () => {
  const reply = Buffer.concat([
    attr(2, cstr('batadv')),
    attr(1, u16(0x1c)),
    attr(3, u32(1)),
    attr(4, u32(0)),
    attr(5, u32(60)),
    nest(6, nest(1, attr(1, u32(1)), attr(2, u32(0xa))), nest(2, attr(1, u32(8)), attr(2, u32(0xc)))),
    nest(7, nest(1, attr(2, u32(9)), attr(1, cstr('config'))), nest(2, attr(2, u32(40)), attr(1, cstr('tpmeter')))),
  ]);
  const f = decodeFamily(reply);
  assert.equal([f.name, f.id, f.version, f.maxAttr], ['batadv', 0x1c, 1, 60]);
  assert.equal([...f.groups], [
    ['config', 9],
    ['tpmeter', 40],
  ]);
  assert.ok(f.commands.has(8));
  assert.throws(() => decodeFamily(attr(2, cstr('batadv'))), /lacks attribute familyId/);
  assert.ok(CTRL_ATTRS.mcastGroups.id === 7);
});

test('requireAttrs names the missing attribute', () => {
  assert.throws(() => requireAttrs({ a: 1 } as { a?: number; b?: number }, ['a', 'b'], 'GET_X'), (e: unknown) => e instanceof NetlinkDecodeError && /GET_X: reply lacks attribute b/.test(e.message));
});

test.run();
