// The nl80211 station reader against a hand-played kernel (FakeLink). Replies are built byte by
// byte from the numbers in include/uapi/linux/nl80211.h, written out here rather than taken
// from src/netlink/nl80211-protocol.ts, so a wrong attribute number in the code fails a test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NetlinkDecodeError, NetlinkKernelError } from '../../src/netlink/errors.ts';
import { Nl80211Client } from '../../src/netlink/nl80211-client.ts';
import { FakeLink, type Request } from './fake-link.ts';
import { ackMsg, attr, cstr, doneMsg, errorMsg, genl, mac, nest, nlmsg, readAttrs, u16, u32, u64, u8, NLM_F_MULTI } from './wire.ts';

const FAMILY = 0x1e;
const PID = 31337;
const IFINDEX = 7;
const NLA_F_NESTED = 1 << 15;

// include/uapi/linux/nl80211.h
const CMD_GET_STATION = 17;
const CMD_NEW_STATION = 19;
const ATTR_IFINDEX = 3;
const ATTR_MAC = 6;
const ATTR_STA_INFO = 21;
const ATTR_GENERATION = 46;
const STA = {
  INACTIVE_TIME: 1,
  RX_BYTES: 2,
  TX_BYTES: 3,
  SIGNAL: 7,
  TX_BITRATE: 8,
  RX_PACKETS: 9,
  TX_PACKETS: 10,
  TX_RETRIES: 11,
  TX_FAILED: 12,
  SIGNAL_AVG: 13,
  CONNECTED_TIME: 16,
  BEACON_LOSS: 18,
  RX_BYTES64: 23,
  TX_BYTES64: 24,
  EXPECTED_THROUGHPUT: 27,
  PAD: 33,
};

/** A NEW_STATION body as nl80211_send_station lays it out: ifindex, MAC, generation, STA_INFO nest. */
function station(macAddr: Buffer, ...staInfo: Buffer[]): Buffer {
  return genl(CMD_NEW_STATION, 1, attr(ATTR_IFINDEX, u32(IFINDEX)), attr(ATTR_MAC, macAddr), attr(ATTR_GENERATION, u32(3)), nest(ATTR_STA_INFO | NLA_F_NESTED, ...staInfo));
}
/** The three STA_INFO members every station must carry. */
const basics = (inactive: number, rx: number, tx: number) => [attr(STA.INACTIVE_TIME, u32(inactive)), attr(STA.RX_PACKETS, u32(rx)), attr(STA.TX_PACKETS, u32(tx))];

