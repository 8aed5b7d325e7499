// Every bridge binary, run for real: x64 natively, ia32/arm64/arm/mipsel under qemu-user-static,
// and the arm one also on the oldest ARM cores OpenWrt's EABI targets have: qemu's arm926
// (ARMv5TE) and arm1176 (ARMv6) CPU models, where an armv7-a build dies with SIGILL.
// qemu-user cannot translate NETLINK_GENERIC sockets (socket() -> EPROTONOSUPPORT), so for the
// foreign architectures the generic socket is checked only for failing cleanly; rtnetlink
// (NETLINK_ROUTE) *is* translated by qemu-user, which lets the framing, bounds and policy run
// against the real kernel on every architecture through `route` mode.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ARCHES, BridgeProcess, QEMU, RecKind, ensureBuilt, hasCommand, record, type Arch } from './bridge-process.ts';
import { NLMSG_DONE, NLMSG_ERROR, RTM_GETADDR, RTM_NEWLINK, getLink, linkName, messages, nlmsg } from '../guest/lib/netlink-bytes.ts';

const EPERM = 1;
const EINVAL = 22;
const EPROTO = 71;
// MIPS numbers some errnos differently (arch/mips/include/uapi/asm/errno.h); the bridge reports
// the kernel's own numbers, as the netlink replies it relays carry them.
const ERRNO: Record<Arch, { EMSGSIZE: number; EPROTONOSUPPORT: number }> = {
  x64: { EMSGSIZE: 90, EPROTONOSUPPORT: 93 },
  ia32: { EMSGSIZE: 90, EPROTONOSUPPORT: 93 },
  arm64: { EMSGSIZE: 90, EPROTONOSUPPORT: 93 },
  arm: { EMSGSIZE: 90, EPROTONOSUPPORT: 93 },
  mipsel: { EMSGSIZE: 97, EPROTONOSUPPORT: 120 },
};

function checkTools(arch: Arch): void {
  const q = QEMU[arch];
  if (q && !hasCommand(q)) {
    // CI installs qemu-user-static; without it these tests cannot mean anything.
    throw new Error(`${q} is not installed (Debian package qemu-user-static)`);
  }
}

// Each run: an arch, and for arm, a qemu CPU model too (none: qemu's newest).
const RUNS: { arch: Arch; cpu?: string }[] = [...ARCHES.map((arch) => ({ arch })), { arch: 'arm', cpu: 'arm926' }, { arch: 'arm', cpu: 'arm1176' }];

async function startRoute(arch: Arch, cpu?: string): Promise<BridgeProcess> {
  const b = new BridgeProcess(arch, ['route'], { cpu });
  const ready = await b.next();
  assert.is(ready.kind, RecKind.READY, `first record is READY; stderr: ${b.stderr}`);
  assert.is(ready.payload.readUInt32LE(0), 1, 'protocol version');
  assert.is(ready.payload.readUInt32LE(8), 0, 'protocol NETLINK_ROUTE');
  assert.is(ready.payload.readUInt32LE(12), 0, 'no families');
  return b;
}

function errorRecord(r: { kind: number; payload: Buffer }) {
  assert.is(r.kind, RecKind.ERROR, `expected an ERROR record, got kind ${r.kind}`);
  return { errno: r.payload.readInt32LE(0), fatal: r.payload.readUInt32LE(4), text: r.payload.toString('utf8', 8) };
}

