// Inside the VM, diamond on the real batman-adv, tracing on: n3 flaps its link to n4 and the agent
// on n4 quarantines n3 on v4-3 (the loop's own cycle: finding, plan, execute), verifies, holds
// and releases it. The agent exports its spans over OTLP/HTTP to a capture server on 127.0.0.1
// in this process; each POST body is printed base64 on a `heal-guest: otlp ` line, and the host
// (test/vm/heal-traced.test.ts) decodes them with the official OpenTelemetry definitions. Here:
// the kernel facts the trace must match (nft chain in, chain gone).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Agent } from '../../src/agent/agent.ts';
import { quarantineChain } from '../../src/mapek/actions/quarantine.ts';
import { inNetns, loadMesh } from './lib/mesh.ts';
import { ifaceOf, log, nodeOf, sh, startHealAgent, waitFor } from './lib/heal-node.ts';

const mesh = loadMesh();
const n3 = nodeOf(mesh, 3);
const n4 = nodeOf(mesh, 4);
const link = ifaceOf(mesh, 4, 3);
const QUARANTINE_S = 10;
const chain = quarantineChain({ ifname: link.ifname, neighbour: link.peerMac });
let agent: Agent | undefined;
let flapper: ReturnType<typeof spawn> | undefined;

// The guest's own namespace may come up with loopback down: the capture server lives on it.
sh(['ip', 'link', 'set', 'dev', 'lo', 'up']);
const bodies: Buffer[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    bodies.push(Buffer.concat(chunks));
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const chainIn = (): boolean => {
  try {
    inNetns(n4.netns, 'nft', 'list', 'chain', 'netdev', 'x0tta6bl4', chain);
    return true;
  } catch {
    return false;
  }
};

test.after(async () => {
  flapper?.kill('SIGKILL');
  inNetns(n3.netns, 'ip', 'link', 'set', 'dev', link.peerIfname, 'up');
  await agent?.stop();
  server.close();
});

test('traced: a flapping neighbour quarantined and released; the spans go out over OTLP', async () => {
  agent = await startHealAgent(n4, { configure: (c) => {
    c.healing.verifyWindowS = 6;
    c.healing.quarantineS = QUARANTINE_S;
    c.tracing = { ...c.tracing, enabled: true, endpoint, sampleRatio: 1 };
  } });
  flapper = spawn('nsenter', [`--net=/run/netns/${n3.netns}`, 'sh', '-c',
    `for i in 1 2 3 4 5 6 7 8 9 10; do ip link set dev ${link.peerIfname} down; sleep 3; ip link set dev ${link.peerIfname} up; sleep 3; done`], { stdio: 'ignore' });
  const q = await waitFor('a quarantine of n3 on v4-3, applied', () => agent!.healer!.journal.all().find((e) => e.action === 'quarantine' && e.state !== 'applying'), 60_000, 250);
  flapper.kill('SIGKILL');
  inNetns(n3.netns, 'ip', 'link', 'set', 'dev', link.peerIfname, 'up');
  assert.ok(chainIn(), 'nft: the quarantine chain is in');
  assert.match(q.trace ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'the entry keeps its trace');
  await waitFor('the release', () => q.state !== 'verifying' && q.state !== 'holding', (6 + QUARANTINE_S + 30) * 1000, 500);
  assert.is(q.state, 'restored', q.outcome ?? '');
  assert.not.ok(chainIn(), 'nft: the chain is gone');
  log(`quarantine #${q.id} ${q.state}; trace ${q.trace}`);
  log(`tracing: ${JSON.stringify(agent.health().components.find((c) => c.name === 'tracing'))}`);
  await agent.stop(); // flushes the tracer
  agent = undefined;
  assert.ok(bodies.length > 0, 'the agent exported');
  for (const b of bodies) log(`otlp ${b.toString('base64')}`);
  log(`trace-of-quarantine ${q.trace}`);
});

test.run();
