// The guest half of bench:memory: the agent with federation, telemetry and one peer (on the
// host, as the broker is) in a QEMU guest of a router's RAM size (scripts/vm: Debian's kernel, the host root read-only over 9p,
// software emulation). Reports the agent's memory, /health latency and whether the kernel
// OOM-killed anything.
import { cpSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootVm } from '../../scripts/vm/boot.ts';
import { FLEET, TestFleet, TRUST_DOMAIN } from '../../test/federation/fleet-harness.ts';
import { agentConfig } from './agent-config.ts';
import { guestScript } from './guest-script.ts';
import { peersBundle } from './host.ts';
import { fork, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, Mosquitto } from '../../test/telemetry/mosquitto.ts';

export interface GuestOptions {
  bundle: string;
  memoryMb: number;
  agentFlags: string[];
  durationS: number;
  log: (s: string) => void;
}

export interface GuestResult {
  memoryMb: number;
  durationS: number;
  agentStartS: number | null;
  peerAdmitted: boolean;
  healthMs: number[];
  healthFailures: number;
  private: { medianKb: number; peakKb: number } | null;
  rssMedianKb: number | null;
  oomKills: string[];
  /** The agent's CPU time over the window / the window (1 = one guest CPU busy all the time). */
  cpuShare: number | null;
  /** Major page faults in the guest (file pages read back in: the node binary, over 9p). */
  majorFaults: number | null;
  memTotalKb: number | null;
  memAvailableAtStartKb: number | null;
  exitCode: number | undefined;
  timedOut: boolean;
  resultsDir: string;
}

const PORT = 4001;

export async function runGuest(o: GuestOptions): Promise<GuestResult> {
  const dir = mkdtempSync(join(tmpdir(), `x0-mem-vm${o.memoryMb}-`));
  const fleet = new TestFleet('memvm');
  const agent = await fleet.prepare('agent');
  const peer = await fleet.prepare('peer');
  // The agent's keys and certificate go to the results folder; the guest copies them to its /tmp.
  cpSync(join(fleet.root, 'agent'), join(dir, 'agent'), { recursive: true });
  const broker = await Mosquitto.start();
  const forward = await freePort();
  const uci = agentConfig({
    dir: '/tmp/x0/agent',
    fleet: FLEET,
    trustDomain: TRUST_DOMAIN,
    federation: { port: PORT, host: '0.0.0.0' },
    telemetry: { broker: `mqtt://10.0.2.2:${broker.port}`, allowPlaintext: true },
  });
  writeFileSync(join(dir, 'agent.uci'), uci);
  const cc = spawnSync('gcc', ['-O2', '-static', '-o', join(dir, 'probe'), fileURLToPath(new URL('./c/probe.c', import.meta.url))], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`building the guest prober needs gcc and a static libc (Debian: gcc, libc6-dev): ${cc.error?.message ?? cc.stderr}`);
  // The peer: a bare federation on the host that dials the agent through the forward, and keeps
  // redialling (static peer) until the guest's agent is up.
  const peers = fork(await peersBundle(), [JSON.stringify({ settings: [peer.settings], agent: `/ip4/127.0.0.1/tcp/${forward}/p2p/${agent.peerId}` })], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let peerAdmitted = false;
  peers.once('message', () => {
    peerAdmitted = true;
    o.log(`guest ${o.memoryMb} MiB: the peer on the host is admitted`);
  });
  const script = guestScript({ bundle: o.bundle, agentFlags: o.agentFlags, durationS: o.durationS });
  o.log(`guest ${o.memoryMb} MiB: booting (results in ${dir})`);
  let boot;
  try {
    boot = await bootVm({
      script,
      memoryMb: o.memoryMb,
      resultsDir: dir,
      timeoutMs: (o.durationS + 1200) * 1000,
      qemuArgs: ['-nic', `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${forward}-:${PORT}`],
      onConsole: (l) => (/x0vm:|Out of memory|oom|Killed/i.test(l) ? o.log(`guest ${o.memoryMb} MiB: ${l}`) : undefined),
    });
  } finally {
    peers.kill('SIGTERM');
    await broker.stop();
  }
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  const health = read('health.txt').split('\n').filter(Boolean).map((l) => l.split(' '));
  const healthMs = health.map(([code, t]) => (code === '200' ? Number(t) * 1000 : 10_000));
  const anon = read('smaps.txt')
    .split('\n')
    .map((l) => ({ anon: Number(/Anonymous:\s+(\d+)/.exec(l)?.[1] ?? NaN), rss: Number(/Rss:\s+(\d+)/.exec(l)?.[1] ?? NaN) }))
    .filter((x) => Number.isFinite(x.anon));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const dmesg = read('dmesg.txt') + boot.console;
  const oomKills = [...new Set(dmesg.split('\n').filter((l) => /Out of memory|oom-kill|Killed process/i.test(l)).map((l) => l.trim()))];
  const cpu = read('cpu.txt').trim().split('\n').map((l) => l.split(' ').map(Number));
  // /proc/PID/stat counts clock ticks: 100 per second on Debian's kernel (CONFIG_HZ does not matter here).
  const cpuShare = cpu.length === 2 && cpu.every((x) => x.length === 3) ? (cpu[1]![0]! + cpu[1]![1]! - cpu[0]![0]! - cpu[0]![1]!) / 100 / (cpu[1]![2]! - cpu[0]![2]!) : null;
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN) || null;
  const fault = /^pgmajfault (\d+)/m.exec(read('vmstat.txt'));
  return {
    memoryMb: o.memoryMb,
    cpuShare: cpuShare === null ? null : Math.round(cpuShare * 100) / 100,
    majorFaults: fault ? Number(fault[1]) : null,
    memTotalKb: kb(read('meminfo-start.txt'), 'MemTotal'),
    memAvailableAtStartKb: kb(read('meminfo-start.txt'), 'MemAvailable'),
    durationS: o.durationS,
    agentStartS: read('agent-start-seconds') ? Number(read('agent-start-seconds')) : null,
    peerAdmitted,
    healthMs,
    healthFailures: health.filter(([code]) => code !== '200').length,
    private: anon.length ? { medianKb: median(anon.map((x) => x.anon)), peakKb: Math.max(...anon.map((x) => x.anon)) } : null,
    rssMedianKb: anon.length ? median(anon.map((x) => x.rss)) : null,
    oomKills,
    exitCode: boot.exitCode,
    timedOut: boot.timedOut,
    resultsDir: dir,
  };
}
