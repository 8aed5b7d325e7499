// Child of the memory bench: N admitted peers in one process (their memory is not measured).
// Forked by host.ts (ready over IPC) or started by the guest's shell script ("admitted" on stdout).
// They dial the measured agent one by one, 400 ms apart: the agent admits at most 5 new
// connections per second from one host, and all of these come from 127.0.0.1.
import { startFederationWith } from '../../src/federation/federation.ts';
import type { FederationSettings } from '../../src/federation/settings.ts';
import type { Federation } from '../../src/federation/types.ts';
import { createLogger } from '../../src/agent/logger.ts';

const { settings, agent } = JSON.parse(process.argv[2]!) as { settings: FederationSettings[]; agent: string };
const agentId = agent.split('/p2p/')[1]!;
const log = createLogger('error', (l) => process.stderr.write(`peers: ${l}\n`));
const feds: Federation[] = [];
for (const s of settings) {
  feds.push(await startFederationWith({ ...s, peers: [agent] }, { log }));
  await new Promise((r) => setTimeout(r, 400));
}
for (let i = 0; ; i++) {
  const n = feds.filter((f) => f.peers().some((p) => p.peerId === agentId)).length;
  if (n === feds.length) break;
  if (i % 50 === 49) process.stderr.write(`peers: ${n}/${feds.length} admitted by the agent\n`);
  await new Promise((r) => setTimeout(r, 200));
}
// A trickle like the agents' own gossip: one 1 KiB message per peer every 5 s.
const timer = setInterval(() => {
  for (const f of feds) f.publish('bench/tick', Buffer.alloc(1024, 1)).catch(() => {});
}, 5000);
if (process.send) process.send({ ready: true });
else process.stdout.write(`admitted ${feds.length}\n`);
process.on('message', async () => {
  clearInterval(timer);
  await Promise.all(feds.map((f) => f.stop()));
  process.exit(0);
});
