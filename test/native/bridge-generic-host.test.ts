// The x64 bridge's generic netlink side on the host kernel, which has no batman-adv: the
// family is reported as ENOENT (cleanly, the bridge still starts), the kernel's own answer
// to a GETFAMILY is relayed, and the family policy refuses everything not asked for.
// The full batadv path (resolved family, SET_MESH, config multicast) runs in the VM:
// test/guest/bridge.guest.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { BridgeProcess, RecKind, ensureBuilt } from './bridge-process.ts';
import {
  CTRL_CMD_NEWFAMILY,
  GENL_ID_CTRL,
  NLMSG_ERROR,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  attr,
  cstr,
  errnoOf,
  genlmsg,
  getFamily,
  messages,
  parseNewFamily,
} from '../guest/lib/netlink-bytes.ts';

const EPERM = 1;
const ENOENT = 2;

test.before(() => ensureBuilt());

interface ReadyFamily {
  name: string;
  errno: number;
  id: number;
  groups: Map<string, number>;
}

function parseReady(p: Buffer): { portId: number; protocol: number; families: ReadyFamily[] } {
  const n = p.readUInt32LE(12);
  const families: ReadyFamily[] = [];
  let off = 16;
  for (let i = 0; i < n; i++) {
    const name = p.toString('latin1', off, off + 16).replace(/\0.*$/s, '');
    const errno = p.readInt32LE(off + 16);
    const id = p.readUInt16LE(off + 20);
    const ng = p.readUInt16LE(off + 22);
    off += 24;
    const groups = new Map<string, number>();
    for (let g = 0; g < ng; g++, off += 20) groups.set(p.toString('latin1', off + 4, off + 20).replace(/\0.*$/s, ''), p.readUInt32LE(off));
    families.push({ name, errno, id, groups });
  }
  assert.is(off, p.length, 'READY fully consumed');
  return { portId: p.readUInt32LE(4), protocol: p.readUInt32LE(8), families };
}

async function start(...families: string[]) {
  const b = new BridgeProcess('x64', ['generic', ...families]);
  const r = await b.next();
  assert.is(r.kind, RecKind.READY, b.stderr);
  return { b, ready: parseReady(r.payload) };
}

async function expectRefused(b: BridgeProcess, d: Buffer, errno = EPERM): Promise<string> {
  b.send(RecKind.NL, d);
  const r = await b.next();
  assert.is(r.kind, RecKind.REFUSED, `kind ${r.kind}`);
  assert.is(r.payload.readInt32LE(0), errno);
  assert.is(r.payload.readUInt32LE(8 + 8), d.readUInt32LE(8), 'the refused seq');
  return r.payload.toString('utf8', 8 + 16 * r.payload.readUInt32LE(4));
}

test('generic batadv on a kernel without batman-adv: READY reports ENOENT, bridge keeps running', async () => {
  const loaded = existsSync('/sys/module/batman_adv');
  const { b, ready } = await start('batadv');
  assert.is(ready.protocol, 16);
  assert.ok(ready.portId > 0, 'a bound port id');
  assert.is(ready.families.length, 1);
  assert.is(ready.families[0]!.name, 'batadv');
  if (loaded) {
    assert.is(ready.families[0]!.errno, 0);
    assert.ok(ready.families[0]!.id >= 0x10);
  } else {
    assert.is(ready.families[0]!.errno, ENOENT);
    assert.is(ready.families[0]!.id, 0);
    // The agent's own GETFAMILY passes the policy and the kernel's -ENOENT comes back to it.
    b.send(RecKind.NL, getFamily('batadv', 5));
    const r = await b.next();
    assert.is(r.kind, RecKind.NL);
    const [m] = messages(r.payload);
    assert.is(m!.type, NLMSG_ERROR);
    assert.is(m!.seq, 5);
    assert.is(m!.pid, ready.portId);
    assert.is(errnoOf(m!), -ENOENT);
  }
  assert.is((await b.end()).code, 0);
});

test('policy: only GETFAMILY for asked families; other families and controller commands refused', async () => {
  const { b } = await start('batadv');
  assert.ok((await expectRefused(b, getFamily('nlctrl', 10))).includes('not started for'));
  // a name without its terminating NUL is not a name
  await expectRefused(b, genlmsg(GENL_ID_CTRL, 3, NLM_F_REQUEST, 11, [attr(2, Buffer.from('batadv'))]));
  // the kernel prefers FAMILY_ID: an id that is not ours next to our name is refused
  const both = genlmsg(GENL_ID_CTRL, 3, NLM_F_REQUEST, 12, [attr(2, cstr('batadv')), attr(1, Buffer.from([0x10, 0, 0, 0]))]);
  await expectRefused(b, both);
  await expectRefused(b, genlmsg(GENL_ID_CTRL, CTRL_CMD_NEWFAMILY, NLM_F_REQUEST, 13, [attr(2, cstr('batadv'))]));
  await expectRefused(b, genlmsg(GENL_ID_CTRL, 3, NLM_F_REQUEST | NLM_F_DUMP, 14, []));
  await expectRefused(b, genlmsg(GENL_ID_CTRL, 3, NLM_F_REQUEST, 15, [])); // no selector at all
  assert.ok((await expectRefused(b, genlmsg(0x15, 1, NLM_F_REQUEST, 16, []))).includes('21'));
  // a bare 16-byte header whose nlmsg_len (20) claims more than was sent: EINVAL
  await expectRefused(b, Buffer.from(genlmsg(0x15, 1, NLM_F_REQUEST, 17, []).subarray(0, 16)).fill(0x14, 0, 1), 22);
  assert.is((await b.end()).code, 0);
});

test('generic nlctrl: resolved at start with its groups; JOIN only for those groups', async () => {
  const { b, ready } = await start('nlctrl');
  const fam = ready.families[0]!;
  assert.is(fam.errno, 0);
  assert.is(fam.id, GENL_ID_CTRL);
  const notify = fam.groups.get('notify');
  assert.ok(notify !== undefined && notify > 0, `groups: ${[...fam.groups]}`);

  // The controller answers our own GETFAMILY with the same facts.
  b.send(RecKind.NL, getFamily('nlctrl', 21));
  const r = await b.next();
  const [m] = messages(r.payload);
  assert.is(m!.seq, 21);
  const nf = parseNewFamily(m!);
  assert.is(nf.id, fam.id);
  assert.is(nf.groups.get('notify'), notify);

  const join = (g: number) => {
    const p = Buffer.alloc(4);
    p.writeUInt32LE(g);
    b.send(RecKind.JOIN, p);
  };
  join(notify!);
  let res = await b.next();
  assert.is(res.kind, RecKind.RESULT);
  assert.is(res.payload.readUInt32LE(4), notify);
  assert.is(res.payload.readInt32LE(8), 0);
  join(notify! + 1000);
  res = await b.next();
  assert.is(res.payload.readInt32LE(8), EPERM);
  assert.is((await b.end()).code, 0);
});

test.run();
