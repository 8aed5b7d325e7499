// Writes the two Grafana dashboards (dashboards/*.json) from the panel lists below, so that
// both share one datasource variable, one layout rule and one style. Run it after changing a
// panel: `node fleet/grafana/make-dashboards.mjs`; test/fleet-exporter/dashboards.test.ts runs
// every query on a real Prometheus scraping the exporter.
import { writeFileSync } from 'node:fs';

const ds = { type: 'prometheus', uid: '${datasource}' };
const F = 'fleet=~"$fleet"';
const N = 'fleet="$fleet",node="$node"';

function panel(id, type, title, [x, y, w, h], targets, extra = {}) {
  return {
    id, type, title, datasource: ds, gridPos: { x, y, w, h },
    targets: targets.map(([expr, legendFormat, more = {}], i) => ({ refId: String.fromCharCode(65 + i), datasource: ds, expr, legendFormat: legendFormat ?? '', range: true, ...more })),
    fieldConfig: { defaults: extra.defaults ?? {}, overrides: [] },
    options: extra.options ?? {},
    ...(extra.description ? { description: extra.description } : {}),
  };
}

const variables = (withNode) => [
  { type: 'datasource', name: 'datasource', label: 'Prometheus', query: 'prometheus', hide: 0, refresh: 1, current: {} },
  { type: 'query', name: 'fleet', label: 'Fleet', datasource: ds, definition: 'label_values(x0tta6bl4_node_online, fleet)',
    query: { query: 'label_values(x0tta6bl4_node_online, fleet)', refId: 'fleet' }, refresh: 2, includeAll: !withNode, multi: !withNode, sort: 1, current: {} },
  ...(withNode ? [{ type: 'query', name: 'node', label: 'Node', datasource: ds, definition: 'label_values(x0tta6bl4_node_online{fleet="$fleet"}, node)',
    query: { query: 'label_values(x0tta6bl4_node_online{fleet="$fleet"}, node)', refId: 'node' }, refresh: 2, includeAll: false, multi: false, sort: 1, current: {} }] : []),
];

function dashboard(uid, title, description, panels, withNode) {
  return {
    uid, title, description, tags: ['x0tta6bl4', 'batman-adv', 'mesh'], editable: true, schemaVersion: 38, version: 1,
    time: { from: 'now-6h', to: 'now' }, refresh: '30s', timezone: '', graphTooltip: 1,
    annotations: { list: [] }, links: [{ type: 'dashboards', tags: ['x0tta6bl4'], title: 'x0tta6bl4', asDropdown: true }],
    templating: { list: variables(withNode) }, panels,
  };
}

const pct = { unit: 'percentunit', min: 0, max: 1 };
const stateMap = { mappings: [{ type: 'value', options: { 0: { text: 'down', color: 'red' }, 0.5: { text: 'degraded', color: 'orange' }, 1: { text: 'ok', color: 'green' } } }], color: { mode: 'thresholds' }, thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'orange', value: 0.5 }, { color: 'green', value: 1 }] } };

const overview = [
  panel(1, 'stat', 'Nodes online', [0, 0, 4, 4], [[`sum(x0tta6bl4_node_online{${F}})`, 'online']]),
  panel(2, 'stat', 'Nodes offline', [4, 0, 4, 4], [[`count(x0tta6bl4_node_online{${F}} == 0) or vector(0)`, 'offline']], { defaults: { thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] } } }),
  panel(3, 'stat', 'Offline by reason', [8, 0, 8, 4], [[`count by (state) (x0tta6bl4_node_state{${F},state!="online"})`, '{{state}}']]),
  panel(4, 'stat', 'Exporter', [16, 0, 8, 4], [[`min(x0tta6bl4_fleet_exporter_connected)`, 'broker connected'], [`sum(rate(x0tta6bl4_fleet_exporter_messages_ignored_total[$__rate_interval])) or vector(0)`, 'ignored msg/s']]),
  panel(5, 'state-timeline', 'Health map (1 ok, 0.5 degraded, 0 down)', [0, 4, 24, 9], [[`x0tta6bl4_up{${F}}`, '{{fleet}}/{{node}}']], { defaults: stateMap, description: 'Overall health of each node from its last snapshot.' }),
  panel(6, 'heatmap', 'Link quality (TQ of every direct link)', [0, 13, 12, 9], [[`batman_link_tq{${F}}`, '{{node}}→{{neighbour}}']], { options: { calculate: true, yAxis: { min: 0, max: 255 }, color: { scheme: 'RdYlGn', mode: 'scheme' } } }),
  panel(7, 'timeseries', 'Weakest links (lowest TQ)', [12, 13, 12, 9], [[`bottomk(10, batman_link_tq{${F}})`, '{{node}}→{{neighbour}} ({{iface}})']]),
  panel(8, 'timeseries', 'Healing actions and rollbacks', [0, 22, 12, 8], [[`sum by (kind) (increase(x0tta6bl4_events_total{${F},kind=~"action|rollback"}[$__rate_interval]))`, '{{kind}}']]),
  panel(9, 'timeseries', 'Actions and rollbacks by action', [12, 22, 12, 8], [[`sum by (kind, action) (increase(x0tta6bl4_healing_events_total{${F}}[$__rate_interval]))`, '{{kind}} {{action}}']]),
  panel(10, 'timeseries', 'Learning round', [0, 30, 12, 8], [[`max by (fleet) (x0tta6bl4_learning_round{${F}})`, 'newest {{fleet}}'], [`min by (fleet) (x0tta6bl4_learning_round{${F}})`, 'oldest {{fleet}}']]),
  panel(11, 'timeseries', 'Model AUC (held-out)', [12, 30, 12, 8], [[`avg by (fleet) (x0tta6bl4_learning_heldout_auc{${F}})`, 'mean {{fleet}}'], [`min by (fleet) (x0tta6bl4_learning_heldout_auc{${F}})`, 'worst {{fleet}}']], { defaults: pct }),
  panel(12, 'timeseries', 'Telemetry loss', [0, 38, 12, 8], [
    [`sum(increase(x0tta6bl4_telemetry_events_dropped_total{${F}}[$__rate_interval]))`, 'dropped on nodes'],
    [`sum(increase(x0tta6bl4_events_missing_total{${F}}[$__rate_interval]))`, 'missing at exporter'],
    [`sum(x0tta6bl4_telemetry_events_queued{${F}})`, 'queued on nodes'],
  ]),
  panel(13, 'piechart', 'Nodes per selected gateway', [12, 38, 12, 8], [[`count by (gateway) (x0tta6bl4_gateway_info{${F}})`, '{{gateway}}']]),
];

