// A real Prometheus (Debian's) per test or bench: its own config and TSDB in a temp dir, a free
// loopback port, stopped by the caller. Never the system's config, data or default port. A
// missing prometheus is a failure, not a skip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../telemetry/mosquitto.ts';

export interface PrometheusOptions {
  /** host:port targets of job "x0tta6bl4-fleet". */
  targets: string[];
  scrapeIntervalS?: number;
  /** Rule files (absolute paths) and an Alertmanager (host:port) to send alerts to. */
  ruleFiles?: string[];
  alertmanager?: string;
  evaluationIntervalS?: number;
  /** Scrape timeout (default: the interval). */
  scrapeTimeoutS?: number;
  /** Scrape each target as this many shards (/metrics?shard=I&shards=K, each its own instance). */
  shards?: number;
  /** More command-line flags (bench:fleet tries storage options). */
  extraArgs?: string[];
}

/** As an operator would write it: one target per shard, told apart by the instance label. */
export function shardedTargets(targets: string[], shards: number): { targets: string[]; labels?: Record<string, string> }[] {
  if (shards === 1) return [{ targets }];
  return targets.flatMap((t) => Array.from({ length: shards }, (_, i) => ({
    targets: [t],
    labels: { instance: `${t}/${i}`, __param_shard: String(i), __param_shards: String(shards) },
  })));
}

export class Prometheus {
  private log = '';
  private constructor(
    private readonly proc: ChildProcess,
    readonly dir: string,
    readonly port: number,
  ) {
    proc.stderr!.on('data', (d) => (this.log = (this.log + d).slice(-20_000)));
  }

  static async start(o: PrometheusOptions): Promise<Prometheus> {
    const bin = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
    if (bin.error) throw new Error(`prometheus is not installed (Debian package 'prometheus'): ${bin.error.message}`);
    const dir = mkdtempSync(join(tmpdir(), 'x0-prom-'));
    const port = await freePort();
    const s = o.scrapeIntervalS ?? 5;
    const config = {
      global: { scrape_interval: `${s}s`, scrape_timeout: `${o.scrapeTimeoutS ?? s}s`, evaluation_interval: `${o.evaluationIntervalS ?? s}s` },
      ...(o.ruleFiles ? { rule_files: o.ruleFiles } : {}),
      ...(o.alertmanager ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [o.alertmanager] }] }] } } : {}),
      scrape_configs: [{ job_name: 'x0tta6bl4-fleet', static_configs: shardedTargets(o.targets, o.shards ?? 1) }],
    };
    // JSON is YAML: no YAML writer needed.
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const proc = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=2h',
      `--web.console.templates=${join(dir, 'none')}`,
      `--web.console.libraries=${join(dir, 'none')}`,
      ...(o.extraArgs ?? []),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    const p = new Prometheus(proc, dir, port);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`prometheus exited at start:\n${p.log}`);
      const ok = await fetch(`${p.url}/-/ready`).then((r) => r.ok, () => false);
      if (ok) return p;
      if (Date.now() > deadline) {
        await p.stop();
        throw new Error(`prometheus not ready within 60 s:\n${p.log}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get output(): string {
    return this.log;
  }

  /** An instant query through the HTTP API; throws on an API error (a bad query). */
  async query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const r = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${body.error ?? r.status}`);
    const res = body.data!.result;
    if (body.data!.resultType === 'scalar') return [{ metric: {}, value: res as [number, string] }];
    return res as { metric: Record<string, string>; value: [number, string] }[];
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
