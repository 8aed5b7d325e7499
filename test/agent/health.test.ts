import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HealthBoard } from '../../src/agent/health.ts';

test('overall: ok, degraded by any component, down only by an essential one', () => {
  const h = new HealthBoard('n1');
  h.set('config', 'ok', 'x');
  h.set('mesh', 'ok', 'x');
  h.set('telemetry', 'disabled', 'off');
  assert.is(h.report().overall, 'ok');
  h.set('telemetry', 'down', 'broker unreachable');
  assert.is(h.report().overall, 'degraded');
  h.set('mesh', 'down', 'no module');
  assert.is(h.report().overall, 'down');
  assert.equal(
    h.report().components.map((c) => c.name),
    ['config', 'mesh', 'telemetry'],
  );
});

test('listeners hear changes once, with the previous state', () => {
  const h = new HealthBoard('n1');
  const seen: string[] = [];
  h.onChange((c, before) => seen.push(`${c.name}:${before ?? '-'}>${c.state}`));
  h.set('mesh', 'ok', 'a');
  h.set('mesh', 'ok', 'a');
  h.set('mesh', 'down', 'b');
  assert.equal(seen, ['mesh:->ok', 'mesh:ok>down']);
});

test.run();
