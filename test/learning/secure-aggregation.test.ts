// Secure aggregation without a server: pairwise X25519 masks cancel in the sum, a single masked
// input reveals nothing usable, dropouts after the key sharing are recovered from Shamir shares,
// and the rounds that cannot be completed fail with a reason instead of a wrong sum.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { SecureRound, encodeFixed, decodeFixed, FIXED_POINT_SCALE, type SecureOutcome } from '../../src/learning/secure-aggregation.ts';
import { split, combine } from '../../src/learning/shamir.ts';
import { InProcessHub } from '../../src/learning/round-transport.ts';
import { decodeMessage } from '../../src/learning/wire.ts';
import { Prng } from '../../src/mesh/simulator/prng.ts';
import { loadCore } from '../../src/core/index.ts';
import { FederatedLearner } from '../../src/learning/federated-learner.ts';
import { LocalDataset } from '../../src/learning/local-dataset.ts';
import { FEATURE_COUNT } from '../../src/learning/features.ts';
import { simulateLinkData } from '../../src/learning/sim-dataset.ts';
import { learningStatus } from '../../src/learning/status.ts';

test('Shamir over GF(256): any t shares rebuild the secret, t − 1 do not', () => {
  const s = randomBytes(32);
  const shares = split(s, 7, 5);
  assert.ok(Buffer.from(combine(shares.slice(0, 5))).equals(s));
  assert.ok(Buffer.from(combine([shares[6]!, shares[1]!, shares[3]!, shares[0]!, shares[5]!])).equals(s));
  assert.not.ok(Buffer.from(combine(shares.slice(0, 4))).equals(s));
  assert.throws(() => combine([shares[0]!, shares[0]!]), /duplicate/);
  assert.throws(() => split(s, 3, 4), /t must be/);
});

test('fixed point round-trips within 2^-20 and clips to the norm', () => {
  const x = Float32Array.from([0.5, -0.25, 1e-3, -3e-6]);
  const back = decodeFixed(encodeFixed(x, 10));
  x.forEach((v, i) => assert.ok(Math.abs(back[i]! - v) <= 1 / FIXED_POINT_SCALE));
  const clipped = decodeFixed(encodeFixed(Float32Array.from([3, 4]), 1));
  assert.ok(Math.abs(Math.hypot(clipped[0]!, clipped[1]!) - 1) < 1e-5);
});

async function cohort(n: number, d: number, opts: { dropMaskedOf?: string; dropAllOf?: string; clipNorm?: number } = {}) {
  const hub = new InProcessHub();
  const rng = new Prng(9);
  const ids = Array.from({ length: n }, (_, i) => `p${i}`);
  const updates = ids.map(() => Float32Array.from({ length: d }, () => rng.normal() * 0.05));
  const seen: Uint32Array[] = [];
  if (opts.dropMaskedOf) hub.addFilter((from, _to, b) => from === opts.dropMaskedOf && b[4] === 4);
  if (opts.dropAllOf) hub.setOnline(opts.dropAllOf, false);
  const transports = ids.map((id) => hub.connect(id));
  const rounds = transports.map((tr) => {
    const r = new SecureRound({ transport: tr, round: 7, d, clipNorm: opts.clipNorm ?? 10, phaseTimeoutMs: 100 });
    tr.subscribe((bytes, from) => {
      const m = decodeMessage(bytes);
      if (m.type === 'masked' && m.values instanceof Uint32Array) seen.push(m.values);
      r.handle(m, from);
    });
    return r;
  });
  const outs: SecureOutcome[] = await Promise.all(rounds.map((r, i) => (ids[i] === opts.dropAllOf ? Promise.resolve({ ok: false, reason: 'offline' } as SecureOutcome) : r.run(updates[i]!))));
  return { ids, updates, outs, seen };
}

function expectedSum(updates: Float32Array[], ids: string[], include: (id: string) => boolean, d: number): Float64Array {
  const s = new Float64Array(d);
  updates.forEach((u, i) => {
    if (!include(ids[i]!)) return;
    const q = decodeFixed(encodeFixed(u, 10));
    q.forEach((v, k) => (s[k]! += v));
  });
  return s;
}

test('all present: every node gets the exact fixed-point sum; a masked input alone looks random', async () => {
  const d = 50;
  const { ids, updates, outs, seen } = await cohort(5, d);
  const want = expectedSum(updates, ids, () => true, d);
  for (const o of outs) {
    assert.ok(o.ok, o.ok ? '' : o.reason);
    if (!o.ok) continue;
    assert.is(o.count, 5);
    o.sum.forEach((v, k) => assert.ok(Math.abs(v - want[k]!) < 1e-9, `coordinate ${k}: ${v} vs ${want[k]}`));
  }
  // the update's coordinates are ~0.05: as fixed point ≲ 2^16 in magnitude; a masked one is uniform over 2^32
  const masked = decodeFixed(seen[0]!);
  const large = masked.filter((v) => Math.abs(v) > 1).length;
  assert.ok(large > d * 0.9, `only ${large} of ${d} masked coordinates look random`);
});

test('a member that drops after sharing its keys: the others rebuild its masks and sum the survivors', async () => {
  const d = 20;
  const { ids, updates, outs } = await cohort(6, d, { dropMaskedOf: 'p3' });
  const want = expectedSum(updates, ids, (id) => id !== 'p3', d);
  for (const [i, o] of outs.entries()) {
    if (ids[i] === 'p3') continue;
    assert.ok(o.ok, o.ok ? '' : o.reason);
    if (!o.ok) continue;
    assert.is(o.count, 5);
    assert.equal(o.dropped, ['p3']);
    o.sum.forEach((v, k) => assert.ok(Math.abs(v - want[k]!) < 1e-9, `coordinate ${k}`));
  }
});

