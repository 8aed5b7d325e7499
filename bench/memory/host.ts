// The host half of bench:memory: one measured agent per configuration, peers and the broker in
// other processes. Returns one row per configuration.
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { FLEET, TestFleet, TRUST_DOMAIN } from '../../test/federation/fleet-harness.ts';
import { freePort, Mosquitto } from '../../test/telemetry/mosquitto.ts';
import type { FederationSettings } from '../../src/federation/settings.ts';
import { agentConfig } from './agent-config.ts';
import { measure, sleep, startAgent, type Measured } from './agent-run.ts';

export interface HostCase {
  name: string;
  federation: boolean;
  telemetry: boolean;
  peers: number;
}

export const HOST_CASES: HostCase[] = [
  { name: 'default', federation: false, telemetry: false, peers: 0 },
  { name: 'federation', federation: true, telemetry: false, peers: 0 },
  { name: 'telemetry', federation: false, telemetry: true, peers: 0 },
  { name: 'fed_telemetry', federation: true, telemetry: true, peers: 0 },
  { name: '1_peer', federation: true, telemetry: true, peers: 1 },
  { name: '10_peers', federation: true, telemetry: true, peers: 10 },
];

const log = (s: string) => process.stderr.write(`bench:memory: ${s}\n`);

/** The peers child as an esbuild bundle: tsx's loader would cost the machine memory for nothing. */
export async function peersBundle(outdir = mkdtempSync(join(tmpdir(), 'x0-bench-mem-'))): Promise<string> {
  await build({
    entryPoints: [fileURLToPath(new URL('./peers.ts', import.meta.url))],
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: "import { createRequire as __x0_cr } from 'node:module'; const require = __x0_cr(import.meta.url);" },
    logLevel: 'warning',
  });
  return join(outdir, 'peers.mjs');
}

export interface HostOptions {
  bundle: string;
  nodeFlags: string[];
  settleS: number;
  windowS: number;
  cases: HostCase[];
}

export async function runHost(o: HostOptions): Promise<{ c: HostCase; m: Measured }[]> {
  const fleet = new TestFleet('mem');
  const broker = await Mosquitto.start();
  const peersFile = await peersBundle();
  const results: { c: HostCase; m: Measured }[] = [];
  try {
    for (const c of o.cases) {
      const prep = await fleet.prepare(`agent-${c.name}`);
      const dir = join(fleet.root, `agent-${c.name}`); // where prepare() put the key and certificate
      const port = await freePort();
      const config = join(dir, 'x0tta6bl4');
      writeFileSync(
        config,
        agentConfig({ dir, fleet: FLEET, trustDomain: TRUST_DOMAIN, federation: c.federation ? { port } : null, telemetry: c.telemetry ? { broker: broker.url } : null }),
      );
      log(`${c.name}: starting the agent (${o.nodeFlags.join(' ') || 'no node flags'})`);
      const agent = await startAgent(o.bundle, o.nodeFlags, dir, config);
      let peers: ReturnType<typeof fork> | null = null;
      try {
        if (c.peers > 0) {
          const settings: FederationSettings[] = [];
          for (let i = 0; i < c.peers; i++) settings.push((await fleet.prepare(`peer-${c.name}-${i}`)).settings);
          peers = fork(peersFile, [JSON.stringify({ settings, agent: `/ip4/127.0.0.1/tcp/${port}/p2p/${prep.peerId}` })], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
          const p = peers;
          await new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`${c.peers} peers not admitted within 180 s\n${agent.output()}`)), 180_000);
            p.once('message', () => resolve(clearTimeout(t)));
            p.once('exit', (code) => reject(new Error(`peers exited with ${code}`)));
          });
          log(`${c.name}: ${c.peers} peers admitted`);
        }
        await sleep(o.settleS * 1000);
        const m = await measure(agent, o.windowS);
        log(`${c.name}: private ${(m.last.anonymousKb / 1024).toFixed(1)} MB, rss ${(m.last.rssKb / 1024).toFixed(1)} MB`);
        results.push({ c, m });
      } finally {
        if (peers) {
          const p = peers;
          p.send('stop');
          await new Promise((r) => p.once('exit', r));
        }
        await agent.stop();
      }
    }
  } finally {
    await broker.stop();
  }
  return results;
}
