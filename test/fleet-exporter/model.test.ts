// The exporter's fleet model without a broker (pure: messages in, exposition out): duplicates and
// gaps by boot/seq, the TTL, stale nodes, retained messages that are too old, the caps that bound
// memory and label cardinality, and junk that must be counted, never trusted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { actionKind } from '../../src/fleet-exporter/action-kind.ts';
import { EventLedger, MAX_BOOTS_PER_NODE } from '../../src/fleet-exporter/event-ledger.ts';
import { renderFleet } from '../../src/fleet-exporter/exposition.ts';
import { parseShard } from '../../src/fleet-exporter/exporter.ts';
import { FleetModel } from '../../src/fleet-exporter/fleet-model.ts';
import { parseNames } from '../../src/fleet-exporter/names-file.ts';
import { parseProm, valueOf } from './prom-text.ts';

const T0 = Date.parse('2026-12-07T00:00:00Z');
const enc = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));
const mac = (i: number) => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;
const limits = { maxLinks: 3, staleS: 60, ttlS: 600, maxNodes: 5 };

function telemetry(node: string, ts: number, o: Record<string, unknown> = {}) {
  return {
    v: 1, fleet: 'lab', node, ts: new Date(ts).toISOString(), boot: 'b1', seq: 1,
    agent: { version: '0.1.0', uptimeS: 42, driver: 'simulator', dryRun: false, core: 'wasm' },
    mesh: { iface: 'bat0', algo: 'BATMAN_IV', address: mac(node === 'n1' ? 1 : 2), interfaces: 1, neighbours: 5, originators: 6, gateways: 2, gwMode: 'client' },
    gateway: { originator: mac(2), router: mac(2), iface: 'mesh0', tq: 220, downKbps: 1, upKbps: 1 },
    links: Array.from({ length: 5 }, (_, i) => ({ neighbour: mac(i + 2), iface: 'mesh0', kind: 'tq', metric: 250 - i })),
    health: { overall: 'degraded', problems: [{ name: 'mesh', state: 'degraded', reason: 'x' }] },
    load: [0.5, 0.4, 0.3], memory: { totalKb: 1000, freeKb: 500, agentRssKb: 100, agentHeapKb: 10 },
    learning: { round: 7, quality: { heldOutAuc: 0.81 }, peersHeard: 2 },
    telemetry: { queued: 1, dropped: 2, reconnects: 3 },
    ...o,
  };
}
const event = (node: string, boot: string, seq: number, kind = 'info', message = 'm') => ({ v: 1, fleet: 'lab', node, boot, seq, ts: new Date(T0).toISOString(), kind, message });

test('the ledger drops duplicates and counts gaps per boot, and forgets old boots', () => {
  const l = new EventLedger();
  assert.equal([1, 2, 2, 1, 5, 6].map((s) => l.take('a', s)), ['new', 'new', 'duplicate', 'duplicate', 'new', 'new']);
  assert.is(l.duplicates, 2);
  assert.is(l.gaps, 2);
  assert.is(l.take('b', 3), 'new', 'a boot met mid-way (the exporter started after it) at 3');
  assert.is(l.gaps, 2, 'events before the first seen of a boot met mid-way are not called missing');
  l.begin('c');
  assert.is(l.take('c', 3), 'new', 'a boot seen beginning that starts at 3');
  assert.is(l.gaps, 4, 'a boot seen beginning counts from seq 1');
  assert.is(l.take('a', 6), 'duplicate', 'the previous boot is still remembered');
  for (let i = 0; i < MAX_BOOTS_PER_NODE; i++) l.take(`x${i}`, 1);
  assert.is(l.take('a', 6), 'new', 'a boot pushed out of the ledger is forgotten');
});

