// The agent as installed from the ipks into a scratch root, started under chroot with exactly
// the command line and environment the init script handed to (stand-in) procd, on the
// simulated mesh; then asked through the installed rpcd plugin and the installed CLI wrapper.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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
  writeFileSync(conf, simulatorConfig(readFileSync(conf, 'utf8'), '/var/run/x0tta6bl4/status.sock', '/etc/x0tta6bl4'));

  // What ujail does with the recorded user and capabilities param (no procd here): util-linux
  // setpriv, copied into the root with its libraries, switches to the user and sets the sets
  // named in the installed capability file before it execs node.
  const param = (k: string) => calls.find((c) => c[0] === 'procd_set_param' && c[1] === k)?.[2];
  assert.is(param('user'), 'x0tta6bl4');
  const capsFile = JSON.parse(readFileSync(join(root, param('capabilities')!), 'utf8')) as Record<string, string[]>;
  const capList = (set: string) => ['-all', ...capsFile[set]!.map((c) => '+' + c.replace(/^CAP_/, '').toLowerCase())].join(',');
  const [uid, gid] = /^x0tta6bl4:x:(\d+):(\d+):/m.exec(readFileSync(join(root, 'etc/passwd'), 'utf8'))!.slice(1);
  const setpriv = realpathSync(spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim());
  for (const f of [setpriv, ...spawnSync('ldd', [setpriv], { encoding: 'utf8' }).stdout.matchAll(/(\/[^\s)]+)/g)].map((m) => (typeof m === 'string' ? m : m[1]!))) {
    const dest = join(root, f === setpriv ? 'usr/bin/setpriv' : f);
    mkdirSync(dirname(dest), { recursive: true });
    if (!existsSync(dest)) copyFileSync(realpathSync(f), dest);
  }
  const asAgent = ['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', `--inh-caps=${capList('inheritable')}`,
    `--ambient-caps=${capList('ambient')}`, `--bounding-set=${capList('bounding')}`, ...(param('no_new_privs') === '1' ? ['--no-new-privs'] : []), '--'];

  // A router has /proc: the agent reads its own privileges there (/health component 'privileges').
  mkdirSync(join(root, 'proc'), { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'proc', 'proc', join(root, 'proc')], { encoding: 'utf8' });
  assert.is(mounted.status, 0, `mount proc in the scratch root: ${mounted.stderr}`);
  // ujail's environment: container=ujail and only the variables procd named (-e), PATH among them.
  const agent = spawn('chroot', [root, ...asAgent, ...command], { env: param('capabilities') ? { container: 'ujail', ...env } : { PATH: CHROOT_PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  agent.stdout.on('data', (d) => (log += d));
  agent.stderr.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((r) => agent.once('exit', (c) => r(c)));
  const sock = join(root, 'var/run/x0tta6bl4/status.sock');
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
    assert.is(cli.status, 0, `${cli.stderr} ${cli.stdout.slice(300, 2500)}`);
    assert.is(JSON.parse(cli.stdout).node.name, st.node.name);

    // Privilege separation: the running agent is the user, with CAP_NET_ADMIN and nothing else.
    const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8');
    assert.is(/^Uid:\s+(\d+)/m.exec(status)?.[1], uid);
    assert.is(/^CapEff:\s+(\w+)/m.exec(status)?.[1], (1n << 12n).toString(16).padStart(16, '0'));
    assert.is(/^CapAmb:\s+(\w+)/m.exec(status)?.[1], (1n << 12n).toString(16).padStart(16, '0'));
    console.log(`installed agent: uid ${uid}, CapEff CAP_NET_ADMIN, heap flags ${command.filter((a) => a.startsWith('--max')).join(' ')}`);
  } finally {
    if (agent.exitCode === null) agent.kill('SIGTERM');
    await exited;
    spawnSync('umount', ['-l', join(root, 'proc')]);
  }
  // procd's stop: SIGTERM, then SIGKILL after term_timeout (15 s); the agent must exit cleanly.
  assert.is(await exited, 0, log);
});

test.after(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(built.dir, { recursive: true, force: true });
});
test.run();
