// Load and memory from /proc: parsed from the real files of this machine and from fixed texts
// (an old kernel without MemAvailable, garbage); the loop shows them in /status and /metrics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProcLoad, procLoadReader } from '../../src/mapek/system-load.ts';
import { simAgent } from './sim-agent.ts';
import { Monitor } from '../../src/mapek/monitor.ts';
import { HealthBoard } from '../../src/agent/health.ts';
import { silentLogger } from '../../src/agent/logger.ts';

test('this machine: /proc/loadavg and /proc/meminfo read as numbers', async () => {
  const r = await procLoadReader()();
  assert.ok(r, 'read');
  assert.ok(r.load1 >= 0 && r.load5 >= 0 && r.load15 >= 0);
  assert.ok(r.memTotalKb > 0 && r.memAvailableKb > 0 && r.memAvailableKb <= r.memTotalKb, JSON.stringify(r));
});

test('an old kernel without MemAvailable: free + buffers + cached; garbage and missing files: null', async () => {
  const mem = 'MemTotal:         126000 kB\nMemFree:           20000 kB\nBuffers:            4000 kB\nCached:            16000 kB\n';
  assert.equal(parseProcLoad('0.52 0.35 0.83 1/123 4567\n', mem), { load1: 0.52, load5: 0.35, load15: 0.83, memTotalKb: 126000, memAvailableKb: 40000 });
  assert.is(parseProcLoad('x y z', mem), null);
  assert.is(parseProcLoad('0.1 0.1 0.1 1/1 1', 'nothing here'), null);
  const dir = mkdtempSync(join(tmpdir(), 'x0-proc-'));
  assert.is(await procLoadReader(dir)(), null, 'no files');
  writeFileSync(join(dir, 'loadavg'), '3.00 2.00 1.00 2/200 999\n');
  writeFileSync(join(dir, 'meminfo'), 'MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\n');
  assert.equal(await procLoadReader(dir)(), { load1: 3, load5: 2, load15: 1, memTotalKb: 1000, memAvailableKb: 250 });
});

test('the simulator reads no host /proc; a reader given to the monitor fills knowledge, /status healing, /metrics and finding evidence', async () => {
  const s = await simAgent();
  await s.run(2000);
  assert.is(s.agent.status().healing!.system, null, 'simulator: nothing read');
  // The same knowledge, polled by a monitor that reads a (fixed) /proc.
  const monitor = new Monitor(s.world.driver(0), s.agent.knowledge, new HealthBoard('n1'), silentLogger, {
    intervalMs: 1000, now: () => s.world.nowMs, system: async () => ({ load1: 2.5, load5: 1, load15: 0.5, memTotalKb: 1000, memAvailableKb: 100 }),
  });
  await monitor.pollOnce();
  assert.equal(s.agent.status().healing!.system, { load1: 2.5, load5: 1, load15: 0.5, memTotalKb: 1000, memAvailableKb: 100, atMs: s.world.nowMs });
  assert.match(s.agent.metrics(), /x0tta6bl4_memory_available_bytes\{node="n1"\} 102400/);
  assert.match(s.agent.metrics(), /x0tta6bl4_load1\{node="n1"\} 2.5/);
  s.world.stuckInterface(0, 'mesh1');
  await s.run(6000);
  // The restart it led to carries the finding's evidence.
  const f = s.journal().find((x) => x.finding === 'interface-stuck');
  assert.ok(f, JSON.stringify(s.journal()));
  assert.is(f.evidence.load1, 2.5);
  assert.is(f.evidence.memAvailablePct, 10);
});

test.run();
