// Local data: feature vectors from knowledge windows, horizon labels, the bounded class-balanced
// store, the simulator-made datasets (deterministic per seed, different across sites), and AUC.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FEATURE_COUNT, FEATURE_NAMES, FeatureTracker, linkVector } from '../../src/learning/features.ts';
import { HorizonLabeler } from '../../src/learning/horizon-labeler.ts';
import { LocalDataset } from '../../src/learning/local-dataset.ts';
import { simulateLinkData, siteProfile } from '../../src/learning/sim-dataset.ts';
import { rocAuc } from '../../src/learning/auc.ts';
import { Prng } from '../../src/mesh/simulator/prng.ts';
import type { Originator } from '../../src/mesh/driver.ts';

const F = (name: (typeof FEATURE_NAMES)[number]) => FEATURE_NAMES.indexOf(name);
const extra = { switches: 0, bestShare: 0, errorGrowth: 0, lastSeenMs: 0 };

test('a falling TQ gives a negative slope and a drop from the window maximum', () => {
  const history = Array.from({ length: 30 }, (_, i) => 250 - i * 5);
  const x = linkVector({ metricKind: 'tq', history }, 30, extra);
  assert.is(x.length, FEATURE_COUNT);
  assert.ok(x[F('slope_short')]! < -0.1, `slope ${x[F('slope_short')]}`);
  assert.ok(Math.abs(x[F('drop_from_max')]! - (250 - 105) / 255) < 1e-6);
  assert.is(x[F('gap_share')], 0);
  const flat = linkVector({ metricKind: 'tq', history: Array(30).fill(200) }, 30, extra);
  assert.is(flat[F('slope_short')], 0);
  assert.is(flat[F('stddev')], 0);
});

test('gaps count, and a link without samples has level 0 and gap share 1', () => {
  const x = linkVector({ metricKind: 'tq', history: [200, 200, null, null, null, null, null, null, null, null, null, null] }, 30, extra);
  assert.is(x[F('level')], 0);
  assert.is(x[F('gap_share')], 1);
  const half = linkVector({ metricKind: 'tq', history: [200, null, 200, null, 200, null, 200, null, 200, null] }, 30, extra);
  assert.is(half[F('gap_share')], 0.5);
});

test('the tracker counts best-hop switches, last-seen age and error growth, and forgets gone links', () => {
  const tr = new FeatureTracker({ window: 5 });
  const orig = (via: string): Originator => ({ originator: 'o1', nextHop: via, hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: 0, best: true, tq: 200 });
  const link = (n: string) => ({ neighbour: n, hardIfname: 'mesh0', metricKind: 'tq' as const, metric: 200, history: [200, 200] });
  const neigh = (n: string, age: number) => ({ neighbour: n, hardIfname: 'mesh0', hardIfindex: 3, lastSeenMs: age });
  const counters = (e: number) => new Map([['mesh0', { rxErrors: e, txErrors: 0, rxDropped: 0, txDropped: 0 }]]);
  tr.observe({ links: [link('a'), link('b')], originators: [orig('a')], neighbours: [neigh('a', 0), neigh('b', 0)], counters: counters(0) });
  const out = tr.observe({ links: [link('a'), link('b')], originators: [orig('b')], neighbours: [neigh('a', 4000), neigh('b', 0)], counters: counters(100) });
  const a = out.find((f) => f.neighbour === 'a')!.x;
  const b = out.find((f) => f.neighbour === 'b')!.x;
  assert.is(a[F('best_hop_changes')], Math.fround(0.1));
  assert.is(b[F('best_hop_changes')], Math.fround(0.1));
  assert.is(b[F('best_hop_share')], 1);
  assert.is(a[F('best_hop_share')], 0);
  assert.ok(Math.abs(a[F('last_seen_age')]! - 0.4) < 1e-6);
  assert.ok(a[F('if_errors')]! > 0);
  const later = tr.observe({ links: [link('b')], originators: [], neighbours: [], counters: counters(100) });
  assert.is(later.length, 1);
  assert.is(later[0]!.x[F('last_seen_age')], 1, 'a link missing from the neighbour table saturates the age');
  assert.throws(() => new FeatureTracker({ window: 1 }), /window/);
});

