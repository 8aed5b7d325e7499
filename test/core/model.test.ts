// The link-failure model in the core (logistic regression and a one-hidden-layer MLP): loss and
// gradient against a plain float64 reference (itself checked by finite differences), SGD with
// momentum and weight decay against the PyTorch update rule, training that actually learns,
// the flat parameter vector round-tripping through an aggregator, input validation, and both
// builds agreeing bit for bit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Core, type Model, ModelError, type ModelSpec } from '../../src/core/index.ts';
import { bothCores } from './cores.ts';
import { Rng, identical, maxAbs, maxAbsDiff } from './random.ts';

const { wasm, js } = await bothCores();
const builds: Core[] = [wasm, js];

// ---- plain float64 reference ----------------------------------------------------------------
interface Ref {
  loss: number;
  grad: number[];
}

function refLossGrad(spec: ModelSpec, theta: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, rows: number): Ref {
  const k = spec.features;
  const h = spec.kind === 'mlp' ? spec.hidden : 0;
  const grad = new Array<number>(theta.length).fill(0);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const xr = Array.from({ length: k }, (_, i) => x[r * k + i]!);
    let z: number;
    let hid: number[] = [];
    if (spec.kind === 'logistic') {
      z = theta[k]! + xr.reduce((s, v, i) => s + theta[i]! * v, 0);
    } else {
      hid = Array.from({ length: h }, (_, u) => Math.tanh(theta[h * k + u]! + xr.reduce((s, v, i) => s + theta[u * k + i]! * v, 0)));
      z = theta[h * k + 2 * h]! + hid.reduce((s, t, u) => s + theta[h * k + h + u]! * t, 0);
    }
    const p = 1 / (1 + Math.exp(-z));
    loss += -(y[r]! * Math.log(p) + (1 - y[r]!) * Math.log(1 - p));
    const dz = (p - y[r]!) / rows;
    if (spec.kind === 'logistic') {
      xr.forEach((v, i) => (grad[i]! += dz * v));
      grad[k]! += dz;
    } else {
      hid.forEach((t, u) => {
        grad[h * k + h + u]! += dz * t;
        const dh = dz * theta[h * k + h + u]! * (1 - t * t);
        grad[h * k + u]! += dh;
        xr.forEach((v, i) => (grad[u * k + i]! += dh * v));
      });
      grad[h * k + 2 * h]! += dz;
    }
  }
  return { loss: loss / rows, grad };
}

function batch(rng: Rng, rows: number, k: number): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(rows * k);
  const y = new Float32Array(rows);
  const w = Array.from({ length: k }, () => rng.gauss());
  for (let r = 0; r < rows; r++) {
    let z = 0.3;
    for (let i = 0; i < k; i++) {
      x[r * k + i] = rng.gauss();
      z += w[i]! * x[r * k + i]!;
    }
    y[r] = z + 0.5 * rng.gauss() > 0 ? 1 : 0;
  }
  return { x, y };
}

const SPECS: ModelSpec[] = [
  { kind: 'logistic', features: 1 },
  { kind: 'logistic', features: 9 },
  { kind: 'mlp', features: 9, hidden: 16 },
  { kind: 'mlp', features: 3, hidden: 1 },
];

test('the reference gradient agrees with finite differences (the reference itself is right)', () => {
  const rng = new Rng(51);
  for (const spec of SPECS) {
    const size = spec.kind === 'logistic' ? spec.features + 1 : spec.hidden * spec.features + 2 * spec.hidden + 1;
    const theta = Array.from({ length: size }, () => 0.5 * rng.gauss());
    const { x, y } = batch(rng, 20, spec.features);
    const { grad } = refLossGrad(spec, theta, x, y, 20);
    for (let j = 0; j < size; j++) {
      const e = 1e-6;
      const up = [...theta];
      const dn = [...theta];
      up[j]! += e;
      dn[j]! -= e;
      const num = (refLossGrad(spec, up, x, y, 20).loss - refLossGrad(spec, dn, x, y, 20).loss) / (2 * e);
      assert.ok(Math.abs(num - grad[j]!) < 1e-7, `${spec.kind} parameter ${j}: ${num} vs ${grad[j]}`);
    }
  }
});

