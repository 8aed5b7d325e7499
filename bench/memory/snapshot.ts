// node --import tsx bench/memory/snapshot.ts — what is live in the agent with federation, telemetry and N
// admitted peers: starts the shipped bundle as bench:memory does (256 MB profile flags plus
// --heapsnapshot-signal), admits the peers, waits, takes a heap snapshot and prints it grouped
// (heap-groups.ts). Also prints the agent's WebAssembly memory and the smaps split.
//   -- --peers=10 --settle=30 --bundle=dist/x0tta6bl4.mjs --node-flags="…" --keep (keep the file)
//      --show-output (the agent's last output lines after it stopped)
import { fork } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadBoardConfigs } from '../../board-configs/load.mjs';
import { FLEET, TestFleet, TRUST_DOMAIN } from '../../test/federation/fleet-harness.ts';
import { freePort, Mosquitto } from '../../test/telemetry/mosquitto.ts';
import type { FederationSettings } from '../../src/federation/settings.ts';
import { agentConfig } from './agent-config.ts';
import { sleep, startAgent } from './agent-run.ts';
import { peersBundle } from './host.ts';
import { groupSnapshot } from './heap-groups.ts';
import { mallocHeapKb, sampleMemory } from './smaps.ts';

const { values: args } = parseArgs({
  options: {
    peers: { type: 'string', default: '10' },
    settle: { type: 'string', default: '30' },
    bundle: { type: 'string', default: fileURLToPath(new URL('../../dist/x0tta6bl4.mjs', import.meta.url)) },
    'node-flags': { type: 'string' },
    keep: { type: 'boolean', default: false },
    'show-output': { type: 'boolean', default: false },
  },
});
const log = (s: string) => process.stderr.write(`snapshot: ${s}\n`);
const b = loadBoardConfigs().find((x) => x.id === 'gl-mt1300')!;
const flags = args['node-flags'] !== undefined ? args['node-flags'].split(/\s+/).filter(Boolean)
  : [`--max-old-space-size=${b.node!.maxOldSpaceMB}`, `--max-semi-space-size=${b.node!.maxSemiSpaceMB}`, '--v8-pool-size=1', ...(b.node!.flags ?? [])];
const fleet = new TestFleet('snap');
const broker = await Mosquitto.start();
const peersFile = await peersBundle();
const n = Number(args.peers);
const prep = await fleet.prepare('agent');
const dir = join(fleet.root, 'agent');
const port = await freePort();
const config = join(dir, 'x0tta6bl4');
writeFileSync(config, agentConfig({ dir, fleet: FLEET, trustDomain: TRUST_DOMAIN, federation: { port }, telemetry: { broker: broker.url } }));
const agent = await startAgent(resolve(args.bundle), [...flags, '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`], dir, config);
let peers: ReturnType<typeof fork> | null = null;
try {
  if (n > 0) {
    const settings: FederationSettings[] = [];
    for (let i = 0; i < n; i++) settings.push((await fleet.prepare(`peer-${i}`)).settings);
    peers = fork(peersFile, [JSON.stringify({ settings, agent: `/ip4/127.0.0.1/tcp/${port}/p2p/${prep.peerId}` })], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await new Promise((r) => peers!.once('message', r));
    log(`${n} peers admitted`);
  }
  await sleep(Number(args.settle) * 1000);
  const pid = agent.proc.pid!;
  const mem = sampleMemory(pid);
  log(`private ${(mem.anonymousKb / 1024).toFixed(1)} MB, malloc ${(mallocHeapKb(pid) / 1024).toFixed(1)} MB`);
  agent.proc.kill('SIGUSR2');
  let file = '';
  for (let i = 0; i < 120 && !file; i++) {
    await sleep(1000);
    const f = readdirSync(dir).find((x) => x.endsWith('.heapsnapshot'));
    // the file is written in place: wait until the agent answers again (writing blocks it)
    if (f) { await sleep(3000); file = join(dir, f); }
  }
  if (!file) throw new Error('no heap snapshot written');
  log(`snapshot ${file}`);
  process.stdout.write(groupSnapshot(file) + '\n');
  if (args.keep) log(`kept ${file}`);
  else rmSync(file);
} finally {
  if (peers) { peers.send('stop'); await new Promise((r) => peers!.once('exit', r)); }
  await agent.stop();
  if (args['show-output']) process.stderr.write(agent.output());
  await broker.stop();
}
process.exit(0);
