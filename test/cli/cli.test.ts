// The CLI as an operator meets it: the real bundle (dist/x0tta6bl4.mjs, built by pretest) run
// as a child process, exactly as /usr/bin/x0tta6bl4 runs it on a router.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const bundle = join(root, 'dist/x0tta6bl4.mjs');
const dir = mkdtempSync(join(tmpdir(), 'x0-cli-'));
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bundle, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('the bundle exists and runs without node_modules', () => {
  assert.ok(existsSync(bundle), 'npm run build makes dist/x0tta6bl4.mjs');
  const copy = join(dir, 'x0tta6bl4.mjs');
  writeFileSync(copy, readFileSync(bundle));
  // A copy outside the repo cannot resolve anything from node_modules.
  const r = spawnSync(process.execPath, [copy, '--version'], { encoding: 'utf8', cwd: dir });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), version);
});

test('--help at the top and on every command', () => {
  const top = run('--help');
  assert.is(top.code, 0);
  for (const c of ['agent', 'status', 'demo']) {
    assert.match(top.out, new RegExp(`\\n  ${c}\\s`));
    const h = run(c, '--help');
    assert.is(h.code, 0, `${c} --help: ${h.err}`);
    assert.match(h.out, `usage: x0tta6bl4 ${c}`);
    assert.match(h.out, '-h, --help');
  }
});

test('bad arguments: one line on stderr, exit code 2, no stack trace', () => {
  for (const args of [['frobnicate'], ['status', '--bogus'], ['agent', 'extra'], ['agent', '--log-level', 'loud'], ['status', '--socket'], ['demo', '--nodes', 'x']]) {
    const r = run(...args);
    assert.is(r.code, 2, `${args.join(' ')} → ${r.code} ${r.err}`);
    assert.is(r.err.trim().split('\n').length, 1, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /^x0tta6bl4: /);
    assert.not.match(r.err, /\bat .*\(/);
    assert.is(r.out, '');
  }
});

test('no arguments prints the help and exits 2', () => {
  const r = run();
  assert.is(r.code, 2);
  assert.match(r.out, 'usage: x0tta6bl4 <command>');
});

test('missing config file: clear error naming the path, exit 1', () => {
  const r = run('agent', '--config', join(dir, 'nope'));
  assert.is(r.code, 1);
  assert.match(r.err, join(dir, 'nope'));
  assert.not.match(r.err, /\bat .*\(/);
});

test('invalid config: the agent refuses to start and names file, line and option', () => {
  const p = join(dir, 'bad.conf');
  writeFileSync(p, "config agent 'agent'\n\toption mesh_driver 'simulator'\n\toption dry_run 'perhaps'\n");
  const r = run('agent', '--config', p);
  assert.is(r.code, 1, r.err);
  assert.match(r.err, 'not starting');
  assert.match(r.err, `${p}:3`);
  assert.match(r.err, 'dry_run');
});

test('status without a running agent says so, exit 1', () => {
  const r = run('status', '--socket', join(dir, 'none.sock'));
  assert.is(r.code, 1);
  assert.match(r.err, 'is the agent running?');
});

test('agent on the simulator: status, health and metrics over the socket; SIGTERM stops it cleanly', async () => {
  const sock = join(dir, 'agent.sock');
  const conf = join(dir, 'sim.conf');
  writeFileSync(
    conf,
    [
      "config agent 'agent'",
      "\toption node_name 'cli-test'",
      "\toption mesh_driver 'simulator'",
      `\toption state_dir '${dir}/state'`,
      "config status 'status'",
      `\toption socket '${sock}'`,
      "config healing 'healing'",
      "\toption interval '0.2'",
      "config simulator 'simulator'",
      "\toption nodes '4'",
      "\toption topology 'chain'",
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [bundle, 'agent', '--config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    // Wait until the simulated mesh has converged enough for the agent to see neighbours.
    let status: { code: number | null; out: string; err: string } | undefined;
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = run('status', '--json', '--socket', sock);
      if (status.code === 0) break;
    }
    assert.is(status?.code, 0, `status never became healthy: ${status?.out} ${status?.err} agent: ${err}`);
    const s = JSON.parse(status!.out);
    assert.is(s.schema, 1);
    assert.is(s.node.name, 'cli-test');
    assert.is(s.node.driver, 'simulator');
    assert.ok(s.mesh.neighbours.length >= 1, 'a chain end has at least one neighbour');
    assert.ok(s.links.length >= 1);
    const text = run('status', '--socket', sock);
    assert.match(text.out, 'node      cli-test');
    const health = run('status', '--health', '--json', '--socket', sock);
    const names = JSON.parse(health.out).components.map((c: { name: string }) => c.name);
    for (const c of ['config', 'mesh', 'loop', 'core', 'status', 'telemetry', 'federation', 'learning']) assert.ok(names.includes(c), `health lists ${c}`);
    const metrics = run('status', '--metrics', '--socket', sock);
    assert.match(metrics.out, /batman_originator_count\{node="cli-test"\} [1-9]/);
    assert.match(metrics.out, /# TYPE x0tta6bl4_component_state gauge/);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, err);
  assert.not.ok(existsSync(sock), 'socket removed on clean stop');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