/** Plays nlctrl (nl80211 present or not) and answers every station dump with `bodies`. */
function kernel(bodies: Buffer[], opts: { familyPresent?: boolean } = {}): FakeLink {
  return new FakeLink((r: Request) => {
    if (r.type === 0x10) {
      if (opts.familyPresent === false) return [errorMsg(r.seq, PID, 2, r)];
      const fam = genl(1, 2, attr(1, u16(FAMILY)), attr(2, cstr('nl80211')), attr(3, u32(1)), attr(4, u32(0)), attr(5, u32(330)));
      return [Buffer.concat([nlmsg(0x10, 0, r.seq, PID, fam), ackMsg(r.seq, PID, r)])];
    }
    // Messages in one datagram start 4-aligned; nlmsg_len itself stays unpadded.
    const padded = (m: Buffer) => Buffer.concat([m, Buffer.alloc((4 - (m.length % 4)) % 4)]);
    return [Buffer.concat([...bodies.map((b) => padded(nlmsg(FAMILY, NLM_F_MULTI, r.seq, PID, b))), doneMsg(r.seq, PID)])];
  });
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

test('a two-station dump: values at their numbers, signed dBm, missing optional attributes are null', async () => {
  const link = kernel([
    station(
      mac('02:AA:bb:0C:0d:0e'),
      attr(STA.CONNECTED_TIME, u32(600)),
      ...basics(120, 5000, 4000),
      attr(STA.RX_BYTES, u32(1)),
      attr(STA.TX_BYTES, u32(2)),
      attr(STA.SIGNAL, u8(0xce)),
      attr(STA.SIGNAL_AVG, u8(0xcc)),
      attr(STA.TX_RETRIES, u32(77)),
      attr(STA.TX_FAILED, u32(5)),
      attr(STA.BEACON_LOSS, u32(2)),
      attr(STA.PAD),
      attr(STA.RX_BYTES64, u64(0x1_0000_0001n)),
      attr(STA.TX_BYTES64, u64(42n)),
      attr(STA.EXPECTED_THROUGHPUT, u32(65_000)),
    ),
    station(mac('02:00:00:00:00:03'), ...basics(4000, 10, 11)),
  ]);
  const client = await Nl80211Client.open(link);
  const got = await client.stations(IFINDEX);
  assert.equal(got, [
    {
      mac: '02:aa:bb:0c:0d:0e',
      ifindex: IFINDEX,
      inactiveMs: 120,
      signalDbm: -50,
      signalAvgDbm: -52,
      rxPackets: 5000,
      txPackets: 4000,
      txRetries: 77,
      txFailed: 5,
      expectedThroughputKbps: 65_000,
      beaconLoss: 2,
    },
    {
      mac: '02:00:00:00:00:03',
      ifindex: IFINDEX,
      inactiveMs: 4000,
      signalDbm: null,
      signalAvgDbm: null,
      rxPackets: 10,
      txPackets: 11,
      txRetries: null,
      txFailed: null,
      expectedThroughputKbps: null,
      beaconLoss: null,
    },
  ]);
  client.close();
});

test('the request: nlctrl asked for "nl80211", then a GET_STATION dump carrying the ifindex', async () => {
  const link = kernel([]);
  const client = await Nl80211Client.open(link);
  assert.equal(await client.stations(IFINDEX), []);
  const [ctrl, dump] = link.sent as [Request, Request];
  assert.is(ctrl.type, 0x10);
  assert.equal(readAttrs(ctrl.payload.subarray(4)).get(2), cstr('nl80211'));
  assert.is(dump.type, FAMILY);
  assert.is(dump.flags & 0x301, 0x301, 'NLM_F_REQUEST | NLM_F_DUMP');
  assert.is(dump.payload[0], CMD_GET_STATION);
  const a = readAttrs(dump.payload.subarray(4));
  assert.equal([...a.keys()], [ATTR_IFINDEX]);
  assert.is(a.get(ATTR_IFINDEX)!.length, 4);
  assert.is(a.get(ATTR_IFINDEX)!.readUInt32LE(0), IFINDEX);
  client.close();
});

test('no nl80211 family: open rejects with the kernel ENOENT and lets go of the link', async () => {
  const link = kernel([], { familyPresent: false });
  const err = await rejects(Nl80211Client.open(link));
  assert.ok(err instanceof NetlinkKernelError, String(err));
  assert.is((err as NetlinkKernelError).errno, 2);
  assert.match(err.message, /CTRL_CMD_GETFAMILY nl80211: ENOENT/);
  assert.is(link.listenerCount, 0);
});

test('unknown attributes, top-level and inside STA_INFO (nested ones too), are skipped', async () => {
  const link = kernel([
    genl(
      CMD_NEW_STATION,
      1,
      attr(ATTR_MAC, mac('0a:0b:0c:0d:0e:0f')),
      attr(999, u32(1)),
      nest(
        ATTR_STA_INFO,
        attr(250, Buffer.from('future')),
        nest(STA.TX_BITRATE | NLA_F_NESTED, attr(1, u16(650)), attr(2, u8(7))),
        ...basics(1, 2, 3),
        attr(STA.SIGNAL, u8(0x80)),
        attr(STA.SIGNAL_AVG, u8(0x05)),
      ),
      attr(ATTR_IFINDEX, u32(IFINDEX)),
    ),
  ]);
  const client = await Nl80211Client.open(link);
  const [s] = await client.stations(IFINDEX);
  assert.equal(
    [s?.mac, s?.inactiveMs, s?.rxPackets, s?.txPackets, s?.signalDbm, s?.signalAvgDbm],
    ['0a:0b:0c:0d:0e:0f', 1, 2, 3, -128, 5],
  );
  client.close();
});

// Each case: one station body that must fail the dump with a NetlinkDecodeError whose text says why.
const GOOD = basics(1, 2, 3);
const truncatedNest = (() => {
  // STA_INFO's own length is right, but its first member claims 40 bytes where 8 follow.
  const inner = attr(STA.INACTIVE_TIME, u32(1));
  inner.writeUInt16LE(40, 0);
  return nest(ATTR_STA_INFO, inner);
})();
const truncatedTop = (() => {
  // The last top-level attribute runs past the end of the message.
  const b = station(mac('02:00:00:00:00:01'), ...GOOD);
  const staAt = b.length - (4 + GOOD.reduce((n, x) => n + x.length, 0));
  b.writeUInt16LE(b.readUInt16LE(staAt) + 4, staAt);
  return b;
})();
const BAD: Array<[string, Buffer, RegExp]> = [
  ['no MAC', genl(CMD_NEW_STATION, 1, attr(ATTR_IFINDEX, u32(IFINDEX)), nest(ATTR_STA_INFO, ...GOOD)), /lacks attribute mac/],
  ['no STA_INFO', genl(CMD_NEW_STATION, 1, attr(ATTR_MAC, mac('02:00:00:00:00:01'))), /lacks attribute staInfo/],
  ['a 5-byte MAC', station(Buffer.from([2, 0, 0, 0, 1]), ...GOOD), /attribute mac \(6\) is 5 bytes/],
  ['a 7-byte MAC', station(Buffer.from([2, 0, 0, 0, 0, 1, 9]), ...GOOD), /attribute mac \(6\) is 7 bytes/],
  ['STA_INFO without inactive time', station(mac('02:00:00:00:00:01'), ...GOOD.slice(1)), /STA_INFO: reply lacks attribute inactiveTime/],
  ['a 2-byte signal', station(mac('02:00:00:00:00:01'), ...GOOD, attr(STA.SIGNAL, u16(0xffce))), /attribute signal \(7\) is 2 bytes/],
  ['a 4-byte u64', station(mac('02:00:00:00:00:01'), ...GOOD, attr(STA.RX_BYTES64, u32(9))), /attribute rxBytes64 \(23\) is 4 bytes/],
  ['a member running past STA_INFO', genl(CMD_NEW_STATION, 1, attr(ATTR_MAC, mac('02:00:00:00:00:01')), truncatedNest), /nla_len 40 of attribute 1 runs past the end/],
  ['STA_INFO running past the message', truncatedTop, /of attribute 21 runs past the end/],
  ['stray bytes after the last attribute', Buffer.concat([station(mac('02:00:00:00:00:01'), ...GOOD), Buffer.from([1, 2])]), /2 stray bytes/],
  ['an nla_len of 0', Buffer.concat([genl(CMD_NEW_STATION, 1), Buffer.from([0, 0, 6, 0])]), /nla_len 0 is smaller/],
  ['a 2-byte genl header', Buffer.from([CMD_NEW_STATION, 1]), /generic netlink message of 2 bytes/],
  ['another command', genl(CMD_GET_STATION, 1, attr(ATTR_MAC, mac('02:00:00:00:00:01')), nest(ATTR_STA_INFO, ...GOOD)), /reply has command 17/],
];

test('malformed station replies reject with NetlinkDecodeError naming the fault, and the client still works after', async () => {
  for (const [name, body, why] of BAD) {
    const link = kernel([station(mac('02:00:00:00:00:09'), ...GOOD), body]);
    const client = await Nl80211Client.open(link, { timeoutMs: 2000 });
    const err = await rejects(client.stations(IFINDEX));
    assert.ok(err instanceof NetlinkDecodeError, `${name}: ${err}`);
    assert.match(err.message, why, name);
    link.respond = kernel([station(mac('02:00:00:00:00:09'), ...GOOD)]).respond;
    assert.is((await client.stations(IFINDEX)).length, 1, `${name}: the next dump works`);
    client.close();
  }
});

test('a reply whose message type is not the nl80211 family is refused', async () => {
  const link = kernel([]);
  const client = await Nl80211Client.open(link);
  link.respond = (r) => [Buffer.concat([nlmsg(FAMILY + 1, NLM_F_MULTI, r.seq, PID, station(mac('02:00:00:00:00:01'), ...GOOD)), doneMsg(r.seq, PID)])];
  const err = await rejects(client.stations(IFINDEX));
  assert.ok(err instanceof NetlinkDecodeError, String(err));
  assert.match(err.message, /message type 31 is not the nl80211 family \(30\)/);
  client.close();
});

test.run();