test('a member offline from the start is simply not in the cohort', async () => {
  const d = 8;
  const { ids, updates, outs } = await cohort(5, d, { dropAllOf: 'p0' });
  const want = expectedSum(updates, ids, (id) => id !== 'p0', d);
  for (const [i, o] of outs.entries()) {
    if (i === 0) continue;
    assert.ok(o.ok && o.count === 4, o.ok ? `count ${o.count}` : o.reason);
    if (o.ok) o.sum.forEach((v, k) => assert.ok(Math.abs(v - want[k]!) < 1e-9));
  }
});

test('too small a cohort fails with the reason instead of exposing an update', async () => {
  const { outs } = await cohort(2, 4);
  for (const o of outs) {
    assert.not.ok(o.ok);
    if (!o.ok) assert.match(o.reason, /too small/);
  }
  assert.throws(() => new SecureRound({ transport: new InProcessHub().connect('x'), round: 0, d: 1, clipNorm: 1e6, phaseTimeoutMs: 1 }), /clip norm/);
});

test('learners in secure mode: only masked inputs on the wire, rounds apply, a dropout is survived', async () => {
  const core = await loadCore();
  const hub = new InProcessHub();
  const plain: string[] = [];
  hub.connect('observer').subscribe((b) => {
    const m = decodeMessage(b);
    if (m.type === 'update') plain.push(m.sender);
  });
  let dropRound = -1;
  hub.addFilter((from, _to, b) => from === 'n3' && b[4] === 4 && new DataView(b.buffer, b.byteOffset).getUint32(8, true) === dropRound);
  const nodes = [1, 2, 3, 4].map((seed, i) => {
    const d = simulateLinkData({ seed, durationS: 600 });
    const ds = new LocalDataset({ features: FEATURE_COUNT, seed });
    ds.addAll(d.x, d.y);
    return new FederatedLearner({
      core, transport: hub.connect(`n${i}`), data: ds, evaluateEvery: 0, training: { steps: 5 },
      admitted: (p) => p.startsWith('n'), aggregation: { rule: 'centered-clipping', f: 1 },
      secure: { clipNorm: 1, phaseTimeoutMs: 100 },
    });
  });
  const r0 = await Promise.all(nodes.map((l) => l.beginRound(0)));
  for (const o of r0) {
    assert.ok(o.applied, o.skipped);
    assert.is(o.heard, 4);
    assert.is(o.ruleUsed, 'secure-sum+centered-clipping');
  }
  const p0 = nodes[0]!.parameters();
  for (const l of nodes) assert.equal(l.parameters(), p0, 'the same sum everywhere, the same model');
  dropRound = 1;
  const r1 = await Promise.all(nodes.map((l) => l.beginRound(1)));
  for (const o of r1.slice(0, 3)) {
    assert.ok(o.applied, o.skipped);
    assert.is(o.heard, 3);
  }
  assert.equal(plain, [], 'no plain update ever crossed the wire');
  assert.is(learningStatus(nodes[0]!).privacy.secureAggregation, 'on');
  assert.throws(() => new FederatedLearner({ core, transport: hub.connect('x'), data: new LocalDataset({ features: FEATURE_COUNT }), aggregation: { rule: 'median' }, secure: { clipNorm: 1 } }), /sum/);
  nodes.forEach((l) => l.dispose());
});

test('a Byzantine member of a secure cohort moves the model by at most the clip norm per round', async () => {
  const core = await loadCore();
  const hub = new InProcessHub();
  const evil = hub.connect('evil');
  const nodes = [1, 2, 3, 4].map((seed, i) => {
    const d = simulateLinkData({ seed, durationS: 600 });
    const ds = new LocalDataset({ features: FEATURE_COUNT, seed });
    ds.addAll(d.x, d.y);
    return new FederatedLearner({
      core, transport: hub.connect(`n${i}`), data: ds, evaluateEvery: 0, training: { steps: 5 },
      aggregation: { rule: 'norm-clipping', f: 1 }, secure: { clipNorm: 0.5, phaseTimeoutMs: 100 },
    });
  });
  const d = nodes[0]!.d;
  // the attacker speaks the protocol but encodes a huge update (its own clip norm is not ours)
  const bad = new SecureRound({ transport: evil, round: 0, d, clipNorm: 31, phaseTimeoutMs: 100 });
  evil.subscribe((bytes, from) => bad.handle(decodeMessage(bytes), from));
  const before = nodes.map((l) => l.parameters());
  const [outs] = await Promise.all([Promise.all(nodes.map((l) => l.beginRound(0))), bad.run(new Float32Array(d).fill(31 / Math.sqrt(d)))]);
  for (const [i, o] of outs.entries()) {
    assert.ok(o.applied, o.skipped);
    assert.is(o.heard, 5, 'the attacker is in the sum');
    const after = nodes[i]!.parameters();
    const moved = Math.hypot(...after.map((v, j) => v - before[i]![j]!));
    assert.ok(moved <= 0.5 + 1e-4, `model moved by ${moved} > clip norm 0.5`);
    assert.ok(moved > 0.49, `the huge input did push the step to the bound (${moved})`);
  }
  nodes.forEach((l) => l.dispose());
});

test.run();
