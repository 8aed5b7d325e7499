// The early sign of a dying link (a clean link's first missed OGM while routes use it) against
// false positives (simulator): on links that lose OGMs now and then (the default link model:
// 80-99 % delivery, fading, bursts) it stays rare for ten minutes, and a clean mesh sees
// nothing at all; on a clean link that dies, orig_interval is lowered before the link is dead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LINK_MODEL } from '../../src/mesh/simulator/index.ts';
import { loadCore } from '../../src/core/index.ts';
import { simAgent } from './sim-agent.ts';

const score = (await loadCore()).scoreRoutes;

test('lossy links for ten minutes: a late OGM is no news on them (at most once per link, after the start)', async () => {
  for (const seed of [1, 2, 3]) {
    const s = await simAgent({ score, world: { seed, linkModel: DEFAULT_LINK_MODEL } });
    await s.run(600_000);
    const late = s.journal().filter((e) => e.finding === 'link-late');
    assert.ok(late.length <= 2, `seed ${seed}: ${JSON.stringify(late.map((e) => [Math.round(e.atMs / 1000), e.reason]))}`);
  }
});

test('a clean mesh for ten minutes: nothing at all', async () => {
  const s = await simAgent({ score });
  await s.run(600_000);
  assert.equal(s.journal(), []);
});

test("a clean link's first missed OGMs while routes use it: orig_interval lowered before the link is declared dead", async () => {
  const s = await simAgent({ score });
  await s.run(70_000);
  s.world.killLink(0, 1);
  let early = null;
  for (let t = 0; t < 3000 && !early; t += 1000) {
    await s.run(1000);
    const late = s.agent.healer!.findings.find((f) => f.kind === 'link-late');
    const dead = s.agent.healer!.findings.find((f) => f.kind === 'link-dead');
    if (late) early = { late, dead, orig: s.journal().find((e) => e.action === 'orig-interval') };
  }
  assert.ok(early, 'link-late found');
  assert.is(early.dead, undefined, 'before link-dead');
  assert.ok(early.orig, 'orig_interval lowered on the late link');
  assert.match(early.orig.reason, 'late: no OGM for');
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 100);
  // Judged against what the fault left (the late link's routes were not counted before it), the
  // faster OGMs are not blamed for the link dying after them: they run their hold.
  await s.run(12_000);
  assert.is(early.orig.state, 'holding', early.orig.outcome ?? '');
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 100);
});

// n1 hears n2 and n3 on one interface: OGM silence alone decides (a neighbour alone on its
// interface can also be given up by its traffic stopping: traffic-stop.test.ts).
const SHARED_DIAMOND = { links: [{ a: 0, b: 1, bands: [0] }, { a: 0, b: 2, bands: [0] }, { a: 1, b: 3, bands: [0] }, { a: 2, b: 3, bands: [0] }] };

test('a clean link that missed one OGM: the faster OGMs end 30 s after the spell, not at the end of their hold', async () => {
  const s = await simAgent({ score, configure: (c) => (c.healing.holdS = 120) });
  await s.run(70_000);
  s.world.killLink(0, 1);
  await s.run(1000);
  s.world.restoreLink(0, 1);
  const orig = s.journal().find((e) => e.action === 'orig-interval');
  assert.ok(orig, 'lowered on the late link');
  assert.is(s.journal().filter((e) => e.action !== 'orig-interval').length, 0, JSON.stringify(s.journal().map((e) => e.action)));
  await s.run(25_000);
  assert.is(orig.state, 'holding', orig.outcome ?? '');
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 100);
  await s.run(15_000);
  assert.is(orig.state, 'restored', orig.outcome ?? '');
  assert.match(orig.outcome ?? '', 'spell over: no instability for 30 s');
  assert.is((await s.world.driver(0).settings()).origIntervalMs, 1000);
});

test('a clean link is given up after two missed OGMs; a link not known long enough after two and a half', async () => {
  const deadAt = async (knownMs: number) => {
    // Polled every 250 ms, so that the poll interval does not hide the threshold.
    const s = await simAgent({ score, world: { topology: SHARED_DIAMOND }, configure: (c) => (c.healing.intervalS = 0.25) });
    await s.run(knownMs);
    s.world.killLink(0, 1);
    for (let t = 0; t < 6000; t += 250) {
      await s.run(250);
      const dead = s.agent.healer!.findings.find((f) => f.kind === 'link-dead') ?? s.journal().find((e) => e.finding === 'link-dead');
      if (dead) return Number(dead.evidence.lastSeenMs);
    }
    return null;
  };
  const clean = await deadAt(70_000);
  const fresh = await deadAt(5000);
  assert.ok(clean !== null && clean >= 2000 && clean < 2500, `clean link dead at ${clean} ms of silence`);
  assert.ok(fresh !== null && fresh >= 2500, `fresh link dead at ${fresh} ms of silence`);
});

test.run();
