// The shipped bundle (dist/x0tta6bl4.mjs, built by `npm test`'s pretest) alone, the way an
// operator uses it: `pki init/id/issue`, then two agents from UCI files with federation and
// telemetry on. The bundle swaps some dependencies for Node's own (scripts/build-bundle.mjs:
// readable-stream → node:stream under mqtt, noise's WASM ChaCha20-Poly1305/SHA-256 →
// node:crypto); this proves those paths work for real: noise handshakes and admission over
// loopback TCP, MQTT to a real mosquitto. The meshes are simulated (no batman-adv here).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, Mosquitto } from '../telemetry/mosquitto.ts';
import { Subscriber, until, exitIfStuck } from '../telemetry/subscriber.ts';
import { fleetNodeConfig } from './fleet-config.ts';

const BUNDLE = new URL('../../dist/x0tta6bl4.mjs', import.meta.url).pathname;

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BUNDLE, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

test('bundle only: pki workflow, two agents admit each other over noise, telemetry reaches mosquitto', async () => {
  assert.ok(existsSync(BUNDLE), `${BUNDLE} missing: run npm run build`);
  const root = mkdtempSync(join(tmpdir(), 'x0-bundle-fleet-'));
  const broker = await Mosquitto.start();
  const sub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/+/state']);
  const procs: ChildProcess[] = [];
  const logs: string[] = [];
  try {
    const init = await cli(['pki', 'init', '--dir', 'pki', '--fleet', 'lab'], root);
    assert.is(init.code, 0, init.stderr);
    const portA = await freePort();
    const nodes = ['a', 'b'].map((name, i) => ({ name, dir: join(root, name), port: i === 0 ? portA : 0 }));
    const peerIds: string[] = [];
    for (const n of nodes) {
      mkdirSync(n.dir);
      const config = join(n.dir, 'x0tta6bl4');
      const peer = n.name === 'b' ? `/ip4/127.0.0.1/tcp/${portA}/p2p/${peerIds[0]}` : null;
      writeFileSync(config, fleetNodeConfig(n, peer, [`config telemetry 'telemetry'\n\toption enabled '1'\n\toption broker '${broker.url}'\n\toption interval '5'`]));
      const id = await cli(['pki', 'id', '--config', config], root);
      assert.is(id.code, 0, id.stderr);
      const peerId = /12D3Koo\w+/.exec(id.stdout)?.[0] ?? '';
      assert.ok(peerId, id.stdout);
      peerIds.push(peerId);
      const issued = await cli(['pki', 'issue', '--dir', 'pki', '--peer-id', peerId, '--name', n.name, '--out', join(n.dir, 'node-cert.pem')], root);
      assert.is(issued.code, 0, issued.stderr);
      copyFileSync(join(root, 'pki', 'fleet-ca.pem'), join(n.dir, 'fleet-ca.pem'));
    }
    for (const n of nodes) {
      const p = spawn(process.execPath, [BUNDLE, 'agent', '--config', join(n.dir, 'x0tta6bl4')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout!.on('data', (d) => logs.push(`${n.name}: ${d}`));
      p.stderr!.on('data', (d) => logs.push(`${n.name}: ${d}`));
      procs.push(p);
    }
    const admitted = async (n: (typeof nodes)[number], other: string): Promise<boolean> => {
      const r = await cli(['peers', '--json', '--socket', join(n.dir, 'status.sock')], root);
      if (r.code !== 0) return false;
      const peers = (JSON.parse(r.stdout) as { peers?: { peerId: string }[] }).peers ?? [];
      return peers.some((p) => p.peerId === other);
    };
    const deadline = Date.now() + 90_000;
    let both = false;
    while (!both && Date.now() < deadline) {
      both = (await admitted(nodes[0]!, peerIds[1]!)) && (await admitted(nodes[1]!, peerIds[0]!));
      if (!both) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(both, `a and b admit each other\n${logs.join('')}`);
    await until(
      () => ['a', 'b'].every((n) => sub.json<{ state?: string }>(`x0tta6bl4/lab/${n}/state`).some((m) => m.state === 'online')),
      'both agents online on the broker',
      60_000,
    );
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
    sub.client.end(true);
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test.after(() => exitIfStuck('bundle-fleet.test.ts'));
test.run();
