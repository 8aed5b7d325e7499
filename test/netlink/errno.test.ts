// Errno numbers become names by the kernel's numbering: asm-generic everywhere the agent runs
// but MIPS, whose own numbers come from the Linux tree's arch/mips/include/uapi/asm/errno.h.
// The same table is checked against a real mipsel Node's os.constants.errno in test/arch/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { constants } from 'node:os';
import { Errno, errnoLabel, errnoName, errnoTable } from '../../src/netlink/errno.ts';

test('generic numbering (x64, arm, arm64, ia32)', () => {
  for (const arch of ['x64', 'arm', 'arm64', 'ia32']) {
    assert.is(errnoName(95, arch), 'EOPNOTSUPP');
    assert.is(errnoName(122, arch), 'EDQUOT');
    assert.is(errnoName(93, arch), 'EPROTONOSUPPORT');
    assert.is(errnoName(90, arch), 'EMSGSIZE');
    assert.is(errnoName(105, arch), 'ENOBUFS');
  }
});

test('MIPS numbering (arch/mips/include/uapi/asm/errno.h)', () => {
  for (const arch of ['mipsel', 'mips']) {
    assert.is(errnoName(122, arch), 'EOPNOTSUPP');
    assert.is(errnoName(95, arch), 'ENOTSOCK');
    assert.is(errnoName(93, arch), 'ENOTEMPTY');
    assert.is(errnoName(97, arch), 'EMSGSIZE');
    assert.is(errnoName(120, arch), 'EPROTONOSUPPORT');
    assert.is(errnoName(132, arch), 'ENOBUFS');
    assert.is(errnoName(145, arch), 'ETIMEDOUT');
    assert.is(errnoName(1133, arch), 'EDQUOT');
    assert.is(errnoName(79, arch), 'EOVERFLOW');
    const n = errnoTable(arch).numbers;
    assert.is(n.EOPNOTSUPP, 122);
    assert.is(n.EAFNOSUPPORT, 124);
    // The low numbers and the netlink-relevant ones that agree.
    for (const [name, v] of [['EPERM', 1], ['ENOENT', 2], ['ENODEV', 19], ['EINVAL', 22], ['ERANGE', 34], ['ENODATA', 61], ['ENONET', 64], ['EPROTO', 71]] as const) {
      assert.is(n[name], v, name);
    }
  }
});

test('unknown numbers stay numbers; the kernel-internal ENOTSUPP is 524 everywhere', () => {
  assert.is(errnoName(4242, 'x64'), 'errno 4242');
  assert.is(errnoName(4242, 'mipsel'), 'errno 4242');
  assert.is(errnoName(524, 'x64'), 'ENOTSUPP');
  assert.is(errnoName(524, 'mipsel'), 'ENOTSUPP');
});

test("every name maps to one number and back, both numberings", () => {
  for (const arch of ['x64', 'mipsel']) {
    const t = errnoTable(arch);
    assert.is(t.names.size, Object.keys(t.numbers).length, `${arch}: two names share a number`);
    for (const [name, n] of Object.entries(t.numbers)) assert.is(t.names.get(n), name);
  }
});

test("this machine's table agrees with Node's own os.constants.errno (libc's numbers)", () => {
  const libc = constants.errno as Record<string, number>;
  let compared = 0;
  for (const [name, n] of Object.entries(errnoTable().numbers)) {
    if (libc[name] === undefined) continue; // ENOTSUPP is kernel-internal: libc has none
    assert.is(n, libc[name], name);
    compared++;
  }
  assert.ok(compared >= 40, `compared only ${compared}`);
  assert.is(Errno.EOPNOTSUPP, libc.EOPNOTSUPP);
});

test('labels: the name where the numbering knows one, always the number as sent', () => {
  assert.is(errnoLabel(120, 'mipsel'), 'EPROTONOSUPPORT, errno 120');
  assert.is(errnoLabel(93, 'arm64'), 'EPROTONOSUPPORT, errno 93');
  assert.is(errnoLabel(93, 'mipsel'), 'ENOTEMPTY, errno 93');
  assert.is(errnoLabel(120, 'x64'), 'errno 120');
});

test.run();
