// A real mosquitto (Debian's) per test file: its own config in a temp dir, a free loopback port,
// optional TLS / client-certificate auth / password file / persistence. Never the system broker.
// A missing mosquitto is a failure, not a skip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MosquittoOptions {
  tls?: { certFile: string; keyFile: string; caFile: string; requireCertificate?: boolean };
  /** user → password; turns off anonymous access. */
  users?: Record<string, string>;
  /** Keep sessions and queued QoS 1 messages across a stop/start (the broker saves on SIGTERM). */
  persistence?: boolean;
  /** Extra config lines. */
  extra?: string[];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts a TCP connection on 127.0.0.1:port (a broker that is up). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export class Mosquitto {
  private proc: ChildProcess | null = null;
  private log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly tls: boolean,
  ) {}

  static async start(o: MosquittoOptions = {}): Promise<Mosquitto> {
    const bin = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
    if (bin.error) throw new Error(`mosquitto is not installed (Debian package 'mosquitto'): ${bin.error.message}`);
    const dir = mkdtempSync(join(tmpdir(), 'x0-mosq-'));
    const port = await freePort();
    const lines = [
      // Running as root, mosquitto would switch to user 'mosquitto', who cannot read this dir.
      'user root',
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${o.users ? 'false' : 'true'}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'max_queued_messages 100000',
    ];
    if (o.users) {
      const pw = join(dir, 'passwd');
      writeFileSync(pw, '');
      for (const [u, p] of Object.entries(o.users)) {
        const r = spawnSync('mosquitto_passwd', ['-b', pw, u, p], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
      }
      lines.push(`password_file ${pw}`);
    }
    if (o.tls) {
      lines.push(`cafile ${o.tls.caFile}`, `certfile ${o.tls.certFile}`, `keyfile ${o.tls.keyFile}`);
      lines.push(`require_certificate ${o.tls.requireCertificate ? 'true' : 'false'}`);
    }
    if (o.persistence) lines.push('persistence true', `persistence_location ${dir}/`, 'autosave_interval 1');
    lines.push(...(o.extra ?? []));
    writeFileSync(join(dir, 'mosquitto.conf'), lines.join('\n') + '\n');
    const m = new Mosquitto(dir, port, !!o.tls);
    await m.resume();
    return m;
  }

  get url(): string {
    return `${this.tls ? 'mqtts' : 'mqtt'}://${this.tls ? 'localhost' : '127.0.0.1'}:${this.port}`;
  }

  /** The broker's process id while it runs (benchmarks read its CPU time from /proc). */
  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  get output(): string {
    return this.log;
  }

  /** (Re)starts the broker on the same port and waits until it accepts connections. */
  async resume(): Promise<void> {
    if (this.proc) throw new Error('mosquitto is already running');
    const p = spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = p;
    p.stderr!.on('data', (d) => (this.log += d));
    let exited = false;
    p.once('exit', () => (exited = true));
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (exited) throw new Error(`mosquitto exited at start:\n${this.log}\n${readFileSync(join(this.dir, 'mosquitto.conf'), 'utf8')}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${this.port} within 10 s:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the broker (SIGTERM: a clean shutdown that saves persistence) and waits for the exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    if (p.exitCode !== null) return;
    // SIGTERM first (saves persistence); a broker that does not exit in 5 s is killed, so that
    // a stuck broker cannot hang the test file.
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => p.kill('SIGKILL'), 5000);
      p.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      p.kill('SIGTERM');
    });
  }
}
