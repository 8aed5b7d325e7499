// The mDNS messages of mesh discovery: what we write reads back; names compressed by other
// responders are read; pointer loops, forward pointers, record floods and overlong names are
// refused as MdnsPacketError (the socket counts them as malformed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePacket, encodeQuery, encodeResponse, MdnsPacketError, TYPE_PTR, TYPE_TXT } from '../../src/federation/mdns-packet.ts';
import { serviceName } from '../../src/federation/mesh-discovery.ts';

const SVC = serviceName('Lab');
const ID = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';

test('service name: per fleet, lower case, one DNS label even for a 64-character fleet', () => {
  assert.is(SVC, 'lab._x0tta6bl4._udp.local');
  const long = serviceName('F'.repeat(64));
  assert.is(long.split('.')[0]!.length, 63);
  assert.is.not(long, serviceName('F'.repeat(63) + 'G'));
});

test('query and answer read back', () => {
  const q = decodePacket(encodeQuery(0x1234, SVC));
  assert.equal(q, { id: 0x1234, response: false, questions: [{ name: SVC, type: TYPE_PTR }], records: [] });
  const txt = [`dnsaddr=/ip4/10.0.0.1/tcp/4001/p2p/${ID}`];
  const a = decodePacket(encodeResponse(SVC, `${ID}.${SVC}`, txt));
  assert.ok(a.response);
  assert.equal(a.records.map((r) => [r.name, r.type, r.data]), [
    [SVC, TYPE_PTR, `${ID}.${SVC}`],
    [`${ID}.${SVC}`, TYPE_TXT, txt],
  ]);
});

function withHeader(qd: number, an: number, body: number[]): Buffer {
  return Buffer.from([0, 0, 0x84, 0, 0, qd, 0, an, 0, 0, 0, 0, ...body]);
}

test('compressed names (backward pointers) are read', () => {
  // question "a.local", answer PTR named by a pointer to offset 12, target "b" + pointer to "local".
  const b = withHeader(1, 1, [1, 97, 5, 108, 111, 99, 97, 108, 0, 0, 12, 0, 1, 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 120, 0, 4, 1, 98, 0xc0, 14]);
  const p = decodePacket(b);
  assert.is(p.questions[0]!.name, 'a.local');
  assert.equal(p.records[0]!.name, 'a.local');
  assert.equal(p.records[0]!.data, 'b.local');
});

test('hostile packets are refused, not followed', () => {
  const bad: [string, Buffer][] = [
    ['self pointer', withHeader(1, 0, [0xc0, 12, 0, 12, 0, 1])],
    ['forward pointer', withHeader(1, 0, [0xc0, 20, 0, 12, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['record flood', Buffer.from([0, 0, 0x84, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0])],
    ['label past the end', withHeader(1, 0, [40, 97])],
    ['name too long', withHeader(1, 0, [...Array.from({ length: 5 }, () => [63, ...Array(63).fill(97)]).flat(), 0, 0, 12, 0, 1])],
    ['rdata past the end', withHeader(0, 1, [0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 50, 1])],
    ['TXT string past its record', withHeader(0, 1, [0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 9, 97])],
    ['short header', Buffer.from([0, 1, 2])],
    ['opcode', Buffer.from([0, 0, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
  ];
  for (const [what, b] of bad) assert.throws(() => decodePacket(b), (e: Error) => e instanceof MdnsPacketError, what);
});

test('encoding refuses what DNS cannot carry', () => {
  assert.throws(() => encodeQuery(1, `${'x'.repeat(64)}.local`), (e: Error) => e instanceof MdnsPacketError);
  assert.throws(() => encodeResponse(SVC, `${ID}.${SVC}`, ['x'.repeat(256)]), (e: Error) => e instanceof MdnsPacketError);
});

test.run();
