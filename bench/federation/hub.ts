// The measured node: one federation, its RSS reported on request (child of run.ts).
import { startFederationWith } from '../../src/federation/federation.ts';
import type { FederationSettings } from '../../src/federation/settings.ts';

const settings = JSON.parse(process.argv[2]!) as FederationSettings;
import { createLogger } from '../../src/agent/logger.ts';
const fed = await startFederationWith(settings, { log: createLogger(process.env.BENCH_LOG === 'debug' ? 'debug' : 'warn', (l) => process.stderr.write(`hub: ${l}\n`)) });
let received = 0;
fed.subscribe('bench/tick', () => received++);
const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', async (m: { cmd: string }) => {
  if (m.cmd === 'measure') {
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
    gc?.();
    const mu = process.memoryUsage();
    process.send!({ peers: fed.peers().length, rss: mu.rss, heapUsed: mu.heapUsed, external: mu.external, received, dropped: fed.metrics().messagesDropped });
  } else if (m.cmd === 'stop') {
    await fed.stop();
    process.exit(0);
  }
});
process.send!({ ready: true, addrs: fed.addresses() });