for (const { arch, cpu } of RUNS) {
  const t = suite(cpu ? `${arch} -cpu ${cpu}` : arch);
  const { EMSGSIZE, EPROTONOSUPPORT } = ERRNO[arch];
  t.before(() => {
    ensureBuilt();
    checkTools(arch);
  });

  for (const [args, why] of [
    [[], 'missing protocol'],
    [['bogus'], 'protocol must be generic or route'],
    [['route', 'extra'], 'route takes no further arguments'],
    [['generic'], 'at least one family'],
    [['generic', 'a', 'b', 'c', 'd', 'e'], 'at most 4 families'],
    [['generic', 'bad name'], 'family names'],
    [['generic', 'sixteen_chars_xx'], 'family names'],
  ] as [string[], string][]) {
    t(`usage error: ${JSON.stringify(args)} -> exit 1, "${why}", nothing on stdout`, async () => {
      const b = new BridgeProcess(arch, args, { cpu });
      const { code } = await b.exit;
      assert.is(code, 1);
      assert.ok(b.stderr.includes(why), b.stderr);
      assert.ok(b.stderr.includes('usage:'), b.stderr);
      assert.is(b.leftover, 0);
    });
  }

  if (arch !== 'x64') {
    t('generic socket under qemu-user: fatal ERROR EPROTONOSUPPORT, exit 2', async () => {
      const b = new BridgeProcess(arch, ['generic', 'batadv'], { cpu });
      const e = errorRecord(await b.next());
      assert.is(e.errno, EPROTONOSUPPORT);
      assert.is(e.fatal, 1);
      assert.ok(e.text.includes('NETLINK_GENERIC'), e.text);
      assert.is((await b.exit).code, 2);
      assert.ok(b.stderr.includes(`errno ${EPROTONOSUPPORT}`), b.stderr);
    });
  }

  t('route: a link dump is relayed from the kernel, ending in NLMSG_DONE', async () => {
    const b = await startRoute(arch, cpu);
    b.send(RecKind.NL, getLink(7));
    const recs = await b.collectUntil(NLMSG_DONE, 7, messages);
    const msgs = recs.flatMap((r) => messages(r.payload));
    const links = msgs.filter((m) => m.type === RTM_NEWLINK && m.seq === 7);
    assert.ok(links.length >= 1, 'at least one link');
    assert.ok(links.map(linkName).includes('lo'), `links: ${links.map(linkName).join(',')}`);
    assert.is((await b.end()).code, 0);
  });

  t('route: a non-link message type is refused with EPERM, naming its seq', async () => {
    const b = await startRoute(arch, cpu);
    const req = nlmsg(RTM_GETADDR, 0x301, 41, Buffer.alloc(8));
    b.send(RecKind.NL, req);
    const r = await b.next();
    assert.is(r.kind, RecKind.REFUSED);
    assert.is(r.payload.readInt32LE(0), EPERM);
    assert.is(r.payload.readUInt32LE(4), 1, 'one header');
    assert.equal(r.payload.subarray(8, 24), req.subarray(0, 16), 'the refused header, verbatim');
    assert.ok(r.payload.toString('utf8', 24).includes('22'), 'reason names the type');
    // still serving afterwards
    b.send(RecKind.NL, getLink(42, 1));
    const after = messages((await b.next()).payload);
    assert.is(after[0]!.seq, 42);
    assert.is(linkName(after[0]!), 'lo');
    assert.is((await b.end()).code, 0);
  });

  t('route: malformed datagrams are refused with EINVAL and never sent', async () => {
    const b = await startRoute(arch, cpu);
    const long = getLink(50, 1);
    long.writeUInt32LE(long.length + 64, 0); // claims more than the datagram holds
    const noRequest = nlmsg(18, 0, 51, Buffer.alloc(16)); // no NLM_F_REQUEST
    const control = nlmsg(NLMSG_ERROR, 1, 52, Buffer.alloc(20)); // a control type
    const tiny = Buffer.alloc(10);
    const trailing = Buffer.concat([getLink(53, 1), Buffer.alloc(6)]);
    const shortIfi = nlmsg(18, 1, 54, Buffer.alloc(4));
    for (const [d, errno] of [
      [long, EINVAL],
      [noRequest, EINVAL],
      [control, EPERM],
      [tiny, EINVAL],
      [trailing, EINVAL],
      [shortIfi, EINVAL],
    ] as [Buffer, number][]) {
      b.send(RecKind.NL, d);
      const r = await b.next();
      assert.is(r.kind, RecKind.REFUSED, `kind for ${d.toString('hex').slice(0, 40)}`);
      assert.is(r.payload.readInt32LE(0), errno, r.payload.toString('utf8', 8));
    }
    // A two-message datagram with one bad message is refused whole, listing both headers.
    const pair = Buffer.concat([getLink(60, 1), nlmsg(RTM_GETADDR, 1, 61, Buffer.alloc(8))]);
    b.send(RecKind.NL, pair);
    const r = await b.next();
    assert.is(r.kind, RecKind.REFUSED);
    assert.is(r.payload.readUInt32LE(4), 2);
    assert.is(r.payload.readUInt32LE(8 + 8), 60);
    assert.is(r.payload.readUInt32LE(24 + 8), 61);
    assert.is((await b.end()).code, 0, 'nothing from the kernel came back for any of them');
    assert.is(b.leftover, 0);
  });

  t('oversized record: ERROR EMSGSIZE, payload skipped, stream stays in step', async () => {
    const b = await startRoute(arch, cpu);
    b.write(record(RecKind.NL, Buffer.alloc(16385, 0xaa)));
    const e = errorRecord(await b.next());
    assert.is(e.errno, EMSGSIZE);
    assert.is(e.fatal, 0);
    assert.ok(e.text.includes('16385'), e.text);
    b.send(RecKind.NL, getLink(70, 1));
    const m = messages((await b.next()).payload);
    assert.is(m[0]!.seq, 70);
    assert.is((await b.end()).code, 0);
  });

  t('records split into single bytes are reassembled', async () => {
    const b = await startRoute(arch, cpu);
    const rec = record(RecKind.NL, getLink(80, 1));
    for (const byte of rec) b.write(Buffer.from([byte]));
    const m = messages((await b.next()).payload);
    assert.is(m[0]!.seq, 80);
    assert.is((await b.end()).code, 0);
  });

  t('unknown record kind and bad JOIN payloads: ERROR EINVAL, bridge goes on', async () => {
    const b = await startRoute(arch, cpu);
    b.send(9, Buffer.from([1, 2, 3]));
    assert.is(errorRecord(await b.next()).errno, EINVAL);
    b.send(RecKind.JOIN, Buffer.from([1, 0]));
    assert.is(errorRecord(await b.next()).errno, EINVAL);
    b.send(RecKind.NL, getLink(90, 1));
    assert.is(messages((await b.next()).payload)[0]!.seq, 90);
    assert.is((await b.end()).code, 0);
  });

  t('JOIN: RTNLGRP_LINK allowed, other groups refused with EPERM', async () => {
    const b = await startRoute(arch, cpu);
    const g = (n: number) => {
      const p = Buffer.alloc(4);
      p.writeUInt32LE(n);
      return p;
    };
    b.send(RecKind.JOIN, g(1));
    let r = await b.next();
    assert.is(r.kind, RecKind.RESULT);
    assert.is(r.payload.readUInt16LE(0), RecKind.JOIN);
    assert.is(r.payload.readUInt32LE(4), 1);
    assert.is(r.payload.readInt32LE(8), 0, 'joined');
    b.send(RecKind.JOIN, g(5));
    r = await b.next();
    assert.is(r.payload.readUInt32LE(4), 5);
    assert.is(r.payload.readInt32LE(8), EPERM);
    b.send(RecKind.LEAVE, g(1));
    r = await b.next();
    assert.is(r.payload.readUInt16LE(0), RecKind.LEAVE);
    assert.is(r.payload.readInt32LE(8), 0);
    assert.is((await b.end()).code, 0);
  });

  t('a nonzero reserved field is fatal (EPROTO, exit 3)', async () => {
    const b = await startRoute(arch, cpu);
    b.write(record(RecKind.NL, getLink(1, 1), 7));
    const e = errorRecord(await b.next());
    assert.is(e.errno, EPROTO);
    assert.is(e.fatal, 1);
    assert.is((await b.exit).code, 3);
  });

  t('a length beyond 1 MiB is fatal (EMSGSIZE, exit 3)', async () => {
    const b = await startRoute(arch, cpu);
    const h = Buffer.alloc(8);
    h.writeUInt32LE(0x7fffffff, 0);
    h.writeUInt16LE(RecKind.NL, 4);
    b.write(h);
    const e = errorRecord(await b.next());
    assert.is(e.errno, EMSGSIZE);
    assert.is(e.fatal, 1);
    assert.is((await b.exit).code, 3);
  });

  t.run();
}
