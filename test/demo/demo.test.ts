// `x0tta6bl4 demo`, the embedded default that `npm start` runs, as a user runs it: the bundle in
// a child process, stopped with Ctrl-C (SIGINT).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const bundle = new URL('../../dist/x0tta6bl4.mjs', import.meta.url).pathname;

test('six agents come up, faults are injected, agents notice, Ctrl-C exits cleanly', async () => {
  const child = spawn(process.execPath, [bundle, 'demo', '--fault-every', '2', '--seed', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  // Until the kill, flap and hung-radio faults (2 s apart) have landed and the killed link is
  // noticed; up to 60 s, since a loaded 2-core machine once needed more than 30 s.
  const linkDead = /agents noticed:\n(  .*\n)*  \d\d:\d\d:\d\d n\d: link to n\d\/mesh\d on mesh\d dead/;
  for (let i = 0; i < 120 && !(linkDead.test(out) && (out.match(/^injected:/gm)?.length ?? 0) >= 4); i++)
    await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGINT');
  assert.is(await exited, 0, err);
  assert.match(err, 'demo stopped');
  for (let n = 1; n <= 6; n++) assert.match(out, new RegExp(`^n${n} +(ok|degraded|down) +\\d+`, 'm'));
  assert.match(out, /n\d-n\d killed/);
  assert.match(out, linkDead);
  const dir = /status sockets: (\S+)\/<node>\.sock/.exec(out)?.[1];
  assert.ok(dir, 'the demo says where the status sockets are');
  assert.not.ok(existsSync(join(dir!, 'n1.sock')), 'sockets removed on exit');
  assert.not.ok(existsSync(dir!), 'socket directory removed on exit');
});

test('bad demo arguments are usage errors', async () => {
  const { spawnSync } = await import('node:child_process');
  for (const args of [['--nodes', '2'], ['--topology', 'star'], ['--fault-every', '0'], ['extra']]) {
    const r = spawnSync(process.execPath, [bundle, 'demo', ...args], { encoding: 'utf8' });
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1);
  }
});

test.run();
