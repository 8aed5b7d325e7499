// What /health and the one-line message say when the netlink bridge cannot serve, for the
// CPUs this host cannot be: big-endian MIPS (no bridge is built) and an ARM core older than
// the arm bridge's ARMv5TE. The messages are the ones src/netlink gives (bridge-path.ts,
// bridge-transport.ts); /proc/cpuinfo is given as text, the way an ARMv4 and an ARMv5 kernel
// print it (no real file is read). The bundle's own runs are test/runtime/missing-bridge.test.ts
// and test/native/bridge-sigill.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { archLabel, armCpuArchitecture, bridgeProblem } from '../../src/agent/open-driver.ts';

const ARMV4_CPUINFO = 'processor\t: 0\nmodel name\t: FA526 rev 1 (v4l)\nBogoMIPS\t: 148.88\nFeatures\t: swp half \nCPU implementer\t: 0x66\nCPU architecture: 4\nCPU variant\t: 0x0\n';
const ARMV5_CPUINFO = 'processor\t: 0\nmodel name\t: ARM926EJ-S rev 5 (v5l)\nFeatures\t: swp half thumb fastmult edsp java \nCPU implementer\t: 0x41\nCPU architecture: 5TEJ\n';

test('big-endian MIPS: no bridge, named as such', () => {
  assert.is(archLabel('mips'), 'mips (big-endian)');
  assert.is(archLabel('mipsel'), 'mipsel');
  const msg = 'no netlink bridge for mips; looked in: /usr/lib/x0tta6bl4/x0tta6bl4-nlbridge-mips, /usr/lib/x0tta6bl4/x0tta6bl4-nlbridge';
  assert.is(bridgeProblem(msg, 'mips', () => ''), 'no netlink bridge for mips (big-endian); looked in: /usr/lib/x0tta6bl4/x0tta6bl4-nlbridge-mips, /usr/lib/x0tta6bl4/x0tta6bl4-nlbridge');
});

test('an ARM core the bridge cannot run on: which core this is, from /proc/cpuinfo', () => {
  assert.is(armCpuArchitecture(ARMV4_CPUINFO), 'ARMv4');
  assert.is(armCpuArchitecture(ARMV5_CPUINFO), 'ARMv5TEJ');
  assert.is(armCpuArchitecture('garbage\n'), undefined);
  const msg = 'netlink bridge /usr/lib/x0tta6bl4/x0tta6bl4-nlbridge-arm exited with signal SIGILL';
  assert.is(bridgeProblem(msg, 'arm', () => ARMV4_CPUINFO), `the arm bridge needs ARMv5TE or later: this CPU is ARMv4 (illegal instruction): ${msg}`);
  // An unreadable or unfamiliar cpuinfo: still the cause, without a guess at the core.
  assert.is(bridgeProblem(msg, 'arm', () => ''), `the arm bridge needs ARMv5TE or later (illegal instruction): ${msg}`);
});

test('other arches: the illegal instruction and ENOEXEC said plainly, anything else as given', () => {
  const sigill = 'netlink bridge /x/b exited with signal SIGILL';
  assert.is(bridgeProblem(sigill, 'mipsel', () => ''), `the mipsel bridge uses instructions this CPU lacks (illegal instruction): ${sigill}`);
  const enoexec = 'netlink bridge /x/b could not run /x/b: spawn /x/b ENOEXEC';
  assert.is(bridgeProblem(enoexec, 'arm64', () => ''), `${enoexec} (not a program this arm64 CPU can run)`);
  const ready = 'netlink bridge /x/b sent no READY within 10000 ms';
  assert.is(bridgeProblem(ready, 'x64', () => ''), ready);
});

test.run();
