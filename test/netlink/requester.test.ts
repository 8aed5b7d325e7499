// The request layer over an in-memory stand-in transport (FakeLink: the host kernel has no
// batman-adv, so the kernel side is played by hand-built replies). Covers sequence matching,
// dumps, DONE/ERROR status, ext-ack text, DUMP_INTR retries, timeouts, resets, notifications.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  NetlinkDecodeError,
  NetlinkDumpInterruptedError,
  NetlinkKernelError,
  NetlinkTimeoutError,
  NetlinkTransportError,
} from '../../src/netlink/errors.ts';
import { NetlinkRequester } from '../../src/netlink/requester.ts';
import { FakeLink } from './fake-link.ts';
import { ackMsg, attr, doneMsg, errorMsg, genl, nlmsg, u32, NLM_F_DUMP_INTR, NLM_F_MULTI } from './wire.ts';

const FAMILY = 0x1c;
const PID = 4242;
const body = (n: number) => genl(8, 1, attr(3, u32(n)));

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

test('a request is sent with REQUEST|ACK and a fresh non-zero seq; resolves with replies at the ACK', async () => {
  const link = new FakeLink((r) => [Buffer.concat([nlmsg(FAMILY, 0, r.seq, PID, body(7)), ackMsg(r.seq, PID, r)])]);
  const req = new NetlinkRequester(link);
  const msgs = await req.request(FAMILY, genl(1, 1), 'GET_MESH');
  assert.is(msgs.length, 1);
  assert.is(Buffer.from(msgs[0]!.payload).readUInt32LE(8), 7);
  const sent = link.sent[0]!;
  assert.is(sent.flags, 0x5);
  assert.ok(sent.seq !== 0);
  await req.request(FAMILY, genl(1, 1), 'GET_MESH');
  assert.is(link.sent[1]!.seq, sent.seq + 1);
  req.close();
});

test('a dump is sent with DUMP and collects every multi-part message until NLMSG_DONE, across datagrams', async () => {
  const link = new FakeLink((r) => [
    Buffer.concat([nlmsg(FAMILY, NLM_F_MULTI, r.seq, PID, body(1)), nlmsg(FAMILY, NLM_F_MULTI, r.seq, PID, body(2))]),
    nlmsg(FAMILY, NLM_F_MULTI, r.seq, PID, body(3)),
    doneMsg(r.seq, PID),
  ]);
  const req = new NetlinkRequester(link);
  const msgs = await req.dump(FAMILY, genl(8, 1), 'GET_ORIGINATORS');
  assert.equal(msgs.map((m) => Buffer.from(m.payload).readUInt32LE(8)), [1, 2, 3]);
  assert.is(link.sent[0]!.flags, 0x301);
  req.close();
});

test('an error status in NLMSG_DONE fails the dump: never an empty table', async () => {
  const link = new FakeLink((r) => [doneMsg(r.seq, PID, -2)]);
  const req = new NetlinkRequester(link);
  const err = await rejects(req.dump(FAMILY, genl(8, 1), 'GET_ORIGINATORS'));
  assert.ok(err instanceof NetlinkKernelError);
  assert.is((err as NetlinkKernelError).errno, 2);
  assert.is((err as NetlinkKernelError).source, 'done');
  assert.match(err.message, /GET_ORIGINATORS: ENOENT/);
  req.close();
});

test('NLMSG_ERROR with ext-ack: errno and the kernel text are in the error', async () => {
  const link = new FakeLink((r) => [errorMsg(r.seq, PID, 22, r, 'Attribute failed policy validation')]);
  const req = new NetlinkRequester(link);
  const err = (await rejects(req.request(FAMILY, genl(15, 1), 'SET_MESH'))) as NetlinkKernelError;
  assert.ok(err instanceof NetlinkKernelError);
  assert.equal([err.errno, err.errnoName, err.source, err.extAckMessage], [22, 'EINVAL', 'error', 'Attribute failed policy validation']);
  assert.match(err.message, /SET_MESH: EINVAL: Attribute failed policy validation/);
  req.close();
});

test('DUMP_INTR: the dump is repeated and the consistent attempt is returned', async () => {
  let attempt = 0;
  const link = new FakeLink((r) => {
    attempt++;
    const flags = NLM_F_MULTI | (attempt < 3 ? NLM_F_DUMP_INTR : 0);
    return [Buffer.concat([nlmsg(FAMILY, flags, r.seq, PID, body(attempt)), doneMsg(r.seq, PID)])];
  });
  const req = new NetlinkRequester(link);
  const msgs = await req.dump(FAMILY, genl(5, 1), 'GET_HARDIF');
  assert.is(link.sent.length, 3);
  assert.equal(msgs.map((m) => Buffer.from(m.payload).readUInt32LE(8)), [3]);
  assert.is(req.stats.dumpRetries, 2);
  req.close();
});

test('DUMP_INTR on every attempt: a typed error after the bounded retries', async () => {
  const link = new FakeLink((r) => [Buffer.concat([nlmsg(FAMILY, NLM_F_MULTI, r.seq, PID, body(1)), doneMsg(r.seq, PID, 0, NLM_F_DUMP_INTR)])]);
  const req = new NetlinkRequester(link, { dumpRetries: 2 });
  const err = await rejects(req.dump(FAMILY, genl(5, 1), 'GET_HARDIF'));
  assert.ok(err instanceof NetlinkDumpInterruptedError);
  assert.is(link.sent.length, 3);
  req.close();
});