test('action and rollback events are read as their action kind; anything else is other', () => {
  assert.is(actionKind('restart interface mesh0 (#3, rung 2): no neighbours'), 'restart-interface');
  assert.is(actionKind('orig-interval #4 made things worse (tq 10): rolled back'), 'orig-interval');
  assert.is(actionKind('quarantine 02:aa:bb:cc:dd:ee on mesh0 (nftables drop of ethertype 17157)'), 'quarantine');
  assert.is(actionKind('steer traffic off mesh1 (#5, rung 2): degrading'), 'steer-interface');
  assert.is(actionKind('steer traffic off 02:aa:bb:cc:dd:ee on wlan0 (nftables drops 75 % of its OGMs) (#6, rung 2): dying'), 'steer-neighbour');
  assert.is(actionKind('purge the neighbours on mesh1 (#7, rung 3): link to n2 dead'), 'purge-neighbours');
  assert.is(actionKind('purge-neighbours #7 made things worse (x): rolled back'), 'purge-neighbours');
  assert.is(actionKind('rm -rf #1'), 'other');
  assert.is(actionKind('\u001b[2Jhello'), 'other');
});

test('state, telemetry and events become the documented series; MACs become node names', () => {
  const m = new FleetModel(limits);
  m.update('x0tta6bl4/lab/n1/state', enc({ v: 1, fleet: 'lab', node: 'n1', state: 'online', reason: 'connected', since: new Date(T0).toISOString(), boot: 'b1', version: '0.1.0' }), false, T0);
  m.update('x0tta6bl4/lab/n2/telemetry', enc(telemetry('n2', T0)), false, T0);
  m.update('x0tta6bl4/lab/n1/telemetry', enc(telemetry('n1', T0)), false, T0);
  for (const [seq, kind, msg] of [[1, 'action', 'restart interface mesh0 (#1, rung 2): x'], [2, 'rollback', 'restart-interface #1 made things worse (x): rolled back'], [2, 'rollback', 'dup'], [5, 'finding', 'f'], [6, 'weird', 'w']] as const)
    m.update('x0tta6bl4/lab/n1/events', enc(event('n1', 'b1', seq, kind, msg)), false, T0);
  const e = renderFleet(m, T0 + 1000);
  assert.is([...e.chunks(100)].join(''), e.toString(), 'the pieces sent over HTTP make the whole text');
  const s = parseProm(e.toString());
  const n1 = { fleet: 'lab', node: 'n1' };
  assert.is(valueOf(s, 'x0tta6bl4_node_online', n1), 1);
  assert.is(valueOf(s, 'x0tta6bl4_node_state', { ...n1, state: 'online' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_node_last_seen_timestamp_seconds', n1), T0 / 1000);
  assert.is(valueOf(s, 'x0tta6bl4_component_state', { ...n1, component: 'mesh', state: 'degraded' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_up', n1), 0.5);
  assert.is(valueOf(s, 'batman_originator_count', n1), 6);
  assert.is(valueOf(s, 'x0tta6bl4_gateway_info', { ...n1, gateway: 'n2' }), 1, 'the gateway MAC is n2, known from its telemetry');
  assert.is(valueOf(s, 'batman_link_tq', { ...n1, neighbour: 'n2', iface: 'mesh0' }), 250);
  assert.is(s.filter((x) => x.name === 'batman_link_tq' && x.labels.node === 'n1').length, 3, 'links capped at maxLinks');
  assert.is(valueOf(s, 'x0tta6bl4_links_not_shown', n1), 2);
  assert.is(valueOf(s, 'x0tta6bl4_learning_round', n1), 7);
  assert.is(valueOf(s, 'x0tta6bl4_learning_heldout_auc', n1), 0.81);
  assert.is(valueOf(s, 'x0tta6bl4_telemetry_events_dropped_total', n1), 2);
  assert.is(valueOf(s, 'x0tta6bl4_events_total', { ...n1, kind: 'rollback' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_events_total', { ...n1, kind: 'other' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_healing_events_total', { ...n1, kind: 'action', action: 'restart-interface' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_healing_events_total', { ...n1, kind: 'rollback', action: 'restart-interface' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_events_duplicates_total', n1), 1);
  assert.is(valueOf(s, 'x0tta6bl4_events_missing_total', n1), 2);
  // Few series per node (bench:fleet, 5,000 nodes): one state series, rare event kinds once seen.
  assert.equal(s.filter((x) => x.name === 'x0tta6bl4_node_state' && x.labels.node === 'n1').map((x) => x.labels.state), ['online'], 'one state series per node');
  assert.is(valueOf(s, 'x0tta6bl4_events_total', { node: 'n2', kind: 'rollback' }), 0, 'rollbacks from 0 (RollbackStorm takes increase())');
  assert.is(valueOf(s, 'x0tta6bl4_events_total', { node: 'n2', kind: 'info' }), undefined, 'a kind never seen: no series');
  assert.is(valueOf(s, 'x0tta6bl4_events_duplicates_total', { node: 'n2' }), undefined, 'no duplicates: no series');
  assert.is(valueOf(s, 'x0tta6bl4_events_missing_total', { node: 'n2' }), 0, 'missing from 0 (TelemetryDroppingEvents)');
  // The component recovers: still shown, now ok.
  m.update('x0tta6bl4/lab/n1/telemetry', enc(telemetry('n1', T0, { health: { overall: 'ok', problems: [] } })), false, T0);
  assert.is(valueOf(parseProm(renderFleet(m, T0).toString()), 'x0tta6bl4_component_state', { ...n1, component: 'mesh', state: 'ok' }), 1);
});

test('cached lines follow new data and names learned later', () => {
  const m = new FleetModel(limits);
  m.update('x0tta6bl4/lab/n1/telemetry', enc(telemetry('n1', T0)), false, T0);
  let s = parseProm(renderFleet(m, T0).toString());
  assert.is(valueOf(s, 'batman_link_tq', { node: 'n1', neighbour: mac(2) }), 250, 'n2 unknown yet: its MAC');
  m.update('x0tta6bl4/lab/n2/telemetry', enc(telemetry('n2', T0)), false, T0);
  m.update('x0tta6bl4/lab/n1/events', enc(event('n1', 'b', 1, 'fault')), false, T0);
  s = parseProm(renderFleet(m, T0).toString());
  assert.is(valueOf(s, 'batman_link_tq', { node: 'n1', neighbour: 'n2' }), 250, 'the cached line now names n2');
  assert.is(valueOf(s, 'x0tta6bl4_events_total', { node: 'n1', kind: 'fault' }), 1);
});

test('Last Will and silence make a node offline; after the TTL its series are gone', () => {
  const m = new FleetModel(limits);
  m.update('x0tta6bl4/lab/n1/telemetry', enc(telemetry('n1', T0)), false, T0);
  m.update('x0tta6bl4/lab/n2/telemetry', enc(telemetry('n2', T0)), false, T0);
  m.update('x0tta6bl4/lab/n2/state', enc({ v: 1, fleet: 'lab', node: 'n2', state: 'offline', reason: 'lost', since: new Date(T0 - 5000).toISOString(), boot: 'b', version: '1' }), false, T0 + 1000);
  let s = parseProm(renderFleet(m, T0 + 2000).toString());
  assert.is(valueOf(s, 'x0tta6bl4_node_online', { node: 'n2' }), 0);
  assert.is(valueOf(s, 'x0tta6bl4_node_state', { node: 'n2', state: 'lost' }), 1);
  assert.is(valueOf(s, 'x0tta6bl4_node_online', { node: 'n1' }), 1);
  s = parseProm(renderFleet(m, T0 + 61_000).toString());
  assert.is(valueOf(s, 'x0tta6bl4_node_state', { node: 'n1', state: 'silent' }), 1, 'silent past the stale time');
  m.sweep(T0 + 601_001 + 1000);
  assert.is(m.nodes.size, 0);
  assert.is(m.expired, 2);
  assert.not.ok(renderFleet(m, T0 + 700_000).toString().includes('node="n1"'));
  // A retained message older than the TTL does not bring a node back (counted as expired).
  m.update('x0tta6bl4/lab/n3/telemetry', enc(telemetry('n3', T0)), true, T0 + 700_000);
  assert.is(m.nodes.size, 0);
  assert.is(m.invalid.get('expired'), 1);
});

test('junk on the bus is counted by reason and never creates a node or throws', () => {
  const m = new FleetModel(limits);
  const junk: [string, Buffer, string][] = [
    ['x0tta6bl4/lab/n1/whatever', enc({ v: 1 }), 'topic'],
    ['x0tta6bl4/lab/n1/state', enc('not json{'), 'json'],
    ['x0tta6bl4/lab/n1/state', enc({ v: 2, fleet: 'lab', node: 'n1', state: 'online' }), 'version'],
    ['x0tta6bl4/lab/n1/state', enc({ v: 1, fleet: 'lab', node: 'n9', state: 'online' }), 'identity'],
    ['x0tta6bl4/lab/n1/state', enc([1, 2]), 'schema'],
    ['x0tta6bl4/lab/n1/telemetry', Buffer.alloc(20_000, 0x20), 'too-large'],
    ['x0tta6bl4/lab/n1/events', enc({ ...event('n1', 'b', 1), seq: -1 }), 'schema'],
    ['x0tta6bl4/lab/n1/events', enc({ ...event('n1', 'b', 1), seq: 1.5 }), 'schema'],
  ];
  for (const [t, p] of junk) m.update(t, p, false, T0);
  m.update('x0tta6bl4/lab/n1/telemetry', enc(telemetry('n1', T0, { links: 'x', mesh: null, health: { problems: [{ name: 'A B"\n', state: 'down' }] }, learning: 7, load: [Infinity] })), false, T0);
  const expect: Record<string, number> = {};
  for (const [, , r] of junk) expect[r] = (expect[r] ?? 0) + 1;
  assert.equal(Object.fromEntries(m.invalid), expect);
  assert.is(m.nodes.size, 1, 'only the malformed-but-valid-v1 telemetry made a node');
  const s = parseProm(renderFleet(m, T0).toString());
  assert.is(valueOf(s, 'batman_neighbour_count', { node: 'n1' }), undefined, 'a missing field is no series, not 0');
  assert.is(s.filter((x) => x.name === 'x0tta6bl4_component_state').length, 0, 'a component name that is not a name is left out');
  for (let i = 0; i < 10; i++) m.update(`x0tta6bl4/lab/x${i}/telemetry`, enc(telemetry(`x${i}`, T0)), false, T0);
  assert.is(m.nodes.size, limits.maxNodes);
  assert.is(m.invalid.get('node-limit'), 6);
});

test('the names file: MAC NAME lines, comments, and one-line errors', () => {
  assert.equal([...parseNames('# fleet\n02:00:00:00:00:0A  roof-1\n\n02:00:00:00:00:0b attic # x\n').names], [['02:00:00:00:00:0a', 'roof-1'], ['02:00:00:00:00:0b', 'attic']]);
  assert.equal(parseNames('nonsense\n02:00:00:00:00:0a a b\n').errors, ['line 1: expected "MAC NAME"', 'line 2: expected "MAC NAME"']);
});


test('shards split the fleet into disjoint parts; the exporter\'s own series are not in the node shards', () => {
  const m = new FleetModel({ ...limits, maxNodes: 1000 });
  for (let i = 0; i < 200; i++) m.update(`x0tta6bl4/lab/s${i}/telemetry`, enc(telemetry(`s${i}`, T0)), false, T0);
  const nodesOf = (shard?: { index: number; count: number }) => new Set(parseProm(renderFleet(m, T0, shard).toString()).filter((x) => x.name === 'x0tta6bl4_node_online').map((x) => x.labels.node!));
  const parts = [0, 1, 2].map((index) => nodesOf({ index, count: 3 }));
  assert.is(parts.reduce((a, p) => a + p.size, 0), 200, 'every node in exactly one shard');
  assert.is(new Set(parts.flatMap((p) => [...p])).size, 200);
  assert.ok(parts.every((p) => p.size > 40), `shards roughly even: ${parts.map((p) => p.size)}`);
  assert.equal(parseShard(new URLSearchParams('shard=2&shards=3')), { index: 2, count: 3 });
  assert.is(parseShard(new URLSearchParams('')), undefined);
  for (const bad of ['shard=3&shards=3', 'shard=-1&shards=3', 'shard=0', 'shard=a&shards=2', 'shard=0&shards=65'])
    assert.type(parseShard(new URLSearchParams(bad)), 'string', bad);
});

test.run();
