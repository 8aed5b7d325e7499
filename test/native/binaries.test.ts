// The bridge binaries: present, within the 32 KB budget, static executables for the right
// machine. Sizes are printed so the report can quote them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync } from 'node:fs';
import { ARCHES, binaryPath, ensureBuilt, type Arch } from './bridge-process.ts';

const EXPECT: Record<Arch, { cls: number; machine: number }> = {
  x64: { cls: 2, machine: 62 }, // ELFCLASS64, EM_X86_64
  ia32: { cls: 1, machine: 3 }, // ELFCLASS32, EM_386
  arm64: { cls: 2, machine: 183 }, // EM_AARCH64
  arm: { cls: 1, machine: 40 }, // EM_ARM
  mipsel: { cls: 1, machine: 8 }, // EM_MIPS (little-endian: checked below)
};

test.before(() => ensureBuilt());

for (const arch of ARCHES) {
  test(`${arch}: at most 32 KB`, () => {
    const size = statSync(binaryPath(arch)).size;
    console.error(`bridge ${arch}: ${size} bytes`);
    assert.ok(size > 1024, `suspiciously small: ${size}`);
    assert.ok(size <= 32 * 1024, `${size} bytes > 32768`);
  });

  test(`${arch}: static little-endian executable for the right machine`, () => {
    const b = readFileSync(binaryPath(arch));
    assert.equal([...b.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], 'ELF magic');
    const { cls, machine } = EXPECT[arch];
    assert.is(b[4], cls, 'ELF class');
    assert.is(b[5], 1, 'little-endian');
    assert.is(b.readUInt16LE(16), 2, 'ET_EXEC (not PIE, not shared)');
    assert.is(b.readUInt16LE(18), machine, 'e_machine');
    // Program headers: no PT_DYNAMIC (2) and no PT_INTERP (3) -> needs no loader, no libc.
    const phoff = cls === 2 ? Number(b.readBigUInt64LE(32)) : b.readUInt32LE(28);
    const phentsize = b.readUInt16LE(cls === 2 ? 54 : 42);
    const phnum = b.readUInt16LE(cls === 2 ? 56 : 44);
    assert.ok(phnum > 0);
    for (let i = 0; i < phnum; i++) {
      const type = b.readUInt32LE(phoff + i * phentsize);
      assert.not.ok(type === 2 || type === 3, `program header ${i} is type ${type}`);
    }
    if (arch === 'arm') {
      const flags = b.readUInt32LE(36);
      assert.is(flags >>> 24, 5, 'EABI version 5');
      assert.not.ok(flags & 0x400, 'must not be marked hard-float (EF_ARM_ABI_FLOAT_HARD)');
    }
    if (arch === 'mipsel') {
      const flags = b.readUInt32LE(36);
      assert.is(flags >>> 28, 7, 'EF_MIPS_ARCH_32R2 (MT7621 is a MIPS32r2 1004Kc)');
      assert.is((flags >>> 12) & 0xf, 1, 'EF_MIPS_ABI_O32');
      assert.not.ok(flags & 0x6, 'not PIC/CPIC (EF_MIPS_PIC, EF_MIPS_CPIC): plain static code');
    }
  });
}

test('arm: no VFP/NEON instructions (runs on soft- and hard-float systems)', () => {
  // Coprocessor 10/11 instructions are the VFP/NEON ones; in ARM mode they are
  // cond 110x/1110 xxxx ... 101x xxxx xxxx with bits 11..9 = 0b101.
  const b = readFileSync(binaryPath('arm'));
  const shoff = b.readUInt32LE(32);
  const shentsize = b.readUInt16LE(46);
  const shnum = b.readUInt16LE(48);
  let words = 0;
  let vfp = 0;
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    const flags = b.readUInt32LE(sh + 8);
    if (!(flags & 0x4)) continue; // SHF_EXECINSTR
    const off = b.readUInt32LE(sh + 16);
    const size = b.readUInt32LE(sh + 20);
    for (let o = off; o + 4 <= off + size; o += 4) {
      const w = b.readUInt32LE(o);
      words++;
      const cond = w >>> 28;
      const coproc = (w >>> 8) & 0xf;
      const isCoproc = ((w >>> 25) & 0x7) === 0b110 || ((w >>> 24) & 0xf) === 0b1110;
      const isSimd = cond === 0xf && ((w >>> 25) & 0x7f) === 0b1111001; // Advanced SIMD data
      if ((cond !== 0xf && isCoproc && (coproc === 10 || coproc === 11)) || isSimd) vfp++;
    }
  }
  assert.ok(words > 500, `found only ${words} instruction words`);
  assert.is(vfp, 0, 'VFP/NEON instruction words');
});

test('arm: built for ARMv5TE (Tag_CPU_arch v5TE), so ARMv5/ARMv6 cores run it (framing tests run it on arm926/arm1176)', () => {
  // The EABI attributes section (SHT_ARM_ATTRIBUTES) of an armv5te build holds, in its file
  // attributes, Tag_CPU_name (5) "5TE" and then Tag_CPU_arch (6) = 4 (v5TE); armv7-a says "7-A", 10.
  const b = readFileSync(binaryPath('arm'));
  const shoff = b.readUInt32LE(32);
  const shentsize = b.readUInt16LE(46);
  const shnum = b.readUInt16LE(48);
  let attrs: Buffer | undefined;
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (b.readUInt32LE(sh + 4) === 0x70000003) attrs = b.subarray(b.readUInt32LE(sh + 16), b.readUInt32LE(sh + 16) + b.readUInt32LE(sh + 20));
  }
  assert.ok(attrs, 'no .ARM.attributes section');
  assert.ok(attrs.includes(Buffer.from([0x05, ...Buffer.from('5TE'), 0x00, 0x06, 0x04])), `attributes: ${attrs.toString('hex')}`);
});

test('mipsel: no FPU instructions (runs with or without an FPU, no kernel emulation needed)', () => {
  // COP1 (opcode 0x11), COP1X (0x13) and the FP loads/stores LWC1/LDC1/SWC1/SDC1 (0x31/0x35/0x39/0x3d).
  const b = readFileSync(binaryPath('mipsel'));
  const shoff = b.readUInt32LE(32);
  const shentsize = b.readUInt16LE(46);
  const shnum = b.readUInt16LE(48);
  let words = 0;
  let fpu = 0;
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (!(b.readUInt32LE(sh + 8) & 0x4)) continue; // SHF_EXECINSTR
    const off = b.readUInt32LE(sh + 16);
    const size = b.readUInt32LE(sh + 20);
    for (let o = off; o + 4 <= off + size; o += 4) {
      words++;
      if ([0x11, 0x13, 0x31, 0x35, 0x39, 0x3d].includes(b.readUInt32LE(o) >>> 26)) fpu++;
    }
  }
  assert.ok(words > 500, `found only ${words} instruction words`);
  assert.is(fpu, 0, 'FPU instruction words');
});

test.run();
