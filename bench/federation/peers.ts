// A batch of peer federations in one process (child of run.ts); each dials the hub and, once
// admitted, publishes a small message every `tickMs` (a learning-like trickle).
import { startFederationWith } from '../../src/federation/federation.ts';
import type { FederationSettings } from '../../src/federation/settings.ts';
import type { Federation } from '../../src/federation/types.ts';

const { settings, hub, tickMs } = JSON.parse(process.argv[2]!) as { settings: FederationSettings[]; hub: string; tickMs: number };
const hubId = hub.split('/p2p/')[1]!;
const feds: Federation[] = [];
import { createLogger } from '../../src/agent/logger.ts';
for (const s of settings)
  feds.push(await startFederationWith({ ...s, peers: [hub] }, { log: createLogger(process.env.BENCH_LOG === 'debug' ? 'info' : 'error', (l) => process.stderr.write(`peer ${s.nodeName}: ${l}\n`)) }));
const wait = async () => {
  for (let i = 0; ; i++) {
    const n = feds.filter((f) => f.peers().some((p) => p.peerId === hubId)).length;
    if (n === feds.length) return;
    if (i % 50 === 49) process.stderr.write(`peers: ${n}/${feds.length} admitted by the hub\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
await wait();
const timer = setInterval(() => {
  for (const f of feds) f.publish('bench/tick', Buffer.alloc(1024, 1)).catch(() => {});
}, tickMs);
process.send!({ ready: true });
process.on('message', async (m: { cmd: string }) => {
  if (m.cmd === 'stop') {
    clearInterval(timer);
    await Promise.all(feds.map((f) => f.stop()));
    process.exit(0);
  }
});
