// The telemetry snapshot's size bound (MAX_TELEMETRY_BYTES, stated in the README): a node with
// hundreds of links, many failing components and a large learning report still fits, and says
// what it left out; event messages are clipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HealthBoard } from '../../src/agent/health.ts';
import type { EventPayload } from '../../src/telemetry/payloads.ts';
import { FleetView } from '../../src/telemetry/fleet-view.ts';
import { buildEvent, buildTelemetry, MAX_EVENT_MESSAGE, MAX_TELEMETRY_BYTES, type SnapshotContext } from '../../src/telemetry/snapshot.ts';
import { statusFixture } from './fixture.ts';

const ctx: SnapshotContext = {
  boot: 'b00t',
  seq: 1,
  now: Date.parse('2026-01-31T12:00:00Z'),
  system: { load: [0.123, 0.456, 0.789], totalKb: 262144, freeKb: 100000, agentRssKb: 40000, agentHeapKb: 9000 },
  queue: { queued: 0, dropped: 0, reconnects: 0 },
};

test('a typical node: everything kept, well under the bound', () => {
  const { json, payload } = buildTelemetry(statusFixture('n1', 'lab'), ctx);
  assert.ok(Buffer.byteLength(json) < 2048, `${Buffer.byteLength(json)} bytes`);
  assert.is(payload.truncated, undefined);
  assert.equal(payload.load, [0.12, 0.46, 0.79]);
});

test('500 links, 40 failing components, a 5 KB learning report: within the bound, truncation stated', () => {
  const health = new HealthBoard('big');
  for (let i = 0; i < 40; i++) health.set(`component-${i}`, 'down', `reason ${i} `.repeat(40));
  const r = statusFixture('big-node-with-a-long-name-0123456789-abcdefghijklmnopqrstuvwxyz', 'lab', health, 500);
  r.learning = { history: Array.from({ length: 500 }, (_, i) => i / 7) };
  const { json, payload } = buildTelemetry(r, ctx);
  const bytes = Buffer.byteLength(json);
  assert.ok(bytes <= MAX_TELEMETRY_BYTES, `${bytes} bytes`);
  assert.is(payload.truncated?.problems, 40 - 16);
  assert.is(payload.truncated?.learning, true);
  assert.is(payload.learning, null);
  assert.ok((payload.truncated?.links ?? 0) > 0);
  assert.is(payload.links.length + payload.truncated!.links!, 500);
  assert.is(payload.mesh.neighbours, 500, 'the counts stay exact');
  assert.ok(payload.health.problems.every((p) => p.reason.length <= 160));
  assert.equal(JSON.parse(json), payload);
});

test('event messages are clipped; multi-byte text stays valid JSON', () => {
  const e = JSON.parse(buildEvent({ ts: new Date(ctx.now).toISOString(), kind: 'finding', message: 'ü'.repeat(5000) }, { fleet: 'lab', node: 'n1', boot: 'b', seq: 7 })) as EventPayload;
  assert.is(e.message.length, MAX_EVENT_MESSAGE);
  assert.is(e.seq, 7);
});

test('federation on: the snapshot carries certNotAfter and quarantinedPeers; off: no federation key (optional within v1)', () => {
  const off = buildTelemetry(statusFixture('n1', 'lab'), ctx);
  assert.not.ok('federation' in off.payload, 'federation off: the field is absent, as before');
  const r = statusFixture('n1', 'lab');
  r.federation = { peerId: '12D3KooWtest', metrics: { quarantinedPeers: 2 }, certNotAfter: '2027-01-31T12:00:00.000Z' };
  const on = buildTelemetry(r, ctx);
  assert.equal(on.payload.federation, { certNotAfter: '2027-01-31T12:00:00.000Z', quarantinedPeers: 2 });
  assert.equal(JSON.parse(on.json).federation, on.payload.federation);
  r.federation = { metrics: {}, certNotAfter: 'not a time' };
  assert.equal(buildTelemetry(r, ctx).payload.federation, { certNotAfter: null, quarantinedPeers: 0 }, 'an unreadable status document: null and 0, never a throw');
  // An old consumer (the fleet view predates the field) reads the new snapshot as before.
  const seen = (json: string) => {
    const v = new FleetView();
    v.update('x0tta6bl4/lab/n1/telemetry', Buffer.from(json));
    return { node: v.nodes()[0], ignored: v.ignored };
  };
  assert.equal(seen(on.json), seen(off.json));
});

test.run();
