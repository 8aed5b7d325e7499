// The link-death predictor on its own (predict-link-death.ts): a steady fall that reaches the
// dead TQ within the horizon, with a model that agrees, is a death foretold, and so is a sure
// model while the TQ does not rise; a dip that recovers, a flat link for a model that is not
// sure, a model that says the link lives, or no model at all (by default) are not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { predictLink } from '../../src/mapek/predict-link-death.ts';

// What a fading link looks like in fast mode (simulator, 100 ms OGMs, loss rising 5 %/s).
const FADING = [255, 255, 255, 239, 234, 218, 196, 171];
const DIP = [255, 240, 200, 170, 190, 220, 240, 250];

test('a steady fall with a confident model: dying, with the seconds left', () => {
  const p = predictLink(FADING, 0.9)!;
  assert.ok(p.slopePerS < -5, `slope ${p.slopePerS}`);
  assert.ok(p.r2 > 0.8, `r2 ${p.r2}`);
  assert.ok(p.secondsToDeath! > 0 && p.secondsToDeath! < 30, `${p.secondsToDeath}`);
  assert.ok(p.dying);
});

test('the same fall with no model: off by default (the trend alone steers too often), on with trendOnly', () => {
  assert.is(predictLink(FADING, null)!.dying, false);
  assert.is(predictLink(FADING, null, { trendOnly: true })!.dying, true);
});

test('a model sure the link lives keeps a clear trend from acting', () => {
  const p = predictLink(FADING, 0.05)!;
  assert.ok(p.confidence < 0.8, `${p.confidence}`);
  assert.is(p.dying, false);
});

test('a dip that recovers, a flat link and a slow drift are not deaths for a model that is not sure', () => {
  assert.is(predictLink(DIP, 0.95)!.dying, false);
  assert.is(predictLink([200, 200, 200, 200, 200, 200, 200, 200], 0.8)!.dying, false);
  // 1 TQ per second: dead in minutes, beyond the horizon, for a model that is not sure.
  assert.is(predictLink([250, 249, 248, 247, 246, 245, 244, 243], 0.7)!.dying, false);
});

test('a sure model needs the TQ only not to contradict it (TQ lags the loss): flat or falling, never rising', () => {
  assert.is(predictLink([250, 249, 248, 247, 246, 245, 244, 243], 0.9)!.dying, true);
  assert.is(predictLink([255, 255, 255, 255, 255, 255, 255, 255], 0.9)!.dying, true);
  assert.is(predictLink([243, 244, 245, 246, 247, 248, 249, 250], 0.99)!.dying, false);
  assert.is(predictLink([255, 255, 255, 200, 255], 0.99)!.dying, false);
  assert.is(predictLink([255, 255, 255, 255, 255, 255, 255, 255], 0.8)!.dying, false);
});

test('too few samples since the last gap: no prediction', () => {
  assert.is(predictLink([255, 250, null, 240, 230, 220, 210], 0.9), null);
  assert.is(predictLink([255, 250, 240], 0.9), null);
});

test.run();
