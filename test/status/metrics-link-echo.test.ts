// The link echo's series in /metrics (src/status/metrics-link-echo.ts): present with zeros when it
// does not run, so dashboards have them from the start. The echo itself on the real kernel:
// test/guest/link-echo.guest.ts; whole agents using it: bench:heal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderLinkEchoMetrics } from '../../src/status/metrics-link-echo.ts';

const value = (text: string, name: string) => Number(new RegExp(`^${name}\\{node="n1"\\} (\\S+)$`, 'm').exec(text)?.[1]);

test('off: every series, at zero', () => {
  const t = renderLinkEchoMetrics('n1', false, { probes: 0, lost: 0, measurements: 0, answered: 0, ignored: 0, deafTold: 0, deafHeard: 0, oneWay: 0 });
  for (const n of ['running', 'probes_total', 'lost_total', 'measurements_total', 'answered_total', 'ignored_total', 'deaf_told_total', 'deaf_heard_total', 'one_way_dead_total']) assert.is(value(t, `x0tta6bl4_link_echo_${n}`), 0, n);
  assert.match(t, '# TYPE x0tta6bl4_link_echo_lost_total counter');
});

test('running: the counters as given', () => {
  const t = renderLinkEchoMetrics('n1', true, { probes: 12, lost: 1, measurements: 3, answered: 40, ignored: 2, deafTold: 4, deafHeard: 5, oneWay: 6 });
  assert.is(value(t, 'x0tta6bl4_link_echo_running'), 1);
  assert.is(value(t, 'x0tta6bl4_link_echo_probes_total'), 12);
  assert.is(value(t, 'x0tta6bl4_link_echo_lost_total'), 1);
  assert.is(value(t, 'x0tta6bl4_link_echo_measurements_total'), 3);
  assert.is(value(t, 'x0tta6bl4_link_echo_answered_total'), 40);
  assert.is(value(t, 'x0tta6bl4_link_echo_ignored_total'), 2);
  assert.is(value(t, 'x0tta6bl4_link_echo_deaf_told_total'), 4);
  assert.is(value(t, 'x0tta6bl4_link_echo_deaf_heard_total'), 5);
  assert.is(value(t, 'x0tta6bl4_link_echo_one_way_dead_total'), 6);
});

test.run();
