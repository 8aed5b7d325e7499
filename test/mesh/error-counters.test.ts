// Interface error counters in the simulator: perfect links count none; a degraded link raises
// rx_errors at both of its ends (and nowhere else) in step with its loss; a dead link is silence;
// a hung radio counts tx_errors; all of it the same for the same seed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IDEAL_LINK_MODEL, SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { RX_ERROR_SHARE } from '../../src/mesh/simulator/batman-iv.ts';

// Diamond n1-n2-n4 / n1-n3-n4 (indices 0..3), two bands, perfect links.
function diamond(seed = 5): SimulatedMesh {
  const world = new SimulatedMesh({ seed, topology: 'diamond', linkModel: IDEAL_LINK_MODEL });
  world.step(60_000);
  return world;
}

const rxErrors = (w: SimulatedMesh, node: number) => w.ifnames.reduce((s, i) => s + w.interfaceCounters(node, i).rxErrors, 0);
const rxPackets = (w: SimulatedMesh, node: number) => w.ifnames.reduce((s, i) => s + w.interfaceCounters(node, i).rxPackets, 0);

test('perfect links: no errors anywhere', () => {
  const w = diamond();
  w.step(60_000);
  for (let n = 0; n < 4; n++) {
    for (const i of w.ifnames) {
      const c = w.interfaceCounters(n, i);
      assert.is(c.rxErrors + c.txErrors, 0, `node ${n} ${i}`);
      assert.ok(c.rxPackets > 0, 'frames did flow');
    }
  }
});

test('a degraded link raises rx errors at its two ends only, in step with its loss', () => {
  const rates: number[] = [];
  for (const loss of [0.2, 0.6]) {
    const w = diamond();
    w.degradeLink(0, 1, { lossRatio: loss });
    const before = [0, 1, 2, 3].map((n) => rxErrors(w, n));
    const attempts0 = w.links().filter((l) => (l.a === 0 && l.b === 1) || (l.a === 1 && l.b === 0)).reduce((s, l) => s + l.attemptsAB + l.attemptsBA, 0);
    w.step(120_000);
    const after = [0, 1, 2, 3].map((n) => rxErrors(w, n));
    const grown = after.map((v, n) => v - before[n]!);
    assert.ok(grown[0]! > 0 && grown[1]! > 0, `ends of the degraded link: ${grown}`);
    assert.is(grown[2], 0, 'n3 has no lossy link');
    assert.is(grown[3], 0, 'n4 has no lossy link');
    const attempts = w.links().filter((l) => (l.a === 0 && l.b === 1) || (l.a === 1 && l.b === 0)).reduce((s, l) => s + l.attemptsAB + l.attemptsBA, 0) - attempts0;
    rates.push((grown[0]! + grown[1]!) / attempts);
  }
  // errors per frame sent over the link ≈ loss · RX_ERROR_SHARE (frames count once per
  // aggregate, so the rate per attempted OGM sits at or below it)
  assert.ok(rates[1]! > 2 * rates[0]!, `more loss, more errors: ${rates}`);
  assert.ok(rates[1]! <= 0.6 * RX_ERROR_SHARE * 1.15, `rate ${rates[1]} at most loss·share`);
});

test('a dead link is silence: rx errors stop growing once it is killed', () => {
  const w = diamond();
  w.degradeLink(0, 1, { lossRatio: 0.5 });
  w.step(30_000);
  const mid = rxErrors(w, 1);
  assert.ok(mid > 0);
  w.killLink(0, 1);
  w.step(1_000);
  const killed = rxErrors(w, 1);
  w.step(60_000);
  assert.is(rxErrors(w, 1), killed, 'no frame of a dead link is heard, garbled or not');
  assert.ok(rxPackets(w, 1) > 0);
});

test('a hung radio counts tx errors; same seed, same counters', () => {
  const run = () => {
    const w = new SimulatedMesh({ seed: 11, topology: 'mesh', nodes: 8 });
    w.step(60_000);
    w.stuckInterface(2, 'mesh0');
    w.step(60_000);
    return Array.from({ length: 8 }, (_, n) => w.ifnames.map((i) => w.interfaceCounters(n, i)));
  };
  const a = run();
  assert.ok(a[2]![0]!.txErrors >= 50, `hung mesh0 tx errors ${a[2]![0]!.txErrors}`);
  assert.is(a[2]![1]!.txErrors, 0, 'the other radio is fine');
  // the default link model is lossy: errors somewhere, not only on the hung radio
  assert.ok(a.some((node, n) => n !== 2 && node.some((c) => c.rxErrors > 0)), 'lossy links garble some frames');
  assert.equal(run(), a, 'deterministic per seed');
});

test.run();
