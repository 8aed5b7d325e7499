// The radio watch's series in /metrics (src/status/metrics-radio-watch.ts): present with zeros when
// it does not run, so dashboards have them from the start. The watch itself: test/mapek/radio-fade.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderRadioWatchMetrics } from '../../src/status/metrics-radio-watch.ts';

const value = (text: string, name: string) => Number(new RegExp(`^${name}\\{node="n1"\\} (\\S+)$`, 'm').exec(text)?.[1]);

test('off: every series, at zero', () => {
  const t = renderRadioWatchMetrics('n1', false, { reads: 0, wireless: 0, fades: 0, failing: false });
  for (const n of ['running', 'reads_total', 'wireless_reads_total', 'fades_total', 'read_failing']) assert.is(value(t, `x0tta6bl4_radio_watch_${n}`), 0, n);
  assert.match(t, '# TYPE x0tta6bl4_radio_watch_fades_total counter');
});

test('running: the counters as given', () => {
  const t = renderRadioWatchMetrics('n1', true, { reads: 40, wireless: 30, fades: 2, failing: true });
  assert.is(value(t, 'x0tta6bl4_radio_watch_running'), 1);
  assert.is(value(t, 'x0tta6bl4_radio_watch_reads_total'), 40);
  assert.is(value(t, 'x0tta6bl4_radio_watch_wireless_reads_total'), 30);
  assert.is(value(t, 'x0tta6bl4_radio_watch_fades_total'), 2);
  assert.is(value(t, 'x0tta6bl4_radio_watch_read_failing'), 1);
});

test.run();
