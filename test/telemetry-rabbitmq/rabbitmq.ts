// A real RabbitMQ (Debian's rabbitmq-server, 3.10) with its MQTT plugin, per test file: a private,
// unprivileged node that the test starts and stops itself. Never the system service.
// - Everything lives in one mkdtemp directory: HOME (with the Erlang cookie), mnesia, logs,
//   config, enabled-plugins file, an empty rabbitmq-env.conf and conf.d (so /etc/rabbitmq is not read).
// - Its own epmd on a free port bound to 127.0.0.1 (ERL_EPMD_PORT), started here and killed by
//   close(): no epmd is left behind and no other node on the machine can see this one.
// - Every listener on 127.0.0.1: AMQP, Erlang distribution, MQTT.
// - Run as root (CI containers), the node runs as the 'rabbitmq' system user, as Debian's own
//   wrapper would, but from /usr/lib/rabbitmq/bin directly so none of the wrapper's system paths
//   are used.
// - Users from a definitions file (sha256 password hashes computed here), no guest user.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort } from '../telemetry/mosquitto.ts';

const SBIN = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** Why RabbitMQ cannot run here, or null when it can. */
export function rabbitmqMissing(): string | null {
  if (!existsSync(SBIN)) return `${SBIN} not found (Debian package 'rabbitmq-server')`;
  const epmd = spawnSync('epmd', ['-help'], { encoding: 'utf8' });
  if (epmd.error) return `epmd not found (Debian package 'erlang-base'): ${epmd.error.message}`;
  return null;
}

/** rabbit_password_hashing_sha256: base64(salt ‖ sha256(salt ‖ password)), 4 random salt bytes. */
function passwordHash(password: string): string {
  const salt = randomBytes(4);
  return Buffer.concat([salt, createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest()]).toString('base64');
}

function systemUser(name: string): { uid: number; gid: number } | null {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}

function stopProcess(p: ChildProcess, graceMs: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => p.kill('SIGKILL'), graceMs);
    p.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

