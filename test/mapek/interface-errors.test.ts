// Interface error counters reach the knowledge, where federated learning's `if_errors` feature
// reads them: from the router's /sys/class/net (real, on this machine's loopback and a missing
// interface) and, in the simulator, from a degraded link's garbled frames.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { sysCounters } from '../../src/mapek/system-host.ts';
import { errorCountersOf } from '../../src/learning/learning-service.ts';
import { simAgent } from './sim-agent.ts';

test('sysCounters reads packets and error/drop counters from /sys/class/net; missing or odd names give null', async () => {
  const c = await sysCounters('lo');
  assert.ok(c, 'lo has statistics');
  const rxErrorsNow = Number(readFileSync('/sys/class/net/lo/statistics/rx_errors', 'utf8'));
  assert.ok(c.rxPackets > 0);
  assert.is(c.rxErrors, rxErrorsNow);
  for (const k of ['txErrors', 'rxDropped', 'txDropped'] as const) assert.type(c[k], 'number', k);
  assert.is(await sysCounters('x0-no-such-if'), null);
  assert.is(await sysCounters('../../etc'), null);
});

test('a degraded simulated link shows up as rx errors in the knowledge, a clean one does not', async () => {
  // n1 reaches n2 on mesh0 only and n3 on mesh1 only (the split diamond)
  const s = await simAgent();
  try {
    await s.run(10_000);
    const before = errorCountersOf(s.agent.knowledge)!;
    assert.ok(before.has('mesh0') && before.has('mesh1'), 'error counters recorded per hard interface');
    s.world.degradeLink(0, 1, { lossRatio: 0.5, rampMs: 1000 });
    await s.run(20_000);
    const after = errorCountersOf(s.agent.knowledge)!;
    assert.ok(after.get('mesh0')!.rxErrors > before.get('mesh0')!.rxErrors, 'the lossy link garbles frames');
    assert.is(after.get('mesh1')!.rxErrors, before.get('mesh1')!.rxErrors, 'the clean link has none');
  } finally {
    await s.agent.stop();
  }
});

test.run();
