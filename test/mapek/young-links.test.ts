// Links the agent has just met: a link that flaps in the agent's first minute is found
// flapping, and a clean link's first late OGM is news. How lossy a young link is can be read only
// from the OGMs it missed while the agent watched: batman-adv's TQ is no measure of it then (on a
// mesh formed a minute ago its 64-OGM windows are still filling: TQ 183 on a lossless veth link
// in heal-quarantine.guest.ts). Taking the TQ for the loss was tried and hid that real flap, so a
// lossy link's chance outages in an agent's first minute can still read as flapping (docs/heal.md).
// The knowledge is fed by hand on a virtual clock, one poll a second, as the monitor would.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Analyzer } from '../../src/mapek/analyze.ts';
import { Knowledge, linkKey } from '../../src/mapek/knowledge.ts';
import type { Neighbour, Originator } from '../../src/mesh/driver.ts';

const N = '02:00:00:00:03:01';
const OTHER = '02:00:00:00:02:01';
const DEST = '02:00:00:00:04:02';
const IF = 'v1-3';

/**
 * Polls from the agent's start (0) to `endS`; the link to N is silent for 2 s from each
 * outage, and one OGM late at each of `lateAtS`. The seconds at which each finding kind was made.
 */
function findingsOver(tq: number, outagesAtS: number[], endS: number, lateAtS: number[] = []) {
  const k = new Knowledge();
  k.ogmIntervalMs = 1000;
  const interfaces = [{ ifname: IF, ifindex: 3, address: '02:00:00:00:01:03', active: true, hopPenalty: 0 },
    { ifname: 'v1-2', ifindex: 2, address: '02:00:00:00:01:02', active: true, hopPenalty: 0 }];
  const originators: Originator[] = [
    { originator: DEST, nextHop: N, hardIfname: IF, hardIfindex: 3, tq: Math.round(tq * 0.85), lastSeenMs: 100, best: true },
    { originator: DEST, nextHop: OTHER, hardIfname: 'v1-2', hardIfindex: 2, tq: 150, lastSeenMs: 100, best: false },
  ];
  const analyzer = new Analyzer(k, null);
  const found = new Map<string, number[]>();
  for (let s = 0; s <= endS; s++) {
    const now = s * 1000;
    const silentFor = outagesAtS.map((o) => s - o).find((d) => d >= 0 && d < 2);
    const lastSeenMs = silentFor !== undefined ? 2600 + silentFor * 1000 : lateAtS.includes(s) ? 1600 : 200;
    const neighbours: Neighbour[] = [{ neighbour: N, hardIfname: IF, hardIfindex: 3, lastSeenMs }, { neighbour: OTHER, hardIfname: 'v1-2', hardIfindex: 2, lastSeenMs: 300 }];
    k.mesh = { interfaces, neighbours, originators, gateways: [], settings: null };
    k.recordLinks([{ neighbour: N, hardIfname: IF, kind: 'tq', value: tq }, { neighbour: OTHER, hardIfname: 'v1-2', kind: 'tq', value: 250 }]);
    k.recordLiveness(now, neighbours.map((n) => ({ key: linkKey(n.hardIfname, n.neighbour), live: n.lastSeenMs < 2500 })));
    k.recordLateness(now, neighbours.map((n) => ({ key: linkKey(n.hardIfname, n.neighbour), late: n.lastSeenMs >= 1500 })));
    for (const f of analyzer.run(now).findings) found.set(f.kind, [...(found.get(f.kind) ?? []), s]);
  }
  return found;
}
const flappingAt = (tq: number, outagesAtS: number[], endS: number) => findingsOver(tq, outagesAtS, endS).get('neighbour-flapping') ?? [];

test('a clean link (TQ 250) that drops out three times in the agent\'s first minute: flapping at the third', () => {
  const found = flappingAt(250, [10, 25, 40], 60);
  assert.ok(found.length > 0, 'flapping expected');
  assert.ok(found[0]! >= 40 && found[0]! <= 42, `found at ${found[0]} s`);
});

test('a lossy link that flaps hard in the agent\'s first minute: still found flapping', () => {
  // Down 2 s out of every 5: more outages than a 10 % link has by chance in 10⁴ minutes.
  const found = flappingAt(206, Array.from({ length: 12 }, (_, i) => 2 + i * 5), 60);
  assert.ok(found.length > 0, 'flapping expected');
});

test('a link on a mesh formed a minute ago (TQ 183, windows still filling) that flaps 3 s down, 3 s up: flapping within the minute', () => {
  // heal-quarantine.guest.ts on the kernel: with the TQ taken for the loss this was missed.
  const found = flappingAt(183, Array.from({ length: 10 }, (_, i) => 3 + i * 6), 60);
  assert.ok(found.length > 0 && found[0]! <= 20, `found at ${found.join(', ')} s`);
});

test('a clean link (TQ 250) with its first late OGM 33 s after the agent met it: late', () => {
  const found = findingsOver(250, [], 40, [33]);
  assert.equal(found.get('link-late'), [33]);
});

test.run();
