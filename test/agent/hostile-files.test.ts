// The generated hostile-config suite: every file option the agent reads or writes pointed at a
// decoy regular file with foreign content, a FIFO, a char device (mknod c 1 5: /dev/zero, but in
// the scratch directory), a directory, a symlink to a decoy, and a path under /proc (read-only
// use: /proc/self/status). The real agent (dist/x0tta6bl4.mjs, simulator driver) runs against a
// real mosquitto, with a real fleet CA, key and certificate for the federation. For each case:
// the object is byte for byte (or kind for kind) what it was, including after a broker outage and
// return for telemetry.buffer_file, /health answers and names the refusal, and SIGTERM ends the
// agent within 2 s. agent.state_dir pointed at them (or a world-writable directory) is refused:
// exit 1 and one line. Never a real system file. HOSTILE_KINDS=fifo,decoy runs only those kinds.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Mosquitto, freePort } from '../telemetry/mosquitto.ts';
import { BUNDLE, DEFAULT_CONFIG, getJson, simulatorConfig, waitFor } from '../luci/real-agent.ts';

const KINDS = ['decoy', 'fifo', 'chardev', 'dir', 'symlink', 'proc'] as const;
type Kind = (typeof KINDS)[number];
const only = process.env.HOSTILE_KINDS?.split(',');
const kinds = KINDS.filter((k) => !only || only.includes(k));

const S = mkdtempSync(join(tmpdir(), 'x0-hostile-'));
const FOREIGN = 'root:x:0:0:root:/root:/bin/ash\ndaemon:*:1:1:daemon:/var:/bin/false\n';
let broker: Mosquitto;
let closedPort: number;
const fed = { ca: join(S, 'ca', 'fleet-ca.pem'), key: join(S, 'fed', 'federation.key'), cert: join(S, 'fed', 'node-cert.pem') };

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [BUNDLE, ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`x0tta6bl4 ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Sets `option NAME` in the named section of a UCI text (replacing the line, or adding it). */
function setOption(text: string, section: string, option: string, value: string): string {
  const start = text.indexOf(`config ${section} '${section}'`);
  if (start < 0) throw new Error(`no section ${section}`);
  const next = text.indexOf('\nconfig ', start + 1);
  const end = next < 0 ? text.length : next;
  let body = text.slice(start, end);
  const re = new RegExp(`\\toption ${option} '[^']*'`);
  const line = `\toption ${option} '${value}'`;
  body = re.test(body) ? body.replace(re, line) : `${body.trimEnd()}\n${line}\n`;
  return text.slice(0, start) + body + text.slice(end);
}

type Options = Record<string, Record<string, string>>;

function configText(dir: string, stateDir: string, o: Options): string {
  let t = simulatorConfig(readFileSync(DEFAULT_CONFIG, 'utf8'), join(dir, 'agent.sock'), stateDir);
  t = t.replace("list listen '/ip4/0.0.0.0/tcp/4001'", "list listen '/ip4/127.0.0.1/tcp/0'");
  // The simulated mesh's own events are not what this suite is about; keep the loop quiet.
  t = setOption(t, 'healing', 'boot_grace', '3600');
  for (const [section, opts] of Object.entries(o)) for (const [k, v] of Object.entries(opts)) t = setOption(t, section, k, v);
  return t;
}