test('horizon labels: 1 when the link is seen dead within H, 0 when it stays up, dead links give no samples', () => {
  const lab = new HorizonLabeler(3000);
  const x = new Float32Array(FEATURE_COUNT);
  const out: { atMs: number; label: number; key: string }[] = [];
  const poll = (t: number, a: boolean, b: boolean) =>
    out.push(...lab.poll(t, new Map([['a', a], ['b', b]]), [{ key: 'a', x }, { key: 'b', x }]));
  poll(0, true, true);
  poll(1000, true, true);
  poll(2000, true, false); // b dies at 2 s
  poll(3000, true, false);
  poll(4000, true, false);
  poll(5000, true, false);
  const lb = out.filter((s) => s.key === 'b');
  const la = out.filter((s) => s.key === 'a');
  assert.equal(lb.map((s) => [s.atMs, s.label]), [[0, 1], [1000, 1]]);
  assert.ok(la.every((s) => s.label === 0));
  assert.equal(la.map((s) => s.atMs), [0, 1000, 2000]);
  assert.ok(lab.pendingCount <= 2 * 4, 'pending bounded by links × H/poll');
});

test('the dataset is bounded per class, balances batches, keeps a held-out share and refuses bad rows', () => {
  const ds = new LocalDataset({ features: 2, capacityPerClass: 50, holdoutPerClass: 10, holdoutShare: 0.2, seed: 3 });
  for (let i = 0; i < 5000; i++) ds.add([i, 1], i % 50 === 0 ? 1 : 0);
  const c = ds.counts();
  assert.is(c.trainNegative, 50);
  assert.is(c.trainPositive, 50, 'about 80 positives reach training; the reservoir keeps 50');
  assert.is(c.holdoutNegative, 10);
  assert.is(c.seenPositive + c.seenNegative, 5000);
  // reservoir: a uniform sample over all 5000, not the first or last 50
  const rows = ds.trainingRows();
  const firsts = Array.from({ length: rows.y.length }, (_, r) => rows.x[r * 2]!);
  assert.ok(Math.min(...firsts) < 1000 && Math.max(...firsts) > 4000, 'reservoir spans the stream');
  const x = new Float32Array(64 * 2);
  const y = new Float32Array(64);
  ds.sampleBatch(64, x, y, new Prng(1));
  assert.is(y.reduce((a, b) => a + b, 0), 32, 'half the batch is positive');
  assert.throws(() => ds.add([NaN, 1], 0), /feature 0/);
  assert.throws(() => ds.add([1], 0), /features/);
  assert.throws(() => ds.add([1, 1], 2 as 0), /label/);
  const empty = new LocalDataset({ features: 2 });
  assert.is(empty.trainable, false);
  assert.throws(() => empty.sampleBatch(2, x, y), /both classes/);
});

test('simulated site data: deterministic per seed, both classes, different sites differ (non-IID)', () => {
  const a = simulateLinkData({ seed: 11, durationS: 900 });
  const b = simulateLinkData({ seed: 11, durationS: 900 });
  const c = simulateLinkData({ seed: 12, durationS: 900 });
  assert.equal(a.y, b.y);
  assert.equal(a.x, b.x);
  assert.ok(a.positives > 0 && a.positives < a.rows, `positives ${a.positives} of ${a.rows}`);
  assert.ok(a.x.every(Number.isFinite));
  assert.is(a.x.length, a.rows * FEATURE_COUNT);
  assert.not.equal(siteProfile(11), siteProfile(12));
  assert.ok(a.rows !== c.rows || a.positives !== c.positives);
});

test('AUC: perfect, reversed, chance with ties, and NaN with one class', () => {
  assert.is(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  assert.is(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  assert.is(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5);
  assert.is(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.ok(Number.isNaN(rocAuc([1, 2], [0, 0])));
});

test.run();
