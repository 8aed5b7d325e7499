// The radio watch's counters in /metrics (healing.radio_watch; src/mapek/radio-watch.ts). Written
// whether it runs or not (zeros), so a dashboard's series exist before the first Wi-Fi link.
import { MetricsText } from './metrics-text.ts';

export interface RadioWatchCounters {
  /** Station dumps asked for (one per watched interface per round), and those a radio answered. */
  reads: number;
  wireless: number;
  /** Fades found (each makes the loop poll at once). */
  fades: number;
  /** The last read of a wireless interface failed (no nl80211, bridge refused, timeout). */
  failing: boolean;
}

export function renderRadioWatchMetrics(node: string, running: boolean, c: RadioWatchCounters): string {
  const m = new MetricsText();
  const labels = { node };
  m.add('x0tta6bl4_radio_watch_running', 'gauge', '1 when Wi-Fi station statistics are watched (healing.radio_watch).', running ? 1 : 0, labels);
  m.add('x0tta6bl4_radio_watch_reads_total', 'counter', 'Interfaces with next-hop neighbours asked for their stations.', c.reads, labels);
  m.add('x0tta6bl4_radio_watch_wireless_reads_total', 'counter', 'Of those, station dumps a radio answered.', c.wireless, labels);
  m.add('x0tta6bl4_radio_watch_fades_total', 'counter', 'Radio links found fading (retries rising as the signal falls).', c.fades, labels);
  m.add('x0tta6bl4_radio_watch_read_failing', 'gauge', '1 when the last read of a wireless interface failed.', c.failing ? 1 : 0, labels);
  return m.toString();
}
