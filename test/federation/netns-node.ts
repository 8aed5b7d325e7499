// One federation in its own process, so that a test can run it inside a network namespace
// (`ip netns exec NS node --import tsx netns-node.ts SETTINGS_JSON`). Prints one JSON status line
// at start and one per line read on stdin; "stop" (or stdin closing) stops it.
import { createInterface } from 'node:readline';
import { startFederationWith } from '../../src/federation/federation.ts';
import { createLogger } from '../../src/agent/logger.ts';
import type { FederationSettings } from '../../src/federation/settings.ts';

const settings = JSON.parse(process.argv[2]!) as FederationSettings;
const fed = await startFederationWith(settings, {
  log: createLogger(process.env.NETNS_NODE_LOG === 'debug' ? 'debug' : 'warn', (l) => process.stderr.write(`${settings.nodeName}: ${l}\n`)),
});
const report = () =>
  process.stdout.write(
    JSON.stringify({ peerId: fed.peerId, addresses: fed.addresses(), health: fed.health(), peers: fed.peers().map((p) => p.peerId), discovery: fed.discovery(), metrics: fed.metrics() }) + '\n',
  );
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void fed.stop().finally(() => process.exit(0));
};
report();
createInterface({ input: process.stdin })
  .on('line', (l) => (l === 'stop' ? stop() : report()))
  .on('close', stop);
