// The rpcd exec plugin (/usr/libexec/rpcd/luci.x0tta6bl4) run the way rpcd runs it: `list`,
// then `call <method>` with the JSON arguments on stdin, against the real agent on the
// simulated mesh; its failure answers against sockets that are missing or misbehave.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACL_FILE, PLUGIN_FILE, readAclGrants, runPlugin } from '../../scripts/luci-preview.mjs';
import { getJson, startRealAgent, waitFor, type RunningAgent } from './real-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-rpcd-'));
// Outside the repository (whose package.json says "type": "module"), as under /usr/libexec/rpcd.
const plugin = join(dir, 'luci.x0tta6bl4');
copyFileSync(PLUGIN_FILE, plugin);
chmodSync(plugin, 0o755);
let agent: RunningAgent;

const call = (method: string, socket: string, stdin = '{}') => runPlugin(plugin, ['call', method], { stdin, env: { X0TTA6BL4_SOCKET: socket } });

test.before(async () => {
  agent = await startRealAgent(join(dir, 'agent'));
});

test('list announces exactly the methods the ACL grants', async () => {
  const r = await runPlugin(plugin, ['list']);
  assert.is(r.code, 0, r.stderr);
  const listed = JSON.parse(r.stdout);
  assert.equal(Object.keys(listed).sort(), ['health', 'status']);
  assert.equal([...readAclGrants(ACL_FILE)['luci.x0tta6bl4']!].sort(), Object.keys(listed).sort());
  assert.is(JSON.parse(readFileSync(ACL_FILE, 'utf8'))['luci-app-x0tta6bl4'].write, undefined, 'read-only ACL');
});

test('call status returns the agent\'s status document', async () => {
  const r = await call('status', agent.socket);
  assert.is(r.code, 0, r.stderr);
  const st = JSON.parse(r.stdout);
  assert.is(st.schema, 1);
  assert.is(st.node.driver, 'simulator');
  const direct = await getJson(agent.socket, '/status');
  assert.is(st.node.name, direct.node.name);
  assert.is(st.node.version, direct.node.version);
  assert.ok(Array.isArray(st.mesh.originators));
  assert.ok(Array.isArray(st.links));
  assert.ok(Array.isArray(st.events));
});

test('call health returns /health; empty stdin is accepted like {}', async () => {
  const r = await call('health', agent.socket, '');
  assert.is(r.code, 0, r.stderr);
  const h = JSON.parse(r.stdout);
  const direct = await getJson(agent.socket, '/health');
  assert.is(h.node, direct.node);
  assert.equal(h.components.map((c: { name: string }) => c.name), direct.components.map((c: { name: string }) => c.name));
});

test('the simulated mesh shows up through the plugin', async () => {
  const st = await waitFor('neighbours in the plugin answer', async () => {
    const s = JSON.parse((await call('status', agent.socket)).stdout);
    return s.mesh.neighbours.length > 0 && s;
  });
  const ifnames = st.mesh.interfaces.map((i: { ifname: string }) => i.ifname);
  for (const n of st.mesh.neighbours) assert.ok(ifnames.includes(n.hardIfname), `${n.neighbour} heard on a mesh interface (${n.hardIfname})`);
});

test('no agent: a JSON error naming the socket, exit 0 so that LuCI can show it', async () => {
  const r = await call('status', join(dir, 'nobody-here.sock'));
  assert.is(r.code, 0);
  const e = JSON.parse(r.stdout);
  assert.is(e.code, 'ENOENT');
  assert.match(e.error, /nobody-here\.sock: is the agent running\?/);
});

test('garbage arguments and unknown methods get clear errors', async () => {
  let e = JSON.parse((await call('status', agent.socket, '{not json')).stdout);
  assert.is(e.code, 'INVALID');
  e = JSON.parse((await call('status', agent.socket, '[1,2]')).stdout);
  assert.match(e.error, /must be a JSON object/);
  const r = await runPlugin(plugin, ['call', 'reboot'], { stdin: '{}' });
  assert.is(r.code, 2);
  assert.match(r.stderr, /usage: luci.x0tta6bl4 list \| call status\|health/);
});

test('a socket that answers nonsense is a PROTOCOL error, not a crash', async () => {
  const sock = join(dir, 'liar.sock');
  const liar = createServer((req, res) => {
    if (req.url === '/status') res.end('<html>surprise</html>');
    else res.writeHead(500).end('boom');
  });
  await new Promise<void>((r) => liar.listen(sock, r));
  try {
    let e = JSON.parse((await call('status', sock)).stdout);
    assert.is(e.code, 'PROTOCOL');
    e = JSON.parse((await call('health', sock)).stdout);
    assert.is(e.code, 'HTTP_500');
  } finally {
    await new Promise((r) => liar.close(r));
  }
});

test('start-up cost of one call (reported, not asserted)', async () => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    const r = await call('health', agent.socket);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    assert.is(r.code, 0);
  }
  times.sort((a, b) => a - b);
  console.log(`rpcd plugin: call health took median ${times[2]!.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times[4]!.toFixed(0)}) on this machine`);
});

test.after(async () => {
  if (agent) assert.is(await agent.stop(), 0, `agent did not stop cleanly:\n${agent.log()}`);
  rmSync(dir, { recursive: true, force: true });
});
test.run();
