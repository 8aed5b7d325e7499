// The c-class softmax classifier in the core (multinomial logistic regression, tanh and ReLU MLPs):
// loss and gradient against a plain float64 reference checked by finite differences, zero
// inputs skipped without changing the result, training that learns a 4-class problem, both
// builds bit-identical, the parameter vector through an aggregator, and typed input errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ClassifierSpec, type Core, ModelError } from '../../src/core/index.ts';
import { bothCores } from './cores.ts';
import { Rng, identical, maxAbsDiff } from './random.ts';

const { wasm, js } = await bothCores();
const builds: Core[] = [wasm, js];

// ---- plain float64 reference (the documented layout, feature-major) -------------------------
function refLossGrad(spec: ClassifierSpec, theta: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, rows: number) {
  const k = spec.features;
  const c = spec.classes;
  const h = spec.hidden ?? 0;
  const grad = new Array<number>(theta.length).fill(0);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const xr = Array.from({ length: k }, (_, i) => x[r * k + i]!);
    let hid: number[] = [];
    let z: number[];
    if (h === 0) {
      z = Array.from({ length: c }, (_, j) => theta[k * c + j]! + xr.reduce((s, v, i) => s + theta[i * c + j]! * v, 0));
    } else {
      const f = spec.activation === 'relu' ? (a: number) => Math.max(a, 0) : Math.tanh;
      hid = Array.from({ length: h }, (_, u) => f(theta[k * h + u]! + xr.reduce((s, v, i) => s + theta[i * h + u]! * v, 0)));
      const w2 = k * h + h;
      z = Array.from({ length: c }, (_, j) => theta[w2 + h * c + j]! + hid.reduce((s, t, u) => s + theta[w2 + u * c + j]! * t, 0));
    }
    const m = Math.max(...z);
    const se = z.reduce((s, v) => s + Math.exp(v - m), 0);
    const p = z.map((v) => Math.exp(v - m) / se);
    loss += -Math.log(p[y[r]!]!);
    const dz = p.map((v, j) => (v - (j === y[r] ? 1 : 0)) / rows);
    if (h === 0) {
      dz.forEach((d, j) => {
        grad[k * c + j]! += d;
        xr.forEach((v, i) => (grad[i * c + j]! += d * v));
      });
    } else {
      const w2 = k * h + h;
      dz.forEach((d, j) => (grad[w2 + h * c + j]! += d));
      for (let u = 0; u < h; u++) {
        let back = 0;
        dz.forEach((d, j) => {
          grad[w2 + u * c + j]! += d * hid[u]!;
          back += d * theta[w2 + u * c + j]!;
        });
        const dh = spec.activation === 'relu' ? (hid[u]! > 0 ? back : 0) : back * (1 - hid[u]! ** 2);
        grad[k * h + u]! += dh;
        xr.forEach((v, i) => (grad[i * h + u]! += dh * v));
      }
    }
  }
  return { loss: loss / rows, grad };
}

const SPECS: ClassifierSpec[] = [
  { features: 7, classes: 3 },
  { features: 6, classes: 4, hidden: 5 },
  { features: 6, classes: 4, hidden: 5, activation: 'relu' },
];

function batch(rng: Rng, spec: ClassifierSpec, rows: number) {
  // a third of the inputs exactly zero: the core skips them, the reference does not
  const x = Array.from({ length: rows * spec.features }, () => (rng.next() < 0.33 ? 0 : Math.fround(rng.gauss())));
  const y = Array.from({ length: rows }, () => rng.int(0, spec.classes - 1));
  return { x, y };
}

test('the reference gradient agrees with finite differences', () => {
  const rng = new Rng(3);
  for (const spec of SPECS) {
    const size = spec.hidden ? spec.features * spec.hidden + spec.hidden + spec.hidden * spec.classes + spec.classes : spec.features * spec.classes + spec.classes;
    const theta = Array.from({ length: size }, () => 0.5 * rng.gauss());
    const { x, y } = batch(rng, spec, 5);
    const { grad } = refLossGrad(spec, theta, x, y, 5);
    for (let j = 0; j < size; j++) {
      const e = 1e-6;
      const up = theta.slice();
      up[j]! += e;
      const dn = theta.slice();
      dn[j]! -= e;
      const fd = (refLossGrad(spec, up, x, y, 5).loss - refLossGrad(spec, dn, x, y, 5).loss) / (2 * e);
      assert.ok(Math.abs(fd - grad[j]!) < 1e-6, `spec ${JSON.stringify(spec)} param ${j}: fd ${fd} vs ${grad[j]}`);
    }
  }
});

