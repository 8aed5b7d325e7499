// Memory discipline: updates are written straight into core memory (no copy per call), runs
// and same-size create/dispose cycles never grow the memory, growth happens only when n·d
// grows, and is visible (counted; old views detach rather than silently alias).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AggregationConfig, Core } from '../../src/core/index.ts';
import { bothCores } from './cores.ts';
import { Rng } from './random.ts';

const { wasm, js } = await bothCores();
const builds: Core[] = [wasm, js];

const RULES: AggregationConfig[] = [
  { rule: 'mean' }, { rule: 'median', f: 3 }, { rule: 'trimmed-mean', f: 3 }, { rule: 'krum', f: 3 },
  { rule: 'multi-krum', f: 3 }, { rule: 'bulyan', f: 3 }, { rule: 'geometric-median', f: 3 },
  { rule: 'centered-clipping', f: 3 }, { rule: 'norm-clipping', f: 3, maxNorm: 1 },
  { rule: 'median', f: 1, pre: { kind: 'bucketing', s: 2, seed: 3 } }, { rule: 'krum', f: 3, pre: { kind: 'nnm' } },
];

test('steady state: runs of every rule and same-size create/dispose cycles never grow core memory', () => {
  const rng = new Rng(31);
  for (const core of builds) {
    const n = 16;
    const d = 3000;
    const xs = rng.vectors(n, d);
    let agg = core.aggregator(n, d);
    xs.forEach((x, i) => agg.set(i, x));
    const before = core.memoryStats();
    for (let round = 0; round < 5; round++) for (const config of RULES) agg.run(config);
    for (let round = 0; round < 10; round++) {
      agg.dispose();
      agg = core.aggregator(n, d);
    }
    const after = core.memoryStats();
    assert.is(after.bytes, before.bytes, `${core.kind}: memory bytes`);
    assert.is(after.grows, before.grows, `${core.kind}: growth count`);
    assert.is(after.used, before.used, `${core.kind}: bytes in use`);
    agg.dispose();
  }
});

test('zero copy: update(i) is a view of the very memory the rule reads', () => {
  for (const core of builds) {
    const agg = core.aggregator(4, 8);
    const views = [0, 1, 2, 3].map((i) => agg.update(i));
    assert.ok(views.every((v) => v.buffer === views[0]!.buffer), 'all slots share one buffer');
    assert.ok(views.every((v) => v.length === 8));
    views.forEach((v, i) => v.fill(i + 1));
    const first = agg.run({ rule: 'mean' });
    assert.equal(Array.from(first.result), new Array(8).fill(2.5));
    assert.is(first.result.buffer, views[0]!.buffer, 'the result is a view too');
    // the same views, written again after a run, are what the next run sees
    views[3]!.fill(101);
    assert.equal(Array.from(agg.run({ rule: 'mean' }).result), new Array(8).fill((1 + 2 + 3 + 101) / 4));
    agg.dispose();
  }
});

test('growth happens only when more memory is needed, is counted, and detaches old views', () => {
  for (const core of builds) {
    const small = core.aggregator(3, 10);
    const view = small.update(1);
    view.fill(5);
    const g0 = core.memoryStats().grows;
    const big = core.aggregator(64, 20000); // needs ~10 MB more
    const g1 = core.memoryStats().grows;
    assert.ok(g1 > g0, `${core.kind}: a larger aggregator grew the memory`);
    assert.is(view.length, 0, 'the old view is detached, not aliasing stale memory');
    assert.equal(Array.from(small.update(1)), new Array(10).fill(5), 'data survives growth');
    big.dispose();
    const again = core.aggregator(64, 20000); // reuses the released block
    assert.is(core.memoryStats().grows, g1, `${core.kind}: reuse after dispose does not grow`);
    again.dispose();
    small.dispose();
  }
});

test('freed blocks coalesce: two small released aggregators make room for a larger one', () => {
  for (const core of builds) {
    const a = core.aggregator(8, 1000);
    const b = core.aggregator(8, 1000);
    const fence = core.aggregator(2, 2); // keeps a and b from being merged into the bump pointer
    a.dispose();
    b.dispose();
    const g = core.memoryStats().grows;
    const c = core.aggregator(15, 1000);
    assert.is(core.memoryStats().grows, g, `${core.kind}: the merged free block was reused`);
    c.dispose();
    fence.dispose();
  }
});

test.run();
