// Boots Debian's kernel under QEMU (software emulation: the nested /dev/kvm here hangs) with
// the host root shared read-only and a fresh writable results folder, runs a shell script in
// the guest (as root, in a chroot of the host root with a tmpfs overlay), and returns when
// the VM powers off. The script and anything it writes live in the results folder.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildInitramfs } from './initramfs.ts';
import { findVmHost, type VmHost } from './kernel.ts';

export interface BootOptions {
  /** Shell script run as /x0vm/run.sh in the guest; /x0vm is the results folder. */
  script: string;
  /** Whole VM lifetime before it is killed, ms (default 5 min). */
  timeoutMs?: number;
  memoryMb?: number;
  cpus?: number;
  /** Results folder to use (default: a new temporary one). */
  resultsDir?: string;
  /** Every console line, as it arrives (the kernel's and the guest's). */
  onConsole?: (line: string) => void;
  host?: VmHost;
  /** More QEMU arguments, after the defaults (e.g. a user-mode NIC: `-nic user,...`). */
  qemuArgs?: string[];
}

export interface BootResult {
  /** The guest reached /x0vm/run.sh (9p root and overlay mounted). */
  booted: boolean;
  /** run.sh's exit code; undefined if it never finished. */
  exitCode: number | undefined;
  /** QEMU killed at the deadline. */
  timedOut: boolean;
  resultsDir: string;
  console: string;
  /** Wall time from QEMU start to exit, ms. */
  elapsedMs: number;
  /** Guest uptime when run.sh started (from init's "booted" line), seconds. */
  bootSeconds: number | undefined;
  kernelVersion: string;
}

/**
 * QEMU's machine for every guest here: TCG, serial console on stdio, no NIC, Debian's kernel
 * and the given initramfs, the host root shared read-only as `hostroot`.
 */
export function qemuMachineArgs(host: VmHost, initrd: string, memoryMb = 1024, cpus = 2): string[] {
  return [
    '-accel', 'tcg,thread=multi', '-cpu', 'max',
    '-m', String(memoryMb), '-smp', String(cpus),
    '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot', '-nic', 'none',
    '-kernel', host.vmlinuz, '-initrd', initrd,
    '-append', 'console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init',
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
  ];
}

export interface QemuRun {
  /** The whole console (kernel and guest), carriage returns removed. */
  console: string;
  /** QEMU killed at the deadline. */
  timedOut: boolean;
  /** Wall time from QEMU start to exit, ms. */
  elapsedMs: number;
}

/**
 * Runs QEMU until it exits (the guest powers off) or the deadline, when it is killed. Every
 * console line goes to onConsole as it arrives, the last unterminated one when QEMU is gone.
 * A QEMU that cannot be started throws.
 */
export async function runQemu(qemu: string, args: string[], opts: { timeoutMs: number; onConsole?: (line: string) => void }): Promise<QemuRun> {
  const started = Date.now();
  const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let consoleText = '';
  let partial = '';
  const onData = (d: Buffer) => {
    const s = d.toString('utf8').replace(/\r/g, '');
    consoleText += s;
    partial += s;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) opts.onConsole?.(l);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs);
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.on('error', resolve);
    child.on('close', () => resolve(undefined));
  });
  clearTimeout(timer);
  if (partial) opts.onConsole?.(partial);
  if (spawnError) throw spawnError;
  return { console: consoleText, timedOut, elapsedMs: Date.now() - started };
}

export async function bootVm(opts: BootOptions): Promise<BootResult> {
  const host = opts.host ?? findVmHost();
  const initrd = buildInitramfs(host);
  const resultsDir = opts.resultsDir ?? mkdtempSync(join(tmpdir(), 'x0vm-'));
  writeFileSync(join(resultsDir, 'run.sh'), opts.script);
  const args = [
    ...qemuMachineArgs(host, initrd, opts.memoryMb, opts.cpus),
    '-virtfs', `local,path=${resultsDir},mount_tag=results,security_model=none,multidevs=remap`,
    ...(opts.qemuArgs ?? []),
  ];
  const run = await runQemu(host.qemu, args, { timeoutMs: opts.timeoutMs ?? 5 * 60_000, ...(opts.onConsole ? { onConsole: opts.onConsole } : {}) });
  const exitFile = join(resultsDir, 'exit-code');
  const code = existsSync(exitFile) ? Number(readFileSync(exitFile, 'utf8').trim()) : undefined;
  const boot = /x0vm: booted ([\d.]+)s/.exec(run.console);
  return {
    booted: existsSync(join(resultsDir, 'booted')),
    exitCode: Number.isInteger(code) ? code : undefined,
    timedOut: run.timedOut,
    resultsDir,
    console: run.console,
    elapsedMs: run.elapsedMs,
    bootSeconds: boot ? Number(boot[1]) : undefined,
    kernelVersion: host.kernelVersion,
  };
}
