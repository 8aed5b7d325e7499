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

export async function bootVm(opts: BootOptions): Promise<BootResult> {
  const host = opts.host ?? findVmHost();
  const initrd = buildInitramfs(host);
  const resultsDir = opts.resultsDir ?? mkdtempSync(join(tmpdir(), 'x0vm-'));
  writeFileSync(join(resultsDir, 'run.sh'), opts.script);
  const args = [
    '-accel', 'tcg,thread=multi', '-cpu', 'max',
    '-m', String(opts.memoryMb ?? 1024), '-smp', String(opts.cpus ?? 2),
    '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot', '-nic', 'none',
    '-kernel', host.vmlinuz, '-initrd', initrd,
    '-append', 'console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init',
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${resultsDir},mount_tag=results,security_model=none,multidevs=remap`,
    ...(opts.qemuArgs ?? []),
  ];
  const started = Date.now();
  const child = spawn(host.qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
  }, opts.timeoutMs ?? 5 * 60_000);
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.on('error', resolve);
    child.on('close', () => resolve(undefined));
  });
  clearTimeout(timer);
  if (partial) opts.onConsole?.(partial);
  if (spawnError) throw spawnError;
  const exitFile = join(resultsDir, 'exit-code');
  const code = existsSync(exitFile) ? Number(readFileSync(exitFile, 'utf8').trim()) : undefined;
  const boot = /x0vm: booted ([\d.]+)s/.exec(consoleText);
  return {
    booted: existsSync(join(resultsDir, 'booted')),
    exitCode: Number.isInteger(code) ? code : undefined,
    timedOut,
    resultsDir,
    console: consoleText,
    elapsedMs: Date.now() - started,
    bootSeconds: boot ? Number(boot[1]) : undefined,
    kernelVersion: host.kernelVersion,
  };
}
