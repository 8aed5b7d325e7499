// The agent as installed from the ipks into a scratch root, started under chroot with exactly
// the command line and environment the init script handed to (stand-in) procd, on the
// simulated mesh; then asked through the installed rpcd plugin and the installed CLI wrapper.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJson, simulatorConfig, waitFor } from '../luci/real-agent.ts';
import { buildIpks, DIST } from './build-ipks.ts';
import { CHROOT_PATH, inRoot, makeScratchRoot, opkgInstall, procdCalls } from './scratch-root.ts';

const built = buildIpks();
const root = makeScratchRoot({ boardName: 'xiaomi,mi-router-ax3000t' });
const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;

test('installed agent runs from the scratch root and answers through the plugin and the CLI', async () => {
  for (const p of built.packages) opkgInstall(root, p.path);
  const post = inRoot(root, ['/bin/sh', '-c', '/usr/lib/opkg/info/x0tta6bl4.postinst configure'], { env: { PKG_UPGRADE: '0' } });
  assert.is(post.status, 0, post.stderr);

  // What procd would run: the recorded command and environment of the instance.
  const calls = procdCalls(root);
  const command = calls.find((c) => c[0] === 'procd_set_param' && c[1] === 'command')!.slice(2);
  const env = Object.fromEntries(calls.find((c) => c[0] === 'procd_set_param' && c[1] === 'env')!.slice(2).map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
  assert.is(command[0], '/usr/bin/node');

  // The one change from the shipped config: a simulated mesh instead of the kernel module.
  const conf = join(root, 'etc/config/x0tta6bl4');
  writeFileSync(conf, simulatorConfig(readFileSync(conf, 'utf8'), '/var/run/x0tta6bl4.sock', '/etc/x0tta6bl4'));

  const agent = spawn('chroot', [root, ...command], { env: { PATH: CHROOT_PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  agent.stdout.on('data', (d) => (log += d));
  agent.stderr.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((r) => agent.once('exit', (c) => r(c)));
  const sock = join(root, 'var/run/x0tta6bl4.sock');
  try {
    await waitFor('the installed agent\'s socket', async () => {
      if (agent.exitCode !== null) throw new Error(`agent exited ${agent.exitCode}:\n${log}`);
      return existsSync(sock) && (await getJson(sock, '/health'));
    });

    // The rpcd plugin as installed: node via /usr/bin/env, socket from (stand-in) uci or the default.
    const listed = inRoot(root, ['/usr/libexec/rpcd/luci.x0tta6bl4', 'list']);
    assert.is(listed.status, 0, listed.stderr);
    assert.equal(Object.keys(JSON.parse(listed.stdout)).sort(), ['health', 'status']);
    const st = await waitFor('neighbours via the installed plugin', async () => {
      const r = inRoot(root, ['/usr/libexec/rpcd/luci.x0tta6bl4', 'call', 'status'], { input: '{}' });
      const s = JSON.parse(r.stdout);
      return s.mesh?.neighbours?.length > 0 && s;
    });
    assert.is(st.node.driver, 'simulator');
    assert.is(st.node.version, version);
    if (existsSync(join(DIST, 'core.wasm'))) assert.is(st.node.core, 'wasm', 'the agent found /usr/lib/x0tta6bl4/core.wasm');

    // The CLI wrapper.
    const v = inRoot(root, ['/usr/bin/x0tta6bl4', '--version']);
    assert.is(v.stdout.trim(), version, v.stderr);
    const cli = inRoot(root, ['/usr/bin/x0tta6bl4', 'status', '--json']);
    assert.is(cli.status, 0, cli.stderr);
    assert.is(JSON.parse(cli.stdout).node.name, st.node.name);

    // Privilege separation: report who the agent runs as (X0TTA6BL4_RUN_AS is the agent's to honour).
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[1];
    console.log(`installed agent: uid ${uid} (X0TTA6BL4_RUN_AS=${env.X0TTA6BL4_RUN_AS}), heap flags ${command.filter((a) => a.startsWith('--max')).join(' ')}`);
  } finally {
    if (agent.exitCode === null) agent.kill('SIGTERM');
  }
  // procd's stop: SIGTERM, then SIGKILL after term_timeout (15 s); the agent must exit cleanly.
  assert.is(await exited, 0, log);
});

test.after(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(built.dir, { recursive: true, force: true });
});
test.run();
