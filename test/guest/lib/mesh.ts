// What a guest test needs around the mesh the VM runner built: the mesh description
// ($X0VM_MESH), batctl in a node's namespace, and our driver opened in that namespace.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { openBatmanDriver } from '../../../src/mesh/batman/open-batman-driver.ts';
import type { BatmanDriver } from '../../../src/mesh/batman/batman-driver.ts';
import type { MeshInfoFile, MeshNodeInfo } from '../../../scripts/vm/topology.ts';

export type { MeshInfoFile, MeshNodeInfo };

/** Guest tests only run in the VM, where the runner sets $X0VM_MESH; anywhere else they refuse to start. */
export function loadMesh(): MeshInfoFile {
  const file = process.env.X0VM_MESH;
  if (!file) throw new Error('X0VM_MESH is not set: guest tests run inside the VM (npm run test:vm)');
  return JSON.parse(readFileSync(file, 'utf8')) as MeshInfoFile;
}

/** TCG-emulated guest: requests get far more room than on real hardware. */
export const GUEST_TIMEOUT_MS = 20_000;

export function batctl(netns: string | undefined, ...args: string[]): string {
  return batctlOn(netns, 'bat0', ...args);
}

export function batctlOn(netns: string | undefined, meshif: string, ...args: string[]): string {
  return inNetns(netns, 'batctl', 'meshif', meshif, ...args);
}

/**
 * Runs a command in a node's namespace. nsenter rather than `ip netns exec`: it only joins the
 * network namespace, and under TCG each `ip netns exec` costs ~0.4 s more (mount namespace, sysfs).
 */
export function inNetns(netns: string | undefined, ...argv: string[]): string {
  const full = netns ? ['nsenter', `--net=/run/netns/${netns}`, ...argv] : argv;
  return execFileSync(full[0]!, full.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** batctl's exit status and both streams, for the error cases. */
export function batctlStatus(netns: string | undefined, meshif: string, ...args: string[]): { status: number; out: string } {
  try {
    return { status: 0, out: batctlOn(netns, meshif, ...args) };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { status: err.status ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

export function openNode(node: MeshNodeInfo, meshIfname: string = node.meshIfname): Promise<BatmanDriver> {
  return openBatmanDriver({ meshIfname, netns: node.netns, timeoutMs: GUEST_TIMEOUT_MS });
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Awaits `p`, expecting it to fail; returns the error. */
export async function rejection(p: Promise<unknown>, what: string): Promise<Error> {
  try {
    const v = await p;
    throw new Error(`${what}: expected an error, got ${JSON.stringify(v)}`);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(`${what}: expected an error`)) throw e;
    return e as Error;
  }
}

/** Opens a driver per node; closes them all after `fn`. */
export async function withDrivers<T>(mesh: MeshInfoFile, fn: (drivers: Map<string, BatmanDriver>) => Promise<T>): Promise<T> {
  const drivers = new Map<string, BatmanDriver>();
  try {
    for (const n of mesh.nodes) drivers.set(n.name, await openNode(n));
    return await fn(drivers);
  } finally {
    await Promise.allSettled([...drivers.values()].map((d) => d.close()));
  }
}
