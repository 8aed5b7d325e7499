// The link model's statistics over seeded long runs, checked against what its stated model
// (link-model.ts header) implies: OU fading, Gilbert-Elliott bursts, Poisson failures that a
// linear degradation precedes or that come at once, and recoveries after min + Exp(mean).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LINK_MODEL, IDEAL_LINK_MODEL, SimulatedMesh, SimulatorError, describeLinkModel, type WorldEvent } from '../../src/mesh/simulator/index.ts';
import { LinkModel, resolveLinkModel, type LinkModelParams, type LinkTransition } from '../../src/mesh/simulator/link-model.ts';
import { Prng } from '../../src/mesh/simulator/prng.ts';

const QUIET: Partial<LinkModelParams> = { fadeSigma: 0, burstLossBad: 0, burstLossGood: 0, failureRatePerHour: 0, asymmetry: 0 };

function model(overrides: Partial<LinkModelParams>, links: number, base: number, seed = 1): LinkModel {
  const p = resolveLinkModel({ ...QUIET, ...overrides });
  return new LinkModel(p, new Prng(seed), new Float64Array(2 * links).fill(base));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const near = (x: number, want: number, rel: number, what: string) =>
  assert.ok(Math.abs(x - want) <= rel * Math.abs(want), `${what}: ${x.toFixed(5)}, expected ${want.toFixed(5)} ± ${(rel * 100).toFixed(0)} %`);

test('slow fades: Ornstein-Uhlenbeck with the stated sd and correlation time, shared by both directions', () => {
  const L = 200;
  const ticks = 5_000; // 500 s per link, 50 correlation times
  const sigma = 0.05;
  const tau = 10_000;
  const m = model({ fadeSigma: sigma, fadeTauMs: tau, tickMs: 100 }, L, 0.5, 7);
  const series: Float64Array[] = Array.from({ length: L }, () => new Float64Array(ticks));
  const out: LinkTransition[] = [];
  for (let t = 0; t < ticks; t++) {
    m.tick((t + 1) * 100, out);
    for (let l = 0; l < L; l++) {
      const ab = m.deliveryProb[2 * l]! - 0.5;
      const ba = m.deliveryProb[2 * l + 1]! - 0.5;
      assert.ok(Math.abs(ab - ba) < 1e-12, 'one fade for both directions');
      series[l]![t] = ab;
    }
  }
  assert.is(out.length, 0, 'no failures configured');
  const all = series.flatMap((s) => [...s]);
  const mu = mean(all);
  const variance = mean(all.map((x) => (x - mu) ** 2));
  assert.ok(Math.abs(mu) < 0.004, `mean fade ${mu}`);
  near(Math.sqrt(variance), sigma, 0.05, 'stationary sd');
  const autocorr = (lag: number) => {
    let num = 0;
    let n = 0;
    for (const s of series) for (let t = 0; t + lag < ticks; t++, n++) num += (s[t]! - mu) * (s[t + lag]! - mu);
    return num / n / variance;
  };
  // x(t + k ticks) = a^k x(t) + noise, a = exp(-tick / tau).
  near(autocorr(1), Math.exp(-100 / tau), 0.01, 'lag 100 ms autocorrelation');
  near(autocorr(100), Math.exp(-1), 0.12, 'lag tau autocorrelation');
  assert.ok(autocorr(300) < 0.15, `lag 3 tau: ${autocorr(300)}`);
});

test('loss bursts: Gilbert-Elliott share, sojourn times and per-state loss as stated', () => {
  const L = 100;
  const ticks = 20_000;
  const p = { burstMeanGoodMs: 5_000, burstMeanBadMs: 1_000, burstLossBad: 0.7, burstLossGood: 0.02, tickMs: 100 };
  const m = model(p, L, 1, 3);
  const gb = 1 - Math.exp(-100 / 5_000);
  const bg = 1 - Math.exp(-100 / 1_000);
  let bad = 0;
  const runs: { good: number[]; bad: number[] } = { good: [], bad: [] };
  const current = new Array<{ state: string; len: number; open: boolean }>(L);
  const out: LinkTransition[] = [];
  for (let t = 0; t < ticks; t++) {
    m.tick((t + 1) * 100, out);
    for (let l = 0; l < L; l++) {
      const s = m.burstStateOf(l);
      // Per-frame delivery: base 1 times (1 - loss of the state).
      assert.ok(Math.abs(m.deliveryProb[2 * l]! - (s === 'bad' ? 0.3 : 0.98)) < 1e-12);
      if (s === 'bad') bad++;
      const c = current[l];
      if (!c) current[l] = { state: s, len: 1, open: true }; // the first run is censored at its start
      else if (c.state === s) c.len++;
      else {
        if (!c.open) runs[c.state as 'good' | 'bad'].push(c.len);
        current[l] = { state: s, len: 1, open: false };
      }
    }
  }
  assert.is(out.length, 0);
  near(bad / (L * ticks), gb / (gb + bg), 0.06, 'share of time in Bad');
  // Sojourns are geometric: mean 1 / (leaving probability) ticks.
  near(mean(runs.bad), 1 / bg, 0.05, 'mean Bad sojourn (ticks)');
  near(mean(runs.good), 1 / gb, 0.06, 'mean Good sojourn (ticks)');
  assert.ok(runs.bad.length > 1000, `${runs.bad.length} bursts`);
  const d = describeLinkModel({ ...QUIET, ...p });
  near(d.derived.burstBadShare, gb / (gb + bg), 1e-9, 'described Bad share');
  near(d.derived.burstLongRunLoss, (gb * 0.7 + bg * 0.02) / (gb + bg), 1e-9, 'described long-run loss');
});

test('failures: Poisson rate, degradation ramps before some, sudden others, recovery after min + Exp(mean)', () => {
  const L = 50;
  const hours = 4;
  const tick = 100;
  const p = {
    tickMs: tick,
    failureRatePerHour: 36,
    degradeBeforeFailureProb: 0.4,
    degradeRampMinMs: 5_000,
    degradeRampMaxMs: 20_000,
    recoveryMinMs: 10_000,
    recoveryMeanMs: 20_000,
  };
  const m = model(p, L, 1, 11);
  const out: LinkTransition[] = [];
  const upTicks = new Array<number>(L).fill(0);
  const prev = Float64Array.from(m.deliveryProb);
  const degradingSince = new Array<number>(L).fill(-1);
  const deadSince = new Array<number>(L).fill(-1);
  const rampProbs: number[][] = Array.from({ length: L }, () => []);
  const ramps: number[] = [];
  const downtimes: number[] = [];
  let sudden = 0;
  let gradual = 0;
  let midRampChecks = 0;
  for (let t = 1; t <= (hours * 3_600_000) / tick; t++) {
    const now = t * tick;
    for (let l = 0; l < L; l++) if (m.healthOf(l) === 'up') upTicks[l]++;
    out.length = 0;
    m.tick(now, out);
    for (const tr of out) {
      const l = tr.link;
      if (tr.kind === 'link-degrading') {
        assert.is(prev[2 * l], 1, 'a degradation starts from a healthy link');
        degradingSince[l] = now;
        rampProbs[l] = [m.deliveryProb[2 * l]!];
      } else if (tr.kind === 'link-failed') {
        assert.is(m.deliveryProb[2 * l], 0, 'a failed link delivers nothing');
        if (degradingSince[l] >= 0) {
          gradual++;
          const ramp = now - degradingSince[l]!;
          assert.ok(ramp >= 5_000 && ramp <= 20_000 + tick, `ramp ${ramp} ms`);
          ramps.push(ramp);
          const probs = rampProbs[l]!;
          for (let i = 1; i < probs.length; i++) assert.ok(probs[i]! <= probs[i - 1]!, 'the ramp only goes down');
          // Linear: half-way through the ramp the link delivers about half.
          const mid = probs[Math.floor(probs.length / 2)]!;
          assert.ok(Math.abs(mid - 0.5) < 0.05, `mid-ramp delivery ${mid}`);
          midRampChecks++;
          degradingSince[l] = -1;
        } else {
          sudden++;
          // Nothing precedes a sudden failure: full delivery one tick before, none now.
          assert.is(prev[2 * l], 1, 'sudden failure from a healthy link');
        }
        deadSince[l] = now;
      } else {
        assert.ok(deadSince[l]! >= 0, 'only a dead link recovers');
        const down = now - deadSince[l]!;
        assert.ok(down >= 10_000, `downtime ${down} ms below the minimum`);
        downtimes.push(down);
        assert.is(m.deliveryProb[2 * l], 1, 'a recovered link is whole again');
        deadSince[l] = -1;
      }
    }
    for (let l = 0; l < L; l++) {
      if (degradingSince[l]! >= 0 && degradingSince[l] !== now) rampProbs[l]!.push(m.deliveryProb[2 * l]!);
      prev[2 * l] = m.deliveryProb[2 * l]!;
    }
  }
  const failures = sudden + gradual;
  const upHours = (upTicks.reduce((a, b) => a + b, 0) * tick) / 3_600_000;
  assert.ok(failures > 2_000, `${failures} failures`);
  near(failures / upHours, 36, 0.05, 'failures per link-hour up');
  near(gradual / failures, 0.4, 0.06, 'share preceded by degradation');
  near(mean(ramps), 12_500 + tick / 2, 0.04, 'mean ramp (uniform 5..20 s)');
  assert.is(midRampChecks, gradual);
  // Exp(mean) above the minimum: mean and sd both ~20 s.
  const excess = downtimes.map((d) => d - 10_000);
  near(mean(excess), 20_000, 0.05, 'mean downtime above the minimum');
  const sd = Math.sqrt(mean(excess.map((x) => (x - mean(excess)) ** 2)));
  near(sd, 20_000, 0.08, 'sd of downtime (exponential)');
});

test('through the world: a gradual failure is announced and lowers the TQ first, a sudden one does not', async () => {
  const world = new SimulatedMesh({
    seed: 4,
    topology: 'chain',
    nodes: 2,
    interfaces: [{ ifname: 'mesh0', band: '5GHz' }],
    linkModel: {
      ...IDEAL_LINK_MODEL,
      failureRatePerHour: 6,
      degradeBeforeFailureProb: 0.5,
      degradeRampMinMs: 60_000,
      degradeRampMaxMs: 120_000,
      recoveryMinMs: 150_000,
      recoveryMeanMs: 60_000,
    },
  });
  const events: WorldEvent[] = [];
  world.on('event', (e) => events.push(e));
  const d = world.driver(1);
  const tqAt = new Map<number, number>(); // second -> TQ of n1 at n2 (0 when not listed)
  for (let s = 1; s <= 12 * 3600; s++) {
    world.step(1000);
    const o = (await d.originators()).find((x) => x.best);
    tqAt.set(s, o?.tq ?? 0);
  }
  let sudden = 0;
  let gradual = 0;
  const drops: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.kind !== 'link-failed') continue;
    const before = events.slice(0, i).reverse().find((x) => x.kind.startsWith('link-'));
    const failSec = Math.ceil(e.atMs / 1000);
    if (/after degradation/.test(e.description)) {
      gradual++;
      assert.is(before?.kind, 'link-degrading', 'a gradual failure is preceded by its degradation');
      const startSec = Math.ceil(before!.atMs / 1000);
      assert.ok(e.atMs - before!.atMs >= 60_000 && e.atMs - before!.atMs <= 120_100);
      // From a converged TQ (255) at the start of the ramp, it has fallen 5 s before the end:
      // the warning a predictor can act on.
      const atStart = tqAt.get(startSec)!;
      const nearEnd = tqAt.get(failSec - 5)!;
      if (atStart === 255) drops.push(atStart - nearEnd);
    } else {
      assert.match(e.description, /sudden failure/);
      sudden++;
      assert.is.not(before?.kind, 'link-degrading', 'nothing announces a sudden failure');
      // Up to the failure the link looked perfect (once converged: 150 s after the start or the last change).
      const last = tqAt.get(failSec - 1)!;
      if (e.atMs - (before?.atMs ?? 0) > 150_000) assert.is(last, 255, `TQ right before a sudden failure at ${e.atMs} ms`);
    }
  }
  // batman-adv's TQ is sluggish (rq only slides when an OGM arrives, then 5 samples are averaged),
  // so the fall is partial, but every announced failure shows one.
  assert.ok(drops.length >= 5 && drops.every((x) => x > 0), `TQ drops over ramps: ${drops.join(' ')}`);
  assert.ok(drops.filter((x) => x >= 20).length >= 0.8 * drops.length, `TQ drops over ramps: ${drops.join(' ')}`);
  assert.ok(mean(drops) >= 50, `mean drop ${mean(drops)}`);
  const recovered = events.filter((e) => e.kind === 'link-recovered').length;
  assert.ok(sudden >= 5 && gradual >= 5, `sudden ${sudden}, gradual ${gradual}`);
  assert.ok(recovered >= sudden + gradual - 1, `${recovered} recoveries for ${sudden + gradual} failures`);
});

test('link model parameters are validated with a typed error', () => {
  const bad: Partial<LinkModelParams>[] = [
    { basePdrMin: 1.2 },
    { basePdrMin: 0.9, basePdrMax: 0.8 },
    { fadeSigma: -1 },
    { tickMs: 0 },
    { burstLossBad: Number.NaN },
    { degradeRampMinMs: 10, degradeRampMaxMs: 5 },
    { nonsense: 1 } as unknown as Partial<LinkModelParams>,
  ];
  for (const b of bad) {
    assert.throws(() => resolveLinkModel(b), (e: unknown) => e instanceof SimulatorError && e.code === 'INVALID', JSON.stringify(b));
    assert.throws(() => new SimulatedMesh({ topology: 'chain', nodes: 2, linkModel: b }), (e: unknown) => e instanceof SimulatorError);
  }
  assert.equal(resolveLinkModel(undefined), { ...DEFAULT_LINK_MODEL });
  const text = describeLinkModel().model.join('\n');
  assert.match(text, 'Ornstein-Uhlenbeck');
  assert.match(text, 'Gilbert-Elliott');
});

test.run();