test('loss, gradient and predictions match the reference; js bit-identical to wasm', () => {
  for (const spec of SPECS) {
    const rng = new Rng(52 + spec.features);
    const { x, y } = batch(rng, 50, spec.features);
    const start = Array.from({ length: spec.features + 1 }, () => 0.3 * rng.gauss()); // logistic starts at 0 otherwise
    const outs = builds.map((core) => {
      const m = core.model(spec, { maxBatch: 64, seed: 7 });
      if (spec.kind === 'logistic') m.setParams(start);
      const rows = m.setBatch(x, y);
      const theta = m.params().slice();
      const loss = m.loss(rows);
      const grad = m.gradient(rows).slice();
      const pred = m.predict(rows).slice();
      m.dispose();
      return { theta, loss, grad, pred };
    });
    const [a, b] = outs as [typeof outs[0], typeof outs[0]];
    assert.ok(identical(a.theta, b.theta), `${spec.kind}: same initial parameters from the same seed`);
    const r = refLossGrad(spec, a.theta, x, y, 50);
    assert.ok(Math.abs(a.loss - r.loss) <= 1e-12 * r.loss, `${spec.kind} loss ${a.loss} vs ${r.loss}`);
    assert.ok(maxAbsDiff(a.grad, r.grad) <= 1e-6 * Math.max(1e-3, maxAbs(r.grad)), `${spec.kind} gradient`);
    for (let i = 0; i < 50; i++) {
      const p = Math.exp(-refLossGrad(spec, a.theta, x.subarray(i * spec.features), y.subarray(i, i + 1).map(() => 1), 1).loss);
      assert.ok(Math.abs(a.pred[i]! - p) < 1e-6, `${spec.kind} prediction ${i}`);
    }
    assert.ok(Object.is(a.loss, b.loss) && identical(a.grad, b.grad) && identical(a.pred, b.pred), `${spec.kind}: js differs from wasm`);
  }
});

test('SGD with momentum and weight decay follows g ← ∇ + λθ; v ← μv + g; θ ← θ − ηv', () => {
  const spec: ModelSpec = { kind: 'mlp', features: 5, hidden: 4 };
  const rng = new Rng(53);
  const { x, y } = batch(rng, 30, 5);
  for (const core of builds) {
    const m = core.model(spec, { maxBatch: 30, seed: 3 });
    const rows = m.setBatch(x, y);
    let theta = Array.from(m.params());
    let v = new Array<number>(m.size).fill(0);
    const opts = { lr: 0.1, momentum: 0.9, weightDecay: 0.01 };
    for (let step = 0; step < 5; step++) {
      const g = refLossGrad(spec, theta, x, y, rows).grad.map(Math.fround);
      const loss = m.step(rows, opts);
      assert.ok(Math.abs(loss - refLossGrad(spec, theta, x, y, rows).loss) < 1e-6, 'step returns the loss before the step');
      v = v.map((vj, j) => Math.fround(opts.momentum * vj + g[j]! + opts.weightDecay * theta[j]!));
      theta = theta.map((t, j) => Math.fround(t - opts.lr * v[j]!));
      assert.ok(maxAbsDiff(m.params(), theta) < 1e-6, `${core.kind} step ${step}: parameters`);
      theta = Array.from(m.params()); // follow the core exactly from here (float32 rounding)
    }
    m.dispose();
  }
});