interface Agent {
  name: string;
  dir: string;
  socket: string;
  proc: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function spawnAgent(name: string, dir: string, stateDir: string, o: Options): Agent {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'config'), configText(dir, stateDir, o));
  const proc = spawn(process.execPath, [BUNDLE, 'agent', '--config', join(dir, 'config')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { name, dir, socket: join(dir, 'agent.sock'), proc, out: () => out, exited };
}

async function health(a: Agent): Promise<{ components: { name: string; state: string; reason: string }[] }> {
  return getJson(a.socket, '/health');
}

async function waitHealth(a: Agent): Promise<void> {
  // A wait with a limit (the agent starts in ~1.5 s); a blocked event loop never answers.
  await waitFor(`${a.name}: /health`, async () => {
    if (a.proc.exitCode !== null) throw new Error(`exited ${a.proc.exitCode}`);
    return existsSync(a.socket) && (await health(a));
  }, 15_000).catch((e) => {
    throw new Error(`${(e as Error).message}\n${a.out()}`);
  });
}

async function component(a: Agent, name: string) {
  return (await health(a)).components.find((c) => c.name === name)!;
}

/** SIGTERM ends the agent within 2 s (the deadline); a stuck one is killed and fails. */
async function stopWithin2s(a: Agent): Promise<void> {
  const t0 = Date.now();
  a.proc.kill('SIGTERM');
  const code = await Promise.race([a.exited, new Promise<'stuck'>((r) => setTimeout(() => r('stuck'), 2000))]);
  if (code === 'stuck') {
    a.proc.kill('SIGKILL');
    await a.exited;
    assert.unreachable(`${a.name}: still running 2 s after SIGTERM\n${a.out()}`);
  }
  assert.is(code, 0, `${a.name}: exit code after SIGTERM (${Date.now() - t0} ms)\n${a.out()}`);
}

/** Makes a hostile object of the kind at a fresh path; returns the path to configure and its fingerprint. */
function hostile(kind: Kind, dir: string, name: string): { path: string; fingerprint: () => string } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
  switch (kind) {
    case 'decoy':
      writeFileSync(path, FOREIGN);
      chmodSync(path, 0o644);
      return { path, fingerprint: () => `file ${lstatSync(path).mode.toString(8)} ${hash(path)}` };
    case 'fifo':
      spawnSync('mkfifo', [path]);
      return { path, fingerprint: () => `fifo ${lstatSync(path).isFIFO()}` };
    case 'chardev':
      spawnSync('mknod', [path, 'c', '1', '5']);
      return { path, fingerprint: () => `chardev ${lstatSync(path).isCharacterDevice()} ${lstatSync(path).rdev}` };
    case 'dir':
      mkdirSync(path);
      return { path, fingerprint: () => `dir ${lstatSync(path).isDirectory()} [${readdirSync(path).join(',')}]` };
    case 'symlink': {
      const target = `${path}.target`;
      writeFileSync(target, FOREIGN);
      symlinkSync(target, path);
      return { path, fingerprint: () => `link ${readlinkSync(path)} ${hash(target)}` };
    }
    case 'proc':
      // Read-only use: the agent must never write there (nor could it).
      return { path: '/proc/self/status', fingerprint: () => 'proc' };
  }
}

test.before(async () => {
  broker = await Mosquitto.start();
  closedPort = await freePort();
  mkdirSync(join(S, 'fed'), { mode: 0o700 });
  cli(['pki', 'init', '--dir', join(S, 'ca'), '--fleet', 'default']);
  // `pki id` makes the identity key named in the config and prints the peer id.
  const idConfig = join(S, 'fed', 'id-config');
  writeFileSync(idConfig, configText(join(S, 'fed'), join(S, 'fed', 'state'), { federation: { key_file: fed.key } }));
  const peerId = cli(['pki', 'id', '--config', idConfig]).split('\n')[0]!.trim();
  cli(['pki', 'issue', '--dir', join(S, 'ca'), '--peer-id', peerId, '--name', 'n1', '--out', fed.cert]);
});

test.after(async () => {
  await broker?.stop();
  rmSync(S, { recursive: true, force: true });
});

const fedOn = { enabled: '1', mdns: '0' };

