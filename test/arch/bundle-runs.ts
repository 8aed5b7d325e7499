// What test:arch does with the shipped bundle under an emulated node: each function runs one
// case and returns what the test asserts on. The agents' status sockets are asked from this
// (host) process with the agent's own status client: a CLI call under emulation would cost
// another 5-12 s of bundle start for each question.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchStatus } from '../../src/status/client.ts';
import type { ComponentHealth, HealthReport } from '../../src/status/types.ts';
import { fleetNodeConfig } from '../packaging/fleet-config.ts';
import { freePort } from '../telemetry/mosquitto.ts';
import type { CoreVariant } from './targets.ts';

export const BUNDLE = new URL('../../dist/x0tta6bl4.mjs', import.meta.url).pathname;
const DIST_NATIVE = new URL('../../dist/native/', import.meta.url).pathname;

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** One bundle command under `node` (an emulated node's wrapper, or process.execPath). */
export function cli(node: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve) =>
    // The limit only ends a hung run: an emulated bundle start alone is 5-12 s of CPU.
    execFile(node, [BUNDLE, ...args], { cwd, env, timeout: 300_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/**
 * The core build /health reports. Today's agent says "WebAssembly" or "portable JS fallback:
 * ..."; with the scalar build it says "WebAssembly (SIMD)", "scalar WebAssembly ..." or the JS
 * fallback (src/agent/starting-health.ts).
 */
export function coreVariantOf(core: ComponentHealth | undefined): CoreVariant | null {
  const r = core?.reason ?? '';
  if (/^scalar WebAssembly/.test(r)) return 'wasm-scalar';
  if (/^WebAssembly/.test(r)) return 'wasm-simd';
  if (/^portable JS fallback/.test(r)) return 'js';
  return null;
}

export function component(h: HealthReport, name: string): ComponentHealth | undefined {
  return h.components.find((c) => c.name === name);
}

async function waitFor<T>(what: string, limitMs: number, probe: () => Promise<T | null>, alive: () => string | null, state: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const dead = alive();
    if (dead) throw new Error(`${what}: ${dead}`);
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} (a hang guard, not a speed check) ${state()}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A 5-node demo; while it runs, node n1's /health (for the core); then SIGTERM ends it. */
export async function demoWithHealth(node: string, cwd: string): Promise<{ code: number | null; output: string; health: HealthReport }> {
  const p = spawn(node, [BUNDLE, 'demo', '--nodes', '5', '--duration', '600'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  p.stdout.on('data', (d) => (output += d));
  p.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  try {
    const dir = await waitFor('the demo to print its status sockets', 240_000, async () => /status sockets: (\S+)\/<node>\.sock/.exec(output)?.[1] ?? null, () => (p.exitCode !== null ? `demo exited ${p.exitCode}\n${output}` : null));
    const health = await waitFor('/health of demo node n1', 120_000, () => fetchStatus<HealthReport>(join(dir, 'n1.sock'), '/health', 30_000), () => (p.exitCode !== null ? `demo exited ${p.exitCode}\n${output}` : null));
    p.kill('SIGTERM');
    return { code: await exited, output, health };
  } finally {
    if (p.exitCode === null) p.kill('SIGKILL');
  }
}

interface Peer {
  peerId: string;
  rttMs: number | null;
}

export interface FleetResult {
  health: HealthReport[];
  logs: string;
}

/**
 * Two agents under `node` with federation (noise over loopback TCP, admitted by the fleet CA)
 * and telemetry to `brokerUrl`; resolves once each has pinged the other (rttMs measured both
 * ways) and `online()` says both are on the broker. The pki files are made by `hostNode` (the
 * same bundle: keys and certificates do not depend on the CPU; pki under emulation is its own case).
 */
export async function fleet(node: string, hostNode: string, root: string, brokerUrl: string, online: () => boolean): Promise<FleetResult> {
  const procs: ChildProcess[] = [];
  const logs: string[] = [];
  try {
    const init = await cli(hostNode, ['pki', 'init', '--dir', 'pki', '--fleet', 'lab'], root);
    if (init.code !== 0) throw new Error(`pki init: ${init.stderr}`);
    const portA = await freePort();
    const nodes = ['a', 'b'].map((name, i) => ({ name, dir: join(root, name), port: i === 0 ? portA : 0 }));
    const peerIds: string[] = [];
    for (const n of nodes) {
      mkdirSync(n.dir);
      const config = join(n.dir, 'x0tta6bl4');
      const peer = n.name === 'b' ? `/ip4/127.0.0.1/tcp/${portA}/p2p/${peerIds[0]}` : null;
      writeFileSync(config, fleetNodeConfig(n, peer, [`config telemetry 'telemetry'\n\toption enabled '1'\n\toption broker '${brokerUrl}'\n\toption interval '5'`]));
      const id = await cli(hostNode, ['pki', 'id', '--config', config], root);
      const peerId = /12D3Koo\w+/.exec(id.stdout)?.[0];
      if (!peerId) throw new Error(`pki id: ${id.stdout}${id.stderr}`);
      peerIds.push(peerId);
      const issued = await cli(hostNode, ['pki', 'issue', '--dir', 'pki', '--peer-id', peerId, '--name', n.name, '--out', join(n.dir, 'node-cert.pem')], root);
      if (issued.code !== 0) throw new Error(`pki issue: ${issued.stderr}`);
      copyFileSync(join(root, 'pki', 'fleet-ca.pem'), join(n.dir, 'fleet-ca.pem'));
    }
    for (const n of nodes) {
      const p = spawn(node, [BUNDLE, 'agent', '--config', join(n.dir, 'x0tta6bl4')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout!.on('data', (d) => logs.push(`${n.name}: ${d}`));
      p.stderr!.on('data', (d) => logs.push(`${n.name}: ${d}`));
      procs.push(p);
    }
    const alive = () => (procs.some((p) => p.exitCode !== null) ? `an agent exited\n${logs.join('')}` : null);
    const status = (i: number) => fetchStatus<{ health: HealthReport; federation: { peers?: Peer[] } | null }>(join(nodes[i]!.dir, 'status.sock'), '/status', 30_000);
    // The federation pings each admitted peer once a minute with a 5 s limit, and forgets the
    // rtt when one fails: under emulation on a busy machine one may. So: admitted both ways now,
    // and each side has measured an rtt to the other at least once (Node 18 without
    // crypto.getRandomValues never does: every ping fails and drops the connection).
    const seen = { admitted: [false, false], pinged: [false, false], online: false, lastError: '' };
    const look = async (i: number) => {
      const peer = ((await status(i)).federation?.peers ?? []).find((p) => p.peerId === peerIds[1 - i]);
      seen.admitted[i] = !!peer;
      if (typeof peer?.rttMs === 'number') seen.pinged[i] = true;
    };
    await waitFor(
      'a and b to admit and ping each other, and both to be online on the broker',
      600_000,
      async () => {
        await Promise.all([look(0), look(1)]).catch((e: Error) => (seen.lastError = e.message));
        seen.online = online();
        return seen.admitted.every(Boolean) && seen.pinged.every(Boolean) && seen.online ? true : null;
      },
      alive,
      () => JSON.stringify(seen),
    );
    // Still connected a while on.
    await new Promise((r) => setTimeout(r, 5000));
    await look(0);
    if (!seen.admitted[0]) throw new Error(`a lost b\n${logs.join('')}`);
    return { health: await Promise.all([0, 1].map(async (i) => (await status(i)).health)), logs: logs.join('') };
  } catch (e) {
    (e as Error).message += `\n${logs.join('')}`;
    throw e;
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
  }
}

/**
 * `x0tta6bl4 mesh originators` with this arch's netlink bridge, itself run by qemu-user through
 * a wrapper script (qemu-user runs a foreign child only through binfmt, which this machine need
 * not have). qemu-user cannot translate NETLINK_GENERIC, so the bridge reports a fatal
 * EPROTONOSUPPORT in the CPU's own errno numbering: the bundle must read that record, name the
 * number by its arch and stop in one line with exit 1. (The daemon, `agent`, says the same line
 * and stays up serving /health: test/runtime/missing-bridge.test.ts.)
 */
export async function meshWithBridge(node: string, qemu: string, nodeArch: string, dir: string): Promise<Ran> {
  const wrapper = join(dir, 'bridge');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${qemu} ${join(DIST_NATIVE, `x0tta6bl4-nlbridge-${nodeArch}`)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  mkdirSync(join(dir, 'state'), { mode: 0o700 });
  writeFileSync(
    join(dir, 'x0tta6bl4'),
    `config agent 'agent'\n\toption mesh_driver 'batman-adv'\n\toption state_dir '${join(dir, 'state')}'\n\n` + `config status 'status'\n\toption socket '${join(dir, 'status.sock')}'\n`,
  );
  return cli(node, ['mesh', 'originators', '--config', join(dir, 'x0tta6bl4')], dir, { ...process.env, X0TTA6BL4_NLBRIDGE: wrapper });
}