test('training learns a separable problem, and both builds train identically', () => {
  const rng = new Rng(54);
  const { x, y } = batch(rng, 200, 6);
  const finals: Float32Array[] = [];
  for (const core of builds) {
    for (const spec of [{ kind: 'logistic', features: 6 }, { kind: 'mlp', features: 6, hidden: 8 }] as ModelSpec[]) {
      const m = core.model(spec, { maxBatch: 200, seed: 11 });
      const rows = m.setBatch(x, y);
      const start = m.loss(rows);
      for (let i = 0; i < 300; i++) m.step(rows, { lr: 0.5, momentum: 0.9, weightDecay: 1e-4 });
      const end = m.loss(rows);
      assert.ok(start > 0.6 && end < 0.35, `${core.kind} ${spec.kind}: loss ${start} → ${end}`);
      const p = m.predict(rows);
      let correct = 0;
      for (let r = 0; r < rows; r++) correct += Number((p[r]! > 0.5) === (y[r] === 1));
      assert.ok(correct / rows > 0.85, `${core.kind} ${spec.kind}: accuracy ${correct / rows}`);
      finals.push(m.params().slice());
      m.dispose();
    }
  }
  assert.ok(identical(finals[0]!, finals[2]!) && identical(finals[1]!, finals[3]!), 'js and wasm trained to the same bits');
});

test('the flat parameter vector federates: models → aggregator → model', () => {
  for (const core of builds) {
    const spec: ModelSpec = { kind: 'mlp', features: 4, hidden: 3 };
    const models: Model[] = [1, 2, 3, 4, 5].map((seed) => core.model(spec, { seed }));
    assert.is(models[0]!.size, 3 * 4 + 2 * 3 + 1);
    const agg = core.aggregator(models.length, models[0]!.size);
    models.forEach((m, i) => agg.update(i).set(m.params()));
    const r = agg.run({ rule: 'median', f: 2 });
    models[0]!.setParams(r.result);
    assert.ok(identical(models[0]!.params(), r.result));
    for (const m of models) m.dispose();
    agg.dispose();
  }
});

test('bad specs, inputs and options are typed errors', () => {
  for (const core of builds) {
    const specErr = (spec: unknown, text: RegExp): void => {
      try {
        core.model(spec as ModelSpec);
        assert.unreachable('accepted');
      } catch (err) {
        assert.instance(err, ModelError);
        assert.is((err as ModelError).code, 'invalid-spec');
        assert.match((err as Error).message, text);
      }
    };
    specErr({ kind: 'svm', features: 3 }, /kind must be/);
    specErr({ kind: 'logistic', features: 0 }, /features must be an integer/);
    specErr({ kind: 'mlp', features: 3, hidden: 0 }, /hidden must be an integer/);
    const m = core.model({ kind: 'logistic', features: 2 }, { maxBatch: 4 });
    const expectErr = (fn: () => unknown, code: string, text: RegExp, row?: number): void => {
      try {
        fn();
        assert.unreachable('accepted');
      } catch (err) {
        assert.instance(err, ModelError);
        assert.is((err as ModelError).code, code);
        assert.match((err as Error).message, text);
        if (row !== undefined) assert.is((err as ModelError).row, row);
      }
    };
    m.setBatch([1, 2, 3, 4, 5, 6], [0, 1, 1]);
    expectErr(() => m.loss(5), 'invalid-input', /rows must be an integer in \[1, 4\]/);
    m.inputs().x[5] = NaN;
    expectErr(() => m.loss(3), 'invalid-input', /feature 1 of row 2 is not finite/, 2);
    m.inputs().x[5] = 0;
    m.inputs().y[1] = 2;
    expectErr(() => m.step(3, { lr: 0.1 }), 'invalid-input', /label of row 1 must be in \[0, 1\]/, 1);
    m.inputs().y[1] = 1;
    expectErr(() => m.step(3, { lr: 0 }), 'invalid-option', /lr must be > 0/);
    expectErr(() => m.step(3, { lr: 0.1, momentum: 1 }), 'invalid-option', /momentum/);
    expectErr(() => m.setParams([1, 2]), 'invalid-input', /3 parameters expected/);
    expectErr(() => m.setParams([1, Infinity, 2]), 'invalid-input', /parameter 1 is Infinity/);
    expectErr(() => m.setBatch([1, 2, 3], [0, 1]), 'invalid-input', /x has 3 values, expected rows·features = 4/);
    m.dispose();
    expectErr(() => m.params(), 'disposed', /after dispose/);
  }
});

test.run();
