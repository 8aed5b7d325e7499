// What the healing proofs in the VM need around one node: a whole agent (the real Healer over
// the real BatmanDriver) running in the node's namespace, host commands and interface counters
// taken in that namespace, link faults (netem) and the kernel's own view read with batctl, ip
// and nft as the oracle.
import { execFileSync, spawn } from 'node:child_process';
import type { Agent } from '../../../src/agent/agent.ts';
import { createAgent } from '../../../src/agent/create-agent.ts';
import { createLogger } from '../../../src/agent/logger.ts';
import { defaultConfig } from '../../../src/config/index.ts';
import type { AgentConfig } from '../../../src/config/schema.ts';
import { loadCore } from '../../../src/core/index.ts';
import { systemRunner, type CommandRunner } from '../../../src/mapek/command-runner.ts';
import type { CounterReader } from '../../../src/mapek/monitor.ts';
import { parseNeighbours, parseOriginators, type BatctlOriginator } from './batctl-parse.ts';
import { batctl, inNetns, openNode, type MeshInfoFile, type MeshNodeInfo } from './mesh.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const log = (m: string) => process.stderr.write(`heal-guest: ${m}\n`);

/** Host commands in the node's network namespace (nsenter: cheaper than `ip netns exec` under TCG). */
export function netnsRunner(netns: string): CommandRunner {
  return (argv, o) => systemRunner(['nsenter', `--net=/run/netns/${netns}`, ...argv], o);
}

/**
 * Packet counters of the node's interfaces. /sys/class/net in our mount namespace shows the
 * root namespace's devices, so one `ip -s -j link` in the node's namespace answers every
 * interface of a poll (cached briefly).
 */
export function netnsCounters(netns: string): CounterReader {
  let cache: { at: number; stats: Map<string, { rxPackets: number; txPackets: number }> } | null = null;
  return async (ifname) => {
    // Shared by the interfaces of one poll only: a reading reused by the next poll would date
    // a change later than it happened (and the loop reasons about when counters moved).
    if (!cache || Date.now() - cache.at > 120) {
      const r = await netnsRunner(netns)(['ip', '-s', '-j', 'link', 'show']);
      if (r.code !== 0) {
        log(`${netns}: counters unreadable: ${r.stderr.trim()}`);
        return null;
      }
      const links = JSON.parse(r.stdout) as { ifname: string; stats64?: { rx: { packets: number }; tx: { packets: number } } }[];
      cache = { at: Date.now(), stats: new Map(links.filter((l) => l.stats64).map((l) => [l.ifname, { rxPackets: l.stats64!.rx.packets, txPackets: l.stats64!.tx.packets }])) };
    }
    return cache.stats.get(ifname) ?? null;
  };
}

export interface HealAgentOptions {
  configure?: (c: AgentConfig) => void;
  journalPath?: string | null;
  uptimeMs?: () => number;
  /** Read interface counters (stuck-radio detection); default true. */
  counters?: boolean;
  quiet?: boolean;
}

let core: Awaited<ReturnType<typeof loadCore>> | null | undefined;

/** A whole agent on `node`, its loop running on its own timers, as on a router. */
export async function startHealAgent(node: MeshNodeInfo, options: HealAgentOptions = {}): Promise<Agent> {
  // The WASM core scores routes as on a router; the bundle cannot find it next to its sources.
  core ??= await loadCore({ wasmPath: `${process.env.X0VM_REPO ?? process.cwd()}/dist/core.wasm` }).catch((e: Error) => {
    log(`WASM core unavailable (${e.message}): route quality falls back to TQ/255`);
    return null;
  });
  const config = defaultConfig();
  config.agent.nodeName = node.name;
  config.healing.bootGraceS = 0;
  config.healing.startupJitterS = 0;
  options.configure?.(config);
  const driver = await openNode(node);
  const agent = createAgent({
    config,
    configSource: 'vm test',
    driver,
    log: createLogger(options.quiet ? 'warn' : 'info', (l) => log(`${node.name} ${l}`)),
    serveStatus: false,
    core,
    host: { run: netnsRunner(node.netns), ...(options.counters === false ? {} : { counters: netnsCounters(node.netns) }) },
    journalPath: options.journalPath ?? null,
    ...(options.uptimeMs ? { uptimeMs: options.uptimeMs } : {}),
  });
  await agent.start();
  return agent;
}