test('replies with a wrong seq or another port id are ignored; the right one completes the request', async () => {
  const link = new FakeLink((r) => [
    nlmsg(FAMILY, 0, r.seq + 100, PID, body(9)), // stale
    Buffer.concat([nlmsg(FAMILY, 0, r.seq, PID, body(1)), ackMsg(r.seq, PID, r)]),
  ]);
  let port = PID;
  const req = new NetlinkRequester(link, { portId: () => port });
  assert.is((await req.request(FAMILY, genl(1, 1), 'GET_MESH')).length, 1);
  assert.is(req.stats.stale, 1);
  // A reply with the right seq from another port is not ours.
  link.respond = (r) => [nlmsg(FAMILY, 0, r.seq, PID + 1, body(5)), Buffer.concat([nlmsg(FAMILY, 0, r.seq, PID, body(2)), ackMsg(r.seq, PID, r)])];
  const msgs = await req.request(FAMILY, genl(1, 1), 'GET_MESH');
  assert.equal(msgs.map((m) => Buffer.from(m.payload).readUInt32LE(8)), [2]);
  assert.is(req.stats.stale, 2);
  // After a bridge restart the port id is another one: the getter is asked on every reply.
  port = PID + 1;
  link.respond = (r) => [ackMsg(r.seq, PID, r), ackMsg(r.seq, PID + 1, r)];
  assert.equal(await req.request(FAMILY, genl(1, 1), 'GET_MESH'), []);
  assert.is(req.stats.stale, 3);
  req.close();
});

test('no answer: TIMEOUT; a late reply afterwards is dropped as stale and the next request works', async () => {
  let seqs: number[] = [];
  const link = new FakeLink((r) => {
    seqs.push(r.seq);
    return seqs.length === 1 ? undefined : [ackMsg(r.seq, PID, r)];
  });
  const req = new NetlinkRequester(link, { timeoutMs: 30 });
  const err = await rejects(req.request(FAMILY, genl(1, 1), 'GET_MESH'));
  assert.ok(err instanceof NetlinkTimeoutError);
  link.deliver(ackMsg(seqs[0]!, PID, { type: FAMILY, flags: 5 }));
  assert.is(req.stats.stale, 1);
  assert.equal(await req.request(FAMILY, genl(1, 1), 'GET_MESH'), []);
  req.close();
});

test('transport reset fails the request in flight with TRANSPORT; queued requests then run', async () => {
  const link = new FakeLink(() => undefined);
  const req = new NetlinkRequester(link);
  const first = req.dump(FAMILY, genl(8, 1), 'GET_ORIGINATORS');
  const second = req.request(FAMILY, genl(1, 1), 'GET_MESH');
  await new Promise((r) => setImmediate(r));
  assert.is(link.sent.length, 1, 'requests go one at a time');
  link.respond = (r) => [ackMsg(r.seq, PID, r)];
  link.reset(new Error('bridge exited with code 3'));
  const err = await rejects(first);
  assert.ok(err instanceof NetlinkTransportError);
  assert.match(err.message, /bridge exited with code 3/);
  assert.equal(await second, []);
  req.close();
});

test('send throwing, and close(), fail requests with TRANSPORT', async () => {
  const link = new FakeLink();
  link.sendError = new Error('bridge not running');
  const req = new NetlinkRequester(link);
  assert.ok((await rejects(req.request(FAMILY, genl(1, 1), 'GET_MESH'))) instanceof NetlinkTransportError);
  link.sendError = undefined;
  const pending = req.request(FAMILY, genl(1, 1), 'GET_MESH');
  await new Promise((r) => setImmediate(r));
  req.close();
  assert.ok((await rejects(pending)) instanceof NetlinkTransportError);
  assert.ok((await rejects(req.request(FAMILY, genl(1, 1), 'GET_MESH'))) instanceof NetlinkTransportError);
  assert.is(link.listenerCount, 0);
});

test('seq-0 messages from the kernel are notifications, delivered while a request is in flight', async () => {
  const link = new FakeLink((r) => [Buffer.concat([nlmsg(FAMILY, 0, 0, 0, genl(15, 1, attr(53, Buffer.from([40])))), ackMsg(r.seq, PID, r)])]);
  const req = new NetlinkRequester(link);
  const got: number[] = [];
  const off = req.onNotification((m) => got.push(m.payload[0]!));
  await req.request(FAMILY, genl(15, 1), 'SET_MESH');
  assert.equal(got, [15]);
  off();
  link.deliver(nlmsg(FAMILY, 0, 0, 0, genl(15, 1)));
  assert.equal(got, [15]);
  req.close();
});

test('a malformed datagram fails the request in flight with a typed decode error, not a crash', async () => {
  const link = new FakeLink((r) => {
    const bad = nlmsg(FAMILY, 0, r.seq, PID, body(1));
    bad.writeUInt32LE(9999, 0);
    return [bad];
  });
  const req = new NetlinkRequester(link);
  const err = await rejects(req.request(FAMILY, genl(1, 1), 'GET_MESH'));
  assert.ok(err instanceof NetlinkDecodeError);
  assert.match(err.message, /GET_MESH: nlmsg_len 9999 runs past/);
  // With nothing in flight, garbage goes to onError.
  const errors: Error[] = [];
  req.onError((e) => errors.push(e));
  link.deliver(Buffer.from([1, 2, 3]));
  assert.is(errors.length, 1);
  assert.ok(errors[0] instanceof NetlinkDecodeError);
  req.close();
});

test('sequence numbers wrap around without ever using 0', async () => {
  const link = new FakeLink((r) => [ackMsg(r.seq, PID, r)]);
  const req = new NetlinkRequester(link);
  (req as unknown as { seq: number }).seq = 0xfffffffe;
  await req.request(FAMILY, genl(1, 1), 'A');
  await req.request(FAMILY, genl(1, 1), 'B');
  assert.equal(link.sent.map((s) => s.seq), [0xffffffff, 1]);
  req.close();
});

test.run();