test('loss, gradient and predictions match the reference; js bit-identical to wasm', () => {
  for (const spec of SPECS) {
    const rng = new Rng(11);
    const { x, y } = batch(rng, spec, 9);
    const outs = builds.map((core) => {
      const m = core.classifier(spec, { maxBatch: 16, seed: 5 });
      try {
        if (!spec.hidden) m.setParams(Array.from({ length: m.size }, (_, j) => Math.fround(0.3 * Math.sin(j + 1))));
        m.setBatch(x, y);
        const theta = Array.from(m.params());
        const ref = refLossGrad(spec, theta, x, y, 9);
        const loss = m.loss(9);
        const grad = m.gradient(9).slice();
        assert.ok(Math.abs(loss - ref.loss) < 1e-9, `loss ${loss} vs ${ref.loss}`);
        assert.ok(maxAbsDiff(grad, ref.grad) < 1e-6, `gradient off by ${maxAbsDiff(grad, ref.grad)}`);
        const pred = Array.from(m.predict(9));
        // with every label set to the predicted class, each row's loss is the smallest over labels
        for (let r = 0; r < 9; r++) {
          const xr = x.slice(r * spec.features, (r + 1) * spec.features);
          const lossOf = (c: number) => refLossGrad(spec, theta, xr, [c], 1).loss;
          for (let c = 0; c < spec.classes; c++) assert.ok(lossOf(pred[r]!) <= lossOf(c) + 1e-12, `row ${r}: class ${pred[r]} predicted, ${c} more likely`);
        }
        return { theta: Float32Array.from(theta), loss, grad, pred };
      } finally {
        m.dispose();
      }
    });
    assert.ok(identical(outs[0]!.theta, outs[1]!.theta), 'same parameters in both builds (same Glorot init)');
    assert.ok(identical(outs[0]!.grad, outs[1]!.grad), 'gradients bit-identical');
    assert.is(outs[0]!.loss, outs[1]!.loss);
    assert.equal(outs[0]!.pred, outs[1]!.pred);
  }
});

test('training learns a 4-class problem, both builds train identically', () => {
  const spec: ClassifierSpec = { features: 8, classes: 4, hidden: 6 };
  const rng = new Rng(21);
  const centers = Array.from({ length: 4 }, () => Array.from({ length: 8 }, () => 2 * rng.gauss()));
  const rows = 64;
  const y = Array.from({ length: rows }, (_, r) => r % 4);
  const x = y.flatMap((c) => centers[c]!.map((v) => v + 0.5 * rng.gauss()));
  const results = builds.map((core) => {
    const m = core.classifier(spec, { maxBatch: rows, seed: 9 });
    try {
      m.setBatch(x, y);
      const before = m.loss(rows);
      for (let i = 0; i < 200; i++) m.step(rows, { lr: 0.2, momentum: 0.9 });
      const after = m.loss(rows);
      const pred = m.predict(rows);
      const acc = y.filter((v, r) => pred[r] === v).length / rows;
      return { before, after, acc, params: m.params().slice() };
    } finally {
      m.dispose();
    }
  });
  for (const r of results) {
    assert.ok(r.after < r.before / 5, `loss ${r.before} → ${r.after}`);
    assert.ok(r.acc >= 0.95, `training accuracy ${r.acc}`);
  }
  assert.ok(identical(results[0]!.params, results[1]!.params), 'wasm and js train to the same bits');
});

test('the flat parameter vector goes through an aggregator and back', () => {
  const core = wasm;
  const ms = [1, 2, 3].map((s) => core.classifier({ features: 5, classes: 3, hidden: 4 }, { seed: s }));
  const agg = core.aggregator(3, ms[0]!.size);
  try {
    ms.forEach((m, i) => agg.set(i, m.params()));
    const r = agg.run({ rule: 'median', f: 1 });
    const want = Float32Array.from({ length: ms[0]!.size }, (_, j) => ms.map((m) => m.params()[j]!).sort((a, b) => a - b)[1]!);
    ms[0]!.setParams(r.result);
    assert.ok(identical(ms[0]!.params(), want), 'the coordinate median of three models');
  } finally {
    agg.dispose();
    ms.forEach((m) => m.dispose());
  }
});

test('bad specs, inputs and options are typed errors', () => {
  const core = wasm;
  const bad = (fn: () => unknown, code: string) => {
    try {
      fn();
    } catch (e) {
      assert.instance(e, ModelError);
      assert.is((e as ModelError).code, code);
      return;
    }
    assert.unreachable('no error');
  };
  bad(() => core.classifier({ features: 0, classes: 3 }), 'invalid-spec');
  bad(() => core.classifier({ features: 4, classes: 1 }), 'invalid-spec');
  bad(() => core.classifier({ features: 4, classes: 3, hidden: -1 }), 'invalid-spec');
  bad(() => core.classifier({ features: 4, classes: 3, hidden: 2, activation: 'gelu' as 'relu' }), 'invalid-spec');
  bad(() => core.classifier({ features: 4, classes: 3 }, { maxBatch: 0 }), 'invalid-option');
  const m = core.classifier({ features: 2, classes: 3 }, { maxBatch: 4 });
  bad(() => m.setBatch([1, 2, 3], [0, 1]), 'invalid-input');
  m.setBatch([1, 2, 3, 4], [0, 3]);
  bad(() => m.loss(2), 'invalid-input'); // label 3 of 3 classes
  m.setBatch([1, NaN, 3, 4], [0, 1]);
  bad(() => m.gradient(2), 'invalid-input');
  m.setBatch([1, 2, 3, 4], [0, 1]);
  bad(() => m.step(2, { lr: 0 }), 'invalid-option');
  bad(() => m.loss(5), 'invalid-input');
  bad(() => m.setParams([1]), 'invalid-input');
  m.dispose();
  bad(() => m.params(), 'disposed');
});

test.run();