export class RabbitMQ {
  private node: ChildProcess | null = null;
  private epmd: ChildProcess | null = null;
  private log = '';
  readonly nodename = `rabbit-test-${process.pid}@localhost`;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly ports: { amqp: number; dist: number; epmd: number },
    private readonly as: { uid: number; gid: number } | null,
  ) {}

  /** users: name → password; each gets full rights on vhost '/'. */
  static async start(users: Record<string, string>): Promise<RabbitMQ> {
    const missing = rabbitmqMissing();
    if (missing) throw new Error(missing);
    const dir = mkdtempSync(join(tmpdir(), 'x0-rabbit-'));
    const [port, amqp, dist, epmd] = [await freePort(), await freePort(), await freePort(), await freePort()];
    for (const d of ['home', 'mnesia', 'log', 'conf.d']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'home/.erlang.cookie'), randomBytes(16).toString('hex').toUpperCase());
    chmodSync(join(dir, 'home/.erlang.cookie'), 0o400);
    writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
    writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
    const names = Object.keys(users);
    writeFileSync(
      join(dir, 'definitions.json'),
      JSON.stringify({
        users: names.map((name) => ({ name, password_hash: passwordHash(users[name]!), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] })),
        vhosts: [{ name: '/' }],
        permissions: names.map((user) => ({ user, vhost: '/', configure: '.*', write: '.*', read: '.*' })),
      }),
    );
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.default = 127.0.0.1:${amqp}`,
        `mqtt.listeners.tcp.default = 127.0.0.1:${port}`,
        'mqtt.allow_anonymous = false',
        'mqtt.vhost = /',
        'mqtt.exchange = amq.topic',
        `load_definitions = ${join(dir, 'definitions.json')}`,
        'log.console = false',
        'log.file.level = info',
        // A test broker on a shared machine: do not stop accepting publishes at the default 50 MB disk floor.
        'disk_free_limit.absolute = 1MB',
        '',
      ].join('\n'),
    );
    const as = process.getuid?.() === 0 ? systemUser('rabbitmq') : null;
    if (as) chownTree(dir, as.uid, as.gid);
    const r = new RabbitMQ(dir, port, { amqp, dist, epmd }, as);
    r.startEpmd();
    // A test process that exits without close() (an uncaught error, exitIfStuck, the runner's
    // timeout) must not leave a broker node and its epmd running as another user.
    process.once('exit', () => r.killNow());
    for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const)
      process.once(sig, () => {
        r.killNow();
        process.exit(code);
      });
    try {
      await r.resume();
    } catch (e) {
      await r.close();
      throw e;
    }
    return r;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get output(): string {
    const logFile = join(this.dir, 'log', `${this.nodename}.log`);
    return `${this.log}${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`;
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      HOME: join(this.dir, 'home'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      ERL_EPMD_PORT: String(this.ports.epmd),
      RABBITMQ_NODENAME: this.nodename,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.ports.amqp),
      RABBITMQ_DIST_PORT: String(this.ports.dist),
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      // Instead of /etc/rabbitmq/conf.d/*.conf: an empty directory.
      RABBITMQ_CONFIG_FILES: join(this.dir, 'conf.d', '*.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_PID_FILE: join(this.dir, 'rabbit.pid'),
      // Distribution listens on loopback only; one scheduler pair is plenty for a test.
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1} +S 2:2',
    };
  }

  /** SIGKILL to the node's whole process group (the start script, beam.smp, erl_child_setup) and to epmd. */
  killNow(): void {
    const n = this.node;
    if (n?.pid && n.exitCode === null && n.signalCode === null) {
      try {
        process.kill(-n.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (this.epmd?.exitCode === null && this.epmd.signalCode === null) this.epmd.kill('SIGKILL');
  }

  private startEpmd(): void {
    // -address: loopback only; own port, so that neither a system epmd nor another test's is used or left behind.
    const p = spawn('epmd', ['-address', '127.0.0.1', '-port', String(this.ports.epmd)], { stdio: ['ignore', 'ignore', 'pipe'], ...(this.as ?? {}) });
    p.stderr!.on('data', (d) => (this.log += `epmd: ${d}`));
    this.epmd = p;
  }

  /** (Re)starts the node on the same ports and data, and waits until MQTT accepts connections. */
  async resume(limitMs = 45_000): Promise<void> {
    if (this.node) throw new Error('rabbitmq is already running');
    // Its own process group: the start script runs beam.smp as a child (it turns SIGTERM into a
    // graceful stop), so a forced kill has to reach the whole group.
    const p = spawn(SBIN, [], { env: this.env(), cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(this.as ?? {}) });
    this.node = p;
    p.stdout!.on('data', (d) => (this.log += d));
    p.stderr!.on('data', (d) => (this.log += d));
    let exited = false;
    p.once('exit', () => (exited = true));
    const deadline = Date.now() + limitMs;
    while (!(await canConnect(this.port))) {
      if (exited) throw new Error(`rabbitmq exited at start:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`rabbitmq did not listen for MQTT on ${this.port} within ${limitMs / 1000} s:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the node: SIGTERM, which the start script passes on as a graceful stop (queues and sessions are saved); the group is killed after 20 s. */
  async stop(): Promise<void> {
    const p = this.node;
    if (!p) return;
    const kill = setTimeout(() => this.killNow(), 20_000);
    await stopProcess(p, 25_000);
    clearTimeout(kill);
    this.node = null;
  }

  /** Stops the node and its epmd, and removes the directory. */
  async close(): Promise<void> {
    await this.stop();
    const e = this.epmd;
    this.epmd = null;
    if (e) await stopProcess(e, 2000);
    if (!process.env.X0_KEEP_RABBIT) rmSync(this.dir, { recursive: true, force: true });
  }
}
