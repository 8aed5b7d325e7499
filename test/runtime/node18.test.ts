// The shipped bundle (dist/x0tta6bl4.mjs) under a real Node 18.20 (Debian bookworm's, see
// node18.ts): what OpenWrt 23.05 ships for MT7621 routers. --version, pki, a short demo, and two
// agents that admit each other over noise and keep pinging (libp2p's ping needs
// crypto.getRandomValues; federation's start needs CustomEvent: both missing in Node 18).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../telemetry/mosquitto.ts';
import { exitIfStuck } from '../telemetry/subscriber.ts';
import { node18 } from './node18.ts';
import { fleetNodeConfig } from '../packaging/fleet-config.ts';

const BUNDLE = new URL('../../dist/x0tta6bl4.mjs', import.meta.url).pathname;
const found = node18();
if ('missing' in found && process.env.CI === 'true') throw new Error(`node18: no Node 18 in CI: ${found.missing}`);

function cli(node: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(node, [BUNDLE, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

interface Peer {
  peerId: string;
  rttMs: number | null;
}

if ('missing' in found) {
  test(`bundle under Node 18 (skipped outside CI: no ${found.missing})`, () => {});
} else {
  const node = found.node;

  test('Node 18: --version, pki init + issue, a short demo', async () => {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} missing: run npm run build`);
    const root = mkdtempSync(join(tmpdir(), 'x0-node18-'));
    try {
      const v = await cli(node, ['--version'], root);
      assert.is(v.code, 0, v.stderr);
      assert.match(v.stdout, /^\d+\.\d+\.\d+/);
      const init = await cli(node, ['pki', 'init', '--dir', 'pki', '--fleet', 'lab'], root);
      assert.is(init.code, 0, init.stderr);
      const issued = await cli(node, ['pki', 'issue', '--dir', 'pki', '--peer-id', '12D3KooWGRUVh9NQBHXhHkzdtnczqSyV5Uwn2gUBFd5xr3u4XuEf', '--name', 'a', '--out', 'a.pem'], root);
      assert.is(issued.code, 0, issued.stderr);
      assert.ok(existsSync(join(root, 'a.pem')));
      const demo = await cli(node, ['demo', '--nodes', '5', '--duration', '3'], root);
      assert.is(demo.code, 0, demo.stderr);
      assert.match(demo.stdout + demo.stderr, /demo stopped/);
      assert.not.match(demo.stdout + demo.stderr, /Error|at .*:\d+:\d+/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('Node 18: two agents admit each other over noise and ping each other', async () => {
    const root = mkdtempSync(join(tmpdir(), 'x0-node18-fed-'));
    const procs: ChildProcess[] = [];
    const logs: string[] = [];
    try {
      const init = await cli(node, ['pki', 'init', '--dir', 'pki', '--fleet', 'lab'], root);
      assert.is(init.code, 0, init.stderr);
      const portA = await freePort();
      const nodes = ['a', 'b'].map((name, i) => ({ name, dir: join(root, name), port: i === 0 ? portA : 0 }));
      const peerIds: string[] = [];
      for (const n of nodes) {
        mkdirSync(n.dir);
        const config = join(n.dir, 'x0tta6bl4');
        const peer = n.name === 'b' ? `/ip4/127.0.0.1/tcp/${portA}/p2p/${peerIds[0]}` : null;
        writeFileSync(config, fleetNodeConfig(n, peer));
        const id = await cli(node, ['pki', 'id', '--config', config], root);
        assert.is(id.code, 0, id.stderr);
        const peerId = /12D3Koo\w+/.exec(id.stdout)?.[0] ?? '';
        assert.ok(peerId, id.stdout);
        peerIds.push(peerId);
        const issued = await cli(node, ['pki', 'issue', '--dir', 'pki', '--peer-id', peerId, '--name', n.name, '--out', join(n.dir, 'node-cert.pem')], root);
        assert.is(issued.code, 0, issued.stderr);
        copyFileSync(join(root, 'pki', 'fleet-ca.pem'), join(n.dir, 'fleet-ca.pem'));
      }
      for (const n of nodes) {
        const p = spawn(node, [BUNDLE, 'agent', '--config', join(n.dir, 'x0tta6bl4')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        p.stdout!.on('data', (d) => logs.push(`${n.name}: ${d}`));
        p.stderr!.on('data', (d) => logs.push(`${n.name}: ${d}`));
        procs.push(p);
      }
      const peersOf = async (n: (typeof nodes)[number]): Promise<Peer[]> => {
        const r = await cli(node, ['peers', '--json', '--socket', join(n.dir, 'status.sock')], root);
        if (r.code !== 0) return [];
        return (JSON.parse(r.stdout) as { peers?: Peer[] }).peers ?? [];
      };
      // Admitted both ways, and a ping round trip measured both ways (the federation's refresh
      // pings every admitted peer; a failed ping clears the rtt).
      const pinged = async (n: (typeof nodes)[number], other: string) => (await peersOf(n)).some((p) => p.peerId === other && typeof p.rttMs === 'number');
      // On failure, show what /health says of the federation (where "CustomEvent is not defined" shows).
      const health = async () =>
        (await Promise.all(nodes.map(async (n) => `${n.name}: ${(await cli(node, ['status', '--health', '--socket', join(n.dir, 'status.sock')], root)).stdout.split('\n').find((l) => l.startsWith('federation')) ?? '?'}`))).join('\n');
      // The refresh pings every 60 s: two rounds, and room for a loaded 2-core machine (a full
      // suite run once missed a 90 s deadline with both sides admitted).
      const deadline = Date.now() + 180_000;
      let both = false;
      while (!both && Date.now() < deadline) {
        for (const p of procs) assert.is(p.exitCode, null, `an agent exited\n${logs.join('')}`);
        both = (await pinged(nodes[0]!, peerIds[1]!)) && (await pinged(nodes[1]!, peerIds[0]!));
        if (both) break;
        // A federation that could not start will not recover: fail now, not at the deadline.
        const h = await health();
        if (/federation\s+down\s+could not start/.test(h)) assert.unreachable(`federation down under Node 18\n${h}\n${logs.join('')}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (!both) assert.unreachable(`a and b admit and ping each other\n${await health()}\n${logs.join('')}`);
      // Still connected a few seconds on: a failing ping would have dropped the connection.
      await new Promise((r) => setTimeout(r, 5000));
      assert.ok((await peersOf(nodes[0]!)).some((p) => p.peerId === peerIds[1]), `a still has b\n${logs.join('')}`);
      assert.not.match(logs.join(''), /is not defined|TypeError/);
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test.after(() => exitIfStuck('node18.test.ts'));
test.run();