export const nodeOf = (mesh: MeshInfoFile, n: number) => mesh.nodes[n - 1]!;
/** Node a's interface towards node b. */
export const ifaceOf = (mesh: MeshInfoFile, a: number, b: number) => nodeOf(mesh, a).ifaces.find((i) => i.peer === nodeOf(mesh, b).name)!;

/** 100 % loss both ways on the link a–b (both egress queues): nothing crosses it. */
export function cutLink(mesh: MeshInfoFile, a: number, b: number, on: boolean): void {
  for (const [x, y] of [[a, b], [b, a]] as const) {
    const dev = ifaceOf(mesh, x, y).ifname;
    const ns = nodeOf(mesh, x).netns;
    if (on) inNetns(ns, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'netem', 'loss', '100%');
    else liftNetem(ns, dev);
  }
}

/** Removes a netem fault from an interface's egress; nothing when there is none. */
export function liftNetem(netns: string, ifname: string): void {
  try {
    inNetns(netns, 'tc', 'qdisc', 'del', 'dev', ifname, 'root');
  } catch {
    // no netem there
  }
}

/** Pings `address` from the node `count` times, 5 a second: how many were answered. */
export function pingAnswered(netns: string, address: string, count: number): number {
  const received = (out: string) => Number(/(\d+) received/.exec(out)?.[1] ?? 0);
  try {
    return received(inNetns(netns, 'ping', '-n', '-q', '-i', '0.2', '-c', String(count), '-W', '1', address));
  } catch (e) {
    // ping exits 1 when some went unanswered; its summary is still on stdout.
    return received(String((e as { stdout?: string }).stdout));
  }
}

/** A hard interface's hop penalty as batctl reads it from the kernel. */
export function hopPenaltyOf(netns: string, ifname: string): number {
  return Number(inNetns(netns, 'batctl', 'hardif', ifname, 'hop_penalty').trim());
}

export function origIntervalOf(netns: string): number {
  return Number(batctl(netns, 'orig_interval').trim());
}

/** batctl's neighbour table: last-seen ms by "ifname/mac". */
export function neighbourLastSeen(netns: string): Map<string, number> {
  return new Map(parseNeighbours(batctl(netns, 'n', '-H')).map((n) => [`${n.ifname}/${n.neighbour}`, n.lastSeenMs]));
}

/** batctl's best route per originator. */
export function bestRoutes(netns: string): Map<string, BatctlOriginator> {
  return new Map(parseOriginators(batctl(netns, 'o', '-H')).filter((o) => o.best).map((o) => [o.originator, o]));
}

/** Polls `cond` every `everyMs` until it holds; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, timeoutMs: number, everyMs = 250): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function sh(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Counts the lines of a long-running command in a node's namespace that `accept` takes (it sees each line); stop() ends it. */
export function countLines(netns: string, argv: string[], accept: (line: string) => boolean): { count: () => number; stop: () => void } {
  const p = spawn('nsenter', [`--net=/run/netns/${netns}`, ...argv], { stdio: ['ignore', 'pipe', 'ignore'] });
  let n = 0;
  let buf = '';
  p.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    n += lines.filter(accept).length;
  });
  return { count: () => n, stop: () => p.kill('SIGKILL') };
}

/** For `ip monitor link`: a hard interface (vA-B) going from admin-up to admin-down (ip monitor may print a change twice). */
export function downEdges(): (line: string) => boolean {
  const up = new Map<string, boolean>();
  return (line) => {
    const m = /^\d+: (v\d+-\d+)@\S+ <([^>]*)>/.exec(line);
    if (!m) return false;
    const isUp = m[2]!.split(',').includes('UP');
    const was = up.get(m[1]!) ?? true;
    up.set(m[1]!, isUp);
    return was && !isUp;
  };
}
