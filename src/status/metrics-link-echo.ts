// The link echo's counters in /metrics (healing.link_echo; src/mesh/link-echo.ts,
// src/mapek/rx-watch.ts). Written whether it runs or not (zeros), so a dashboard's series exist
// before the first echo.
import { MetricsText } from './metrics-text.ts';

export interface LinkEchoCounters {
  /** Traffic silences and keepalives asked about. */
  probes: number;
  /** Silences nobody answered: links found dead by the echo. */
  lost: number;
  /** Delivery measurements (20 echoes each) of suspected fades. */
  measurements: number;
  /** Neighbours' requests answered, and datagrams ignored (malformed, or from beyond the link). */
  answered: number;
  ignored: number;
  /** "Nothing of yours arrives here" notices told to neighbours, and heard from them (at most one a second each). */
  deafTold: number;
  deafHeard: number;
  /** Links found dead one way: a neighbour's notice, then no answer to our probe. */
  oneWay: number;
}

/** Every counter at zero: what a node without the echo (or a part of it) reports. */
export const NO_LINK_ECHO: Readonly<LinkEchoCounters> = { probes: 0, lost: 0, measurements: 0, answered: 0, ignored: 0, deafTold: 0, deafHeard: 0, oneWay: 0 };

export function renderLinkEchoMetrics(node: string, running: boolean, c: LinkEchoCounters): string {
  const m = new MetricsText();
  const labels = { node };
  m.add('x0tta6bl4_link_echo_running', 'gauge', '1 when the link echo answers and asks (healing.link_echo, its port bound).', running ? 1 : 0, labels);
  m.add('x0tta6bl4_link_echo_probes_total', 'counter', 'Neighbours asked whether a link still carries frames (silences and keepalives).', c.probes, labels);
  m.add('x0tta6bl4_link_echo_lost_total', 'counter', 'Silent links whose neighbour did not answer: found dead by the echo.', c.lost, labels);
  m.add('x0tta6bl4_link_echo_measurements_total', 'counter', 'Delivery measurements of links suspected of fading.', c.measurements, labels);
  m.add('x0tta6bl4_link_echo_answered_total', 'counter', "Neighbours' requests answered.", c.answered, labels);
  m.add('x0tta6bl4_link_echo_ignored_total', 'counter', 'Datagrams ignored: malformed, or from beyond the link.', c.ignored, labels);
  m.add('x0tta6bl4_link_echo_deaf_told_total', 'counter', 'Neighbours told that nothing of theirs arrives here (a lost probe or measurement).', c.deafTold, labels);
  m.add('x0tta6bl4_link_echo_deaf_heard_total', 'counter', 'Neighbours that said nothing of ours arrives there (at most one a second each).', c.deafHeard, labels);
  m.add('x0tta6bl4_link_echo_one_way_dead_total', 'counter', 'Links found dead one way: a neighbour said so and did not answer our probe.', c.oneWay, labels);
  return m.toString();
}
