// The kernel-trace recorder's output and its labels (bench/kernel-model/record.ts), no VM: a tiny
// fixture made the way the recorder makes its polls (knowledge windows → FeatureTracker, one JSON
// line per poll), one link that dies for ten polls and one that stays healthy; then the labels
// must be 1 exactly for the windows within the horizon before the death, dead polls give no rows,
// windows whose future is unknown give none, and malformed traces are refused with a clear error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Knowledge } from '../../src/mapek/knowledge.ts';
import { FeatureTracker, FEATURE_COUNT } from '../../src/learning/features.ts';
import { faultKindOf, labelNodeTrace, parsePollLines } from '../../bench/kernel-model/record.ts';
import type { KernelTrace, PollRecord } from '../../bench/kernel-model/trace-format.ts';

const T0 = 1_000_000;
const A = 'mesh0/02:00:00:00:02:01';
const B = 'mesh0/02:00:00:00:03:01';
const POLLS = 150;
const DEAD = [80, 90] as const; // link A has no current sample at polls 80..89

function fixture(): string {
  const k = new Knowledge({ historyLength: 60 });
  const tr = new FeatureTracker();
  const lines: string[] = [];
  for (let i = 0; i < POLLS; i++) {
    const deadA = i >= DEAD[0] && i < DEAD[1];
    // A fades for 20 polls before it dies, as a fading radio link does
    const tqA = i >= 60 && i < 80 ? 240 - (i - 60) * 10 : 240;
    k.recordLinks([
      { neighbour: A.split('/')[1]!, hardIfname: 'mesh0', kind: 'tq', value: deadA ? null : tqA },
      { neighbour: B.split('/')[1]!, hardIfname: 'mesh0', kind: 'tq', value: 200 + (i % 3) },
    ]);
    const links = k.linkStatus();
    const feats = tr.observe({ links, originators: [], neighbours: [] });
    const alive = new Map(links.map((l) => [`${l.hardIfname}/${l.neighbour}`, l.metric !== null]));
    const poll: PollRecord = { t: T0 + i * 1000, links: feats.map((f) => ({ key: f.key, alive: alive.get(f.key) ? 1 : 0, x: [...f.x].map((v) => Math.round(v * 1e4) / 1e4) })) };
    lines.push(JSON.stringify(poll));
  }
  return lines.join('\n') + '\n';
}

test('the fixture parses as a recorder trace: one poll per line, every link with a full vector', () => {
  const trace = parsePollLines('n1', fixture());
  assert.is(trace.polls.length, POLLS);
  for (const p of trace.polls) {
    assert.equal(p.links.map((l) => l.key).sort(), [A, B]);
    for (const l of p.links) assert.is(l.x.length, FEATURE_COUNT);
  }
  assert.is(trace.polls[85]!.links.find((l) => l.key === A)!.alive, 0);
});

test('labels: 1 exactly for windows within 30 s before the death, no rows for dead polls or an unknown future', () => {
  const d = labelNodeTrace(parsePollLines('n1', fixture()), { horizonMs: 30_000, warmupPolls: 10, negativeStride: 1 });
  assert.is(d.rows, d.y.length);
  assert.is(d.x.length, d.rows * FEATURE_COUNT);
  const poll = (t: number) => (t - T0) / 1000;
  for (let r = 0; r < d.rows; r++) {
    const { key, t } = d.at[r]!;
    const i = poll(t);
    assert.ok(i >= 10, `warm-up poll ${i} kept`);
    assert.ok(i + 30 < POLLS, `poll ${i}: its horizon is not over, yet it was labelled`);
    const want = key === A && i >= DEAD[0] - 30 && i < DEAD[0] ? 1 : 0;
    assert.is(d.y[r], want, `${key} at poll ${i}`);
    if (key === A) assert.ok(i < DEAD[0] || i >= DEAD[1], `dead poll ${i} gave a row`);
  }
  assert.is(d.positives, 30);
  // every alive window from poll 10 to poll 119 of both links, minus A's ten dead polls
  assert.is(d.rows, 2 * 110 - 10);
});

test('negative stride keeps every positive and every k-th negative', () => {
  const all = labelNodeTrace(parsePollLines('n1', fixture()), { warmupPolls: 10, negativeStride: 1 });
  const some = labelNodeTrace(parsePollLines('n1', fixture()), { warmupPolls: 10, negativeStride: 4 });
  assert.is(some.positives, all.positives);
  assert.is(some.rows - some.positives, Math.ceil((all.rows - all.positives) / 4));
});

test('malformed traces are refused with a clear error', () => {
  const good = fixture().split('\n').filter(Boolean);
  const bad = (mutate: (p: PollRecord) => void) => {
    const p = JSON.parse(good[5]!) as PollRecord;
    mutate(p);
    return [...good.slice(0, 5), JSON.stringify(p), ...good.slice(6)].join('\n');
  };
  assert.throws(() => parsePollLines('n1', good.slice(0, 3).join('\n') + '\n{oops'), /n1: line 4 is not JSON/);
  assert.throws(() => parsePollLines('n1', bad((p) => p.links[0]!.x.pop())), /poll 5 .*x must be 12 finite numbers/);
  assert.throws(() => parsePollLines('n1', bad((p) => ((p.links[0] as { alive: number }).alive = 2))), /alive must be 0 or 1/);
  assert.throws(() => parsePollLines('n1', bad((p) => (p.t = T0))), /poll 5: time .* is not after/);
  assert.throws(() => parsePollLines('n1', bad((p) => (p.links[0]!.key = 'nokey'))), /ifname\/neighbour/);
  assert.throws(() => labelNodeTrace({ name: 'n1' } as never), /expected \{name, polls/);
});

test('a positive is put down to the fault on its link that was active within the horizon', () => {
  const trace: KernelTrace = {
    kernel: 'x', topology: { name: 't', nodes: 3, links: [[1, 2], [2, 3]] }, pollMs: 1000, nodes: [],
    faults: [
      { kind: 'fade', link: ['n1', 'n2'], startMs: 100_000, deadFromMs: 120_000, endMs: 140_000 },
      { kind: 'die', link: ['n2', 'n3'], startMs: 200_000, deadFromMs: 200_000, endMs: 230_000 },
    ],
  };
  // the interface of n1's end of the link to n2 is v1-2, n2's end v2-1 (scripts/vm/topology.ts)
  assert.is(faultKindOf(trace, 'v1-2/02:00:00:00:02:01', 90_000), 'fade');
  assert.is(faultKindOf(trace, 'v2-1/02:00:00:00:01:02', 130_000), 'fade');
  assert.is(faultKindOf(trace, 'v2-3/02:00:00:00:03:02', 90_000), 'none'); // the fault is on the other link
  assert.is(faultKindOf(trace, 'v3-2/02:00:00:00:02:03', 180_000), 'die');
  assert.is(faultKindOf(trace, 'v1-2/02:00:00:00:02:01', 60_000), 'none'); // more than H before the fault
  assert.is(faultKindOf(trace, 'mesh0/02:00:00:00:02:01', 130_000), 'none');
});

test.run();