for (const kind of kinds) {
  test(`${kind}: every file option pointed at it; nothing changes, /health answers and names it, SIGTERM within 2 s`, async () => {
    const base = join(S, kind);
    const objects = join(base, 'objects');
    const h = (name: string) => hostile(kind, objects, name);
    const buffer = h('buffer');
    const commandCa = h('command-ca');
    const fedCa = h('fed-ca');
    const telCa = h('tel-ca');
    const fedKey = h('fed-key');
    const telCert = h('tel-cert');
    const fedCert = h('fed-cert');
    const telKey = h('tel-key');
    const crl = h('crl');
    // fleet-settings/ in a state dir of its own: the hostile object is a `.setting` there.
    const settingsState = join(base, 'a4', 'state');
    mkdirSync(join(settingsState, 'fleet-settings'), { recursive: true, mode: 0o700 });
    chmodSync(settingsState, 0o700);
    const setting = kind === 'proc' ? null : hostile(kind, join(settingsState, 'fleet-settings'), 'healing.cooldown.setting');
    const all = [buffer, commandCa, fedCa, telCa, fedKey, telCert, fedCert, telKey, crl, ...(setting ? [setting] : [])];
    const before = all.map((o) => o.fingerprint());
    const namesBefore = readdirSync(objects).sort();
    // mqtts:// to a port nobody listens on: the TLS files are read before every attempt.
    const tls = { enabled: '1', broker: `mqtts://127.0.0.1:${closedPort}`, interval: '5' };

    const agents = [
      // Buffer file through a broker outage and return; the command CA; the federation CA.
      spawnAgent('a1', join(base, 'a1'), join(base, 'a1', 'state'), {
        telemetry: { enabled: '1', broker: broker.url, interval: '5', buffer_file: buffer.path, buffer_write_interval: '5', command_ca_file: commandCa.path },
        federation: { ...fedOn, ca_file: fedCa.path },
      }),
      // Telemetry CA; the federation key (behind a good CA).
      spawnAgent('a2', join(base, 'a2'), join(base, 'a2', 'state'), {
        telemetry: { ...tls, ca_file: telCa.path },
        federation: { ...fedOn, ca_file: fed.ca, key_file: fedKey.path },
      }),
      // Telemetry client certificate; the federation node certificate (behind a good CA and key).
      spawnAgent('a3', join(base, 'a3'), join(base, 'a3', 'state'), {
        telemetry: { ...tls, cert_file: telCert.path, key_file: fed.cert },
        federation: { ...fedOn, ca_file: fed.ca, key_file: fed.key, cert_file: fedCert.path },
      }),
      // Telemetry client key; the CRL and a fleet setting file of a federation that starts.
      spawnAgent('a4', join(base, 'a4'), settingsState, {
        telemetry: { ...tls, cert_file: fed.cert, key_file: telKey.path },
        federation: { ...fedOn, ca_file: fed.ca, key_file: fed.key, cert_file: fed.cert, crl_file: crl.path },
      }),
    ];
    const [a1, a2, a3, a4] = agents as [Agent, Agent, Agent, Agent];
    try {
      await Promise.all(agents.map(waitHealth));

      // a1: connected, then the broker goes away (the old agent wrote its queue over the
      // buffer file here) and comes back (and deleted it here).
      await waitFor('a1 connected', async () => (await component(a1, 'telemetry')).reason.includes('connected to'), 15_000);
      await broker.stop();
      await waitFor('a1 sees the outage', async () => !(await component(a1, 'telemetry')).reason.includes('connected to'), 15_000);
      await new Promise((r) => setTimeout(r, 2500)); // the first write comes 1 s after a change
      await broker.resume();
      await waitFor('a1 reconnected', async () => (await component(a1, 'telemetry')).reason.includes('connected to'), 20_000);
      await new Promise((r) => setTimeout(r, 2500)); // and the emptied queue's file would be removed

      // Each refusal is named in /health (component and path) or in the log.
      const t1 = await component(a1, 'telemetry');
      assert.is(t1.state, 'degraded', JSON.stringify(t1));
      assert.ok(t1.reason.includes(`telemetry.buffer_file refused: ${buffer.path}`), t1.reason);
      if (kind !== 'proc') assert.ok((await component(a1, 'federation')).reason.includes(fedCa.path), a1.out());
      assert.ok(a1.out().includes(commandCa.path), `a1 log names the command CA\n${a1.out()}`);
      if (kind !== 'proc') {
        assert.ok((await component(a2, 'telemetry')).reason.includes(telCa.path), JSON.stringify(await health(a2)));
        assert.ok((await component(a2, 'federation')).reason.includes(fedKey.path), JSON.stringify(await health(a2)));
        assert.ok((await component(a3, 'telemetry')).reason.includes(telCert.path), JSON.stringify(await health(a3)));
        assert.ok((await component(a3, 'federation')).reason.includes(fedCert.path), JSON.stringify(await health(a3)));
        assert.ok((await component(a4, 'telemetry')).reason.includes(telKey.path), JSON.stringify(await health(a4)));
      }
      const f4 = await component(a4, 'federation');
      assert.not.equal(f4.state, 'down', `a4's federation starts: ${JSON.stringify(f4)}\n${a4.out()}`);
      assert.ok(a4.out().includes(crl.path), `a4 log names the CRL\n${a4.out()}`);
      if (setting) assert.ok(a4.out().includes(setting.path), `a4 log names the setting file\n${a4.out()}`);

      // /health still answers on every agent (nothing blocked), then SIGTERM ends each within 2 s.
      for (const a of agents) await health(a);
      for (const a of agents) await stopWithin2s(a);

      assert.equal(all.map((o) => o.fingerprint()), before, 'every hostile object unchanged');
      assert.equal(readdirSync(objects).sort(), namesBefore, 'nothing created or removed beside them (no *.tmp-*)');
    } finally {
      if (!broker.pid) await broker.resume().catch(() => {});
      for (const a of agents) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
    }
  });

  test(`${kind}: agent.state_dir pointed at it is refused: exit 1, one line, nothing changed`, async () => {
    const base = join(S, `${kind}-state`);
    const obj = kind === 'dir' ? null : hostile(kind, join(base, 'objects'), 'state');
    // A directory as such is what state_dir should be: the hostile one is world-writable.
    const path = obj ? (kind === 'proc' ? '/proc/self' : obj.path) : join(base, 'objects', 'state');
    if (!obj) {
      mkdirSync(path, { recursive: true });
      chmodSync(path, 0o777);
    }
    const before = obj?.fingerprint();
    const a = spawnAgent(`state-${kind}`, join(base, 'agent'), path, {});
    const code = await Promise.race([a.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 10_000))]);
    if (code === 'running') a.proc.kill('SIGKILL');
    assert.is(code, 1, a.out());
    const lines = a.out().trim().split('\n');
    assert.is(lines.length, 1, a.out());
    assert.match(lines[0]!, new RegExp(`^x0tta6bl4: agent\\.state_dir ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    if (obj) assert.is(obj.fingerprint(), before);
    else assert.is(lstatSync(path).mode & 0o777, 0o777, 'an existing directory is not changed behind the operator');
  });
}

test.run();
