// A real Alertmanager (Debian 'prometheus-alertmanager') for one test: scratch config and storage,
// a free loopback port, clustering off (its default would listen on 0.0.0.0:9094), a webhook
// receiver to the given URL, stopped by the caller. A missing binary is a failure, not a skip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../telemetry/mosquitto.ts';

export class Alertmanager {
  private log = '';
  private constructor(
    private readonly proc: ChildProcess,
    readonly dir: string,
    readonly port: number,
  ) {
    proc.stderr!.on('data', (d) => (this.log = (this.log + d).slice(-20_000)));
  }

  static async start(webhookUrl: string): Promise<Alertmanager> {
    const bin = spawnSync('prometheus-alertmanager', ['--version'], { encoding: 'utf8' });
    if (bin.error) throw new Error(`prometheus-alertmanager is not installed (Debian package 'prometheus-alertmanager'): ${bin.error.message}`);
    const dir = mkdtempSync(join(tmpdir(), 'x0-am-'));
    const port = await freePort();
    const config = {
      route: { receiver: 'test', group_by: ['alertname', 'fleet', 'node'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'test', webhook_configs: [{ url: webhookUrl, send_resolved: true }] }],
    };
    writeFileSync(join(dir, 'alertmanager.yml'), JSON.stringify(config, null, 2));
    const proc = spawn('prometheus-alertmanager', [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    const am = new Alertmanager(proc, dir, port);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`alertmanager exited at start:\n${am.log}`);
      if (await fetch(`http://127.0.0.1:${port}/-/ready`).then((r) => r.ok, () => false)) return am;
      if (Date.now() > deadline) {
        await am.stop();
        throw new Error(`alertmanager not ready within 60 s:\n${am.log}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p.exitCode === null && p.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => p.kill('SIGKILL'), 10_000);
        p.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        p.kill('SIGTERM');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
