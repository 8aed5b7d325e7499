// Credentials written into telemetry.broker (or `fleet --broker`) never reach /status, /health,
// /metrics, the log or the CLI's output: the URL is shown with *** in their place.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactUrl } from '../../src/config/redact-url.ts';
import { BUNDLE, DEFAULT_CONFIG, simulatorConfig, waitFor } from '../luci/real-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-redact-'));
const SECRET = 's3cret-Pw';

test('redactUrl hides userinfo and secret query parameters, leaves the rest as written', () => {
  assert.is(redactUrl(`mqtt://op:${SECRET}@127.0.0.1:1883`), 'mqtt://***@127.0.0.1:1883');
  assert.is(redactUrl(`mqtts://${SECRET}@broker.example`), 'mqtts://***@broker.example');
  assert.is(redactUrl(`mqtt://[::1]:1883/?password=${SECRET}&x=1`), 'mqtt://[::1]:1883/?password=***&x=1');
  assert.is(redactUrl(`ws://h/mqtt?token=${SECRET}`), 'ws://h/mqtt?token=***');
  // Not URLs, or URLs without a host: anything before an @ is dropped.
  assert.is(redactUrl(`op:${SECRET}@host`), '***@host');
  assert.is(redactUrl(`mqtt//op:${SECRET}@host`), 'mqtt//***@host');
  // Nothing secret: unchanged, byte for byte.
  assert.is(redactUrl('mqtts://Broker.Example:8883'), 'mqtts://Broker.Example:8883');
  assert.is(redactUrl(''), '');
});

function get(socketPath: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs the real agent with telemetry on and the given broker; returns what it showed and logged. */
async function agentShowing(name: string, broker: string, extra: Record<string, string> = {}) {
  const d = join(dir, name);
  mkdirSync(d);
  const socket = join(d, 'agent.sock');
  let text = simulatorConfig(readFileSync(DEFAULT_CONFIG, 'utf8'), socket, join(d, 'state'));
  const telemetry = /config telemetry 'telemetry'\n([\s\S]*?)\n\n/.exec(text)!;
  let section = telemetry[0].replace("option enabled '0'", "option enabled '1'").replace("option broker ''", `option broker '${broker}'`);
  for (const [k, v] of Object.entries(extra)) section = section.replace(`option ${k} ''`, `option ${k} '${v}'`);
  text = text.replace(telemetry[0], section);
  const config = join(d, 'x0tta6bl4');
  writeFileSync(config, text);
  const proc = spawn(process.execPath, [BUNDLE, 'agent', '--config', config, '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (c) => (log += c));
  proc.stderr.on('data', (c) => (log += c));
  const exited = new Promise((r) => proc.once('exit', r));
  try {
    // Telemetry has given up (credentials in the URL are refused) or is retrying.
    const health = await waitFor('telemetry to settle', async () => {
      if (proc.exitCode !== null) throw new Error(`agent exited: ${log}`);
      if (!existsSync(socket)) return undefined;
      const h = await get(socket, '/health');
      return /"name":"telemetry","state":"(down|degraded)","reason":"(?!connecting)/.test(h) && h;
    });
    return { health, status: await get(socket, '/status'), metrics: await get(socket, '/metrics'), log: () => log };
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
}

test('a broker with user:password@ shows as ***@ in /status, /health, /metrics and the log', async () => {
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, 'not read: the URL is refused first\n');
  // ca_file with mqtt:// also makes the config warn, naming the broker.
  const seen = await agentShowing('userinfo', `mqtt://operator:${SECRET}@127.0.0.1:1`, { ca_file: ca });
  const log = seen.log();
  for (const [where, text] of Object.entries({ health: seen.health, status: seen.status, metrics: seen.metrics, log }))
    assert.not.match(text, SECRET, `${where} shows the password`);
  assert.match(seen.status, '"broker":"mqtt://***@127.0.0.1:1"');
  assert.match(seen.health, 'mqtt://***@127.0.0.1:1');
  assert.match(log, 'mqtt://***@127.0.0.1:1');
});

test('a broker with ?password= shows the parameter as *** everywhere', async () => {
  const seen = await agentShowing('query', `mqtt://127.0.0.1:1/?password=${SECRET}`);
  const log = seen.log();
  for (const [where, text] of Object.entries({ health: seen.health, status: seen.status, metrics: seen.metrics, log }))
    assert.not.match(text, SECRET, `${where} shows the password`);
  assert.match(seen.status, 'password=***');
});

test('fleet --broker with credentials: the error line hides them', async () => {
  for (const broker of [`http://op:${SECRET}@127.0.0.1:1`, `mqtt://127.0.0.1:1/x?password=${SECRET}`, `op:${SECRET}@host`]) {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [BUNDLE, 'fleet', '--broker', broker, '--once', '--wait', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (c) => (out += c));
      p.stderr.on('data', (c) => (out += c));
      p.once('close', (code) => resolve({ code, out }));
    });
    assert.ok(r.code !== 0, `fleet --broker ${broker} failed`);
    assert.not.match(r.out, SECRET, `fleet --broker ${broker}: ${r.out}`);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
