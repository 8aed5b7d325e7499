// Inside the VM, diamond on the real batman-adv: the link echo (src/mesh/link-echo.ts) between
// two nodes' namespaces over the IPv6 link-local address of their batman-adv hard interfaces, as
// the agents use it. n2 answers (a process in its namespace); n1 asks over v1-2: answered, a
// measurement delivers everything; with the link cut in both directions, unanswered; over v1-3,
// where n3 runs no echo, unanswered too.
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LinkEcho } from '../../src/mesh/link-echo.ts';
import { loadMesh } from './lib/mesh.ts';
import { cutLink, ifaceOf, log, nodeOf, sleep } from './lib/heal-node.ts';

const PORT = 4305;

// The roles run in a node's namespace (spawned with `ip netns exec`, as the agents are on the bench).
if (process.env.X0_ECHO_ROLE === 'responder') {
  const echo = new LinkEcho({ port: PORT });
  await echo.start();
  process.stdout.write('ready\n');
  await new Promise(() => {});
}
if (process.env.X0_ECHO_ROLE === 'asker') {
  const echo = new LinkEcho({ port: PORT });
  await echo.start();
  const [ifname, mac] = [process.env.X0_ECHO_IF!, process.env.X0_ECHO_MAC!];
  // The measurement first: its 1.15 s window also covers the neighbour discovery a cold link needs
  // (CI's loaded VM once took longer than a probe's 270 ms), so the probe then asks a warm link,
  // as the agent's does after its keepalives.
  const delivery = await echo.measure(ifname, mac);
  const probe = await echo.probe(ifname, mac);
  echo.stop();
  process.stdout.write(`${JSON.stringify({ probe, delivery })}\n`);
  process.exit(0);
}

const mesh = loadMesh();
const n1 = nodeOf(mesh, 1);
const n2 = nodeOf(mesh, 2);
let responder: ChildProcess | undefined;

function inNode(netns: string, env: Record<string, string>): ChildProcess {
  return spawn('ip', ['netns', 'exec', netns, process.execPath, ...process.execArgv, process.argv[1]!], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function ask(to: number): Promise<{ probe: boolean | null; delivery: number | null }> {
  const i = ifaceOf(mesh, 1, to);
  const p = inNode(n1.netns, { X0_ECHO_ROLE: 'asker', X0_ECHO_IF: i.ifname, X0_ECHO_MAC: i.peerMac });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => p.on('exit', r));
  log(`n1 asks over ${i.ifname} (${i.peerMac}): ${out.trim()}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as { probe: boolean | null; delivery: number | null };
}

test('the link echo over the real kernel: answered over a live link, not over a cut one, nor where nobody answers', async () => {
  responder = inNode(n2.netns, { X0_ECHO_ROLE: 'responder' });
  await new Promise<void>((resolve, reject) => {
    responder!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    responder!.on('exit', (c) => reject(new Error(`responder exited ${c}`)));
  });
  // IPv6 duplicate address detection must be over before the link-local addresses are usable.
  await sleep(2000);
  try {
    const live = await ask(2);
    assert.is(live.probe, true, 'n2 answers over v1-2');
    assert.is(live.delivery, 1, 'every one of 20 echoes answered on a clean link');
    cutLink(mesh, 1, 2, true);
    const cut = await ask(2);
    assert.is(cut.probe, false, 'the cut link does not answer');
    assert.is(cut.delivery, 0);
    cutLink(mesh, 1, 2, false);
    const nobody = await ask(3);
    assert.is(nobody.probe, false, 'n3 runs no echo: no answer');
  } finally {
    responder.kill();
  }
});

test.run();
