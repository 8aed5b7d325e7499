// `x0tta6bl4 fleet exporter` through the built router binary (dist/x0tta6bl4.mjs), which loads
// the separate exporter bundle (dist/x0tta6bl4-fleet.mjs) only for this command: the router
// bundle carries none of the exporter's code. Needs `npm run build` first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { node18 } from '../runtime/node18.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { exitIfStuck, until } from '../telemetry/subscriber.ts';

const root = new URL('../..', import.meta.url).pathname;
const routerBundle = `${root}dist/x0tta6bl4.mjs`;
const fleetBundle = `${root}dist/x0tta6bl4-fleet.mjs`;
let broker: Mosquitto;
const found18 = node18();
if ('missing' in found18 && process.env.CI === 'true') throw new Error(`fleet exporter: no Node 18 in CI: ${found18.missing}`);

test.before(async () => {
  broker = await Mosquitto.start();
});
test.after(async () => {
  await broker?.stop();
  exitIfStuck('test/fleet-exporter/cli.test.ts');
});

test('the router bundle has no exporter code; the fleet bundle has it', () => {
  const router = readFileSync(routerBundle, 'utf8');
  const fleet = readFileSync(fleetBundle, 'utf8');
  for (const marker of ['x0tta6bl4_node_online', 'x0tta6bl4_healing_events_total', 'x0tta6bl4_fleet_exporter_']) {
    assert.not.ok(router.includes(marker), `${marker} in the router bundle`);
    assert.ok(fleet.includes(marker), `${marker} missing from the fleet bundle`);
  }
});

async function serveAndStop(node: string): Promise<void> {
  const p = spawn(node, [routerBundle, 'fleet', 'exporter', '--broker', broker.url, '--fleet', 'lab', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  try {
    await until(() => /http:\/\/127\.0\.0\.1:\d+\/metrics/.test(out), `the exporter's URL (stderr: ${err})`);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out)![1]!;
    await until(() => err.includes('subscribed to x0tta6bl4/lab/+/state'), 'the subscription');
    const text = await (await fetch(url)).text();
    assert.match(text, /^x0tta6bl4_fleet_exporter_connected 1$/m);
    assert.is((await fetch(url.replace('/metrics', '/nope'))).status, 404);
  } finally {
    p.kill('SIGTERM');
  }
  assert.is(await exited, 0, err);
}

test('x0tta6bl4 fleet exporter serves /metrics until SIGTERM', () => serveAndStop(process.execPath));

// The bundles target Node 18.20 (OpenWrt 23.05's node); a backend host may run an old node too.
test('the same under Node 18.20 (Debian bookworm’s)', async () => {
  if ('missing' in found18) return void process.stderr.write(`cli.test: Node 18 check skipped: ${found18.missing}\n`);
  await serveAndStop(found18.node);
});

test('bad usage is one line and exit 2; exporter flags are refused on the fleet view', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [routerBundle, ...args], { encoding: 'utf8', timeout: 30_000 });
  let r = run('fleet', 'exporter', '--broker', broker.url, '--listen', 'nonsense');
  assert.is(r.status, 2);
  assert.match(r.stderr, "--listen must be HOST:PORT");
  r = run('fleet', 'exporter');
  assert.is(r.status, 2);
  assert.match(r.stderr, 'needs --broker');
  r = run('fleet', '--broker', broker.url, '--listen', '127.0.0.1:1');
  assert.is(r.status, 2);
  assert.match(r.stderr, '--listen is for `fleet exporter`');
  r = run('fleet', 'exporter', '--broker', 'mqtt://192.0.2.1:1883');
  assert.is(r.status, 2);
  assert.match(r.stderr, 'refusing plaintext MQTT');
});

test('the fleet bundle runs on its own', () => {
  const r = spawnSync(process.execPath, [fleetBundle, '--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, 'usage: x0tta6bl4 fleet exporter');
  assert.match(r.stdout, '--max-links');
});

test.run();