const detail = [
  panel(1, 'stat', 'State', [0, 0, 6, 4], [[`x0tta6bl4_node_state{${N}}`, '{{state}}']], { options: { textMode: 'name' } }),
  panel(2, 'stat', 'Health', [6, 0, 6, 4], [[`x0tta6bl4_up{${N}}`, 'health']], { defaults: stateMap }),
  panel(3, 'stat', 'Last seen', [12, 0, 6, 4], [[`x0tta6bl4_node_last_seen_timestamp_seconds{${N}} * 1000`, 'last seen']], { defaults: { unit: 'dateTimeFromNow' } }),
  panel(4, 'stat', 'Version and uptime', [18, 0, 6, 4], [[`x0tta6bl4_uptime_seconds{${N}}`, 'uptime'], [`x0tta6bl4_build_info{${N}}`, '{{version}}']], { defaults: { unit: 's' } }),
  panel(5, 'timeseries', 'Links: TQ history', [0, 4, 16, 9], [[`batman_link_tq{${N}}`, '{{neighbour}} ({{iface}})']], { defaults: { min: 0, max: 255 } }),
  panel(6, 'timeseries', 'Mesh tables', [16, 4, 8, 9], [[`batman_neighbour_count{${N}}`, 'neighbours'], [`batman_originator_count{${N}}`, 'originators'], [`batman_gateway_count{${N}}`, 'gateways']]),
  panel(7, 'table', 'Selected gateway', [0, 13, 12, 6], [[`x0tta6bl4_gateway_info{${N}}`, '{{gateway}}', { format: 'table', instant: true }]]),
  panel(8, 'timeseries', 'Gateway TQ', [12, 13, 12, 6], [[`batman_gateway_tq{${N}}`, 'TQ to gateway'], [`x0tta6bl4_gateway_selected{${N}}`, 'selected']]),
  panel(9, 'timeseries', 'Events', [0, 19, 12, 8], [[`increase(x0tta6bl4_events_total{${N}}[$__rate_interval])`, '{{kind}}']]),
  panel(10, 'bargauge', 'Healing journal: actions and rollbacks by action', [12, 19, 12, 8], [[`sum by (kind, action) (x0tta6bl4_healing_events_total{${N}})`, '{{kind}} {{action}}']]),
  panel(11, 'state-timeline', 'Components (degraded or down at some point)', [0, 27, 12, 7], [[`x0tta6bl4_component_state{${N}} == 1`, '{{component}}: {{state}}']]),
  panel(12, 'timeseries', 'Telemetry queue', [12, 27, 12, 7], [[`x0tta6bl4_telemetry_events_queued{${N}}`, 'queued'], [`x0tta6bl4_telemetry_events_dropped_total{${N}}`, 'dropped'], [`x0tta6bl4_telemetry_reconnects_total{${N}}`, 'reconnects']]),
  panel(13, 'timeseries', 'Learning', [0, 34, 12, 7], [[`x0tta6bl4_learning_round{${N}}`, 'round'], [`x0tta6bl4_learning_heldout_auc{${N}}`, 'AUC']]),
  panel(14, 'timeseries', 'Router load and memory', [12, 34, 12, 7], [[`x0tta6bl4_load1{${N}}`, 'load1'], [`x0tta6bl4_memory_available_bytes{${N}} / x0tta6bl4_memory_total_bytes{${N}}`, 'memory free']]),
];

const dir = new URL('./dashboards/', import.meta.url).pathname;
writeFileSync(`${dir}x0tta6bl4-fleet-overview.json`, JSON.stringify(dashboard('x0tta6bl4-fleet', 'x0tta6bl4 fleet', 'Every node of the fleet from the x0tta6bl4 fleet exporter: up, health, links, healing, learning, telemetry loss.', overview, false), null, 2) + '\n');
writeFileSync(`${dir}x0tta6bl4-node.json`, JSON.stringify(dashboard('x0tta6bl4-node', 'x0tta6bl4 node', 'One node: links with TQ history, gateway, events, healing counts, components, telemetry, learning.', detail, true), null, 2) + '\n');
