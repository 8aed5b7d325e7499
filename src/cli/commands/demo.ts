// `x0tta6bl4 demo`: reads the flags (nodes, seed, topology, fault rate, duration, LuCI port)
// and hands them to runDemo (src/demo/demo.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UsageError, type CliCommand } from '../command.ts';
import { createLogger } from '../../agent/logger.ts';
import { openCore } from '../../agent/open-core.ts';
import { runDemo } from '../../demo/demo.ts';
import type { TopologyKind } from '../../mesh/simulator/index.ts';

const TOPOLOGIES: TopologyKind[] = ['mesh', 'chain', 'ring', 'grid', 'diamond'];

function intFlag(v: unknown, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${v})`);
  return n;
}

/**
 * The LuCI preview server lives in the source checkout (scripts/), not in the bundle a router
 * carries: loaded by path at run time, so esbuild leaves it out.
 */
async function luciStarter(port: number) {
  const candidates = ['../../../scripts/luci-preview.mjs', '../scripts/luci-preview.mjs'].map((p) => new URL(p, import.meta.url));
  const found = candidates.find((u) => u.protocol === 'file:' && existsSync(fileURLToPath(u)));
  if (!found) throw new UsageError('--luci-port needs a source checkout (scripts/luci-preview.mjs is not installed on routers)');
  const mod = await import(pathToFileURL(fileURLToPath(found)).href);
  return async (socketPath: string) => {
    try {
      return await mod.startLuciPreview({ socketPath, port });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' && !/EADDRINUSE/.test(String(e))) throw e;
      return mod.startLuciPreview({ socketPath, port: 0 });
    }
  };
}

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'run a simulated mesh with one agent per node and live faults',
  usage: `usage: x0tta6bl4 demo [--nodes N] [--seed S] [--topology T] [--fault-every SECONDS]

A simulated batman-adv mesh (default 6 nodes) runs in this process with one full agent per
node, each serving its own status API. A fault is injected every few seconds (a fading link,
a dead link, a flapping link, a hung radio, a partition, then a repair round) and a live
summary shows what every agent sees. Ctrl-C stops it cleanly.`,
  flags: {
    nodes: { type: 'integer', value: 'N', describe: 'number of nodes, 5 to 50 (default 6)' },
    seed: { type: 'integer', value: 'S', describe: 'seed of the simulation and the faults (default 1)' },
    topology: { type: 'string', value: 'T', describe: `${TOPOLOGIES.join(', ')} (default mesh)` },
    'fault-every': { type: 'integer', value: 'SECONDS', describe: 'seconds between faults (default 6)' },
    duration: { type: 'integer', value: 'SECONDS', describe: 'stop after this long (default: run until Ctrl-C)' },
    'luci-port': { type: 'integer', value: 'PORT', describe: 'also serve the LuCI status page of n1 on 127.0.0.1:PORT' },
  },
  async run({ flags, positionals, io, stopSignal }) {
    if (positionals.length) throw new UsageError(`demo takes no arguments (got '${positionals[0]}')`);
    const topology = (flags.topology ?? 'mesh') as TopologyKind;
    if (!TOPOLOGIES.includes(topology)) throw new UsageError(`--topology must be one of ${TOPOLOGIES.join(', ')} (got '${flags.topology}')`);
    const nodes = topology === 'diamond' ? 4 : intFlag(flags.nodes, 'nodes', 5, 50, 6);
    const seed = intFlag(flags.seed, 'seed', 0, 2 ** 32 - 1, 1);
    const faultEveryS = intFlag(flags['fault-every'], 'fault-every', 1, 3600, 6);
    const durationS = intFlag(flags.duration, 'duration', 0, 86400, 0);
    const luciPort = flags['luci-port'] === undefined ? null : intFlag(flags['luci-port'], 'luci-port', 0, 65535, 0);
    const log = createLogger('warn', (l) => io.err(l));
    const startLuci = luciPort === null ? undefined : await luciStarter(luciPort);
    const core = await openCore(log);
    await runDemo({
      nodes,
      seed,
      topology,
      faultEveryS,
      durationS,
      redraw: Boolean(process.stdout.isTTY),
      screenEveryS: process.stdout.isTTY ? 1 : 3,
      core,
      log,
      out: (t) => io.out(t),
      stop: stopSignal,
      startLuci,
    });
    io.err('demo stopped');
    return 0;
  },
};
