// A neighbour alone on its interface is given up early when its traffic stops with its OGM:
// the analyzer against knowledge fed by hand (the readings a monitor would take every 250 ms),
// so that each condition of the rule can be taken away on its own. The real-kernel figure is
// bench:heal's (a ping across the VM diamond).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Analyzer } from '../../src/mapek/analyze.ts';
import { Knowledge, linkKey } from '../../src/mapek/knowledge.ts';
import type { Neighbour, Originator } from '../../src/mesh/driver.ts';

const N = '02:00:00:00:03:04';
const OTHER = '02:00:00:00:05:04';

interface Case {
  /** Packets a second the interface received before the fault (data plus the neighbour's OGMs). */
  rxPerS: number;
  /** Seconds since the neighbour's last OGM when the analyzer runs (the fault came with it). */
  ogmSilentS: number;
  /** Whether the interface keeps sending (our OGMs) after the fault. */
  txMoves?: boolean;
  /** Whether traffic keeps arriving after the fault. */
  rxMoves?: boolean;
  /** A second neighbour, heard, on the same interface. */
  shared?: boolean;
  /** The driver resets the counters at the fault (as some do on a restart). */
  reset?: boolean;
}

function analyze(c: Case) {
  const k = new Knowledge();
  const ifname = 'v4-3';
  const interfaces = [{ ifname, ifindex: 3, address: '02:00:00:00:04:03', active: true, hopPenalty: 0 }];
  const route = (dest: string, hop: string): Originator => ({ originator: dest, nextHop: hop, hardIfname: ifname, hardIfindex: 3, tq: 250, lastSeenMs: 100, best: true });
  const originators = [route(N, N), route('02:00:00:00:01:03', N), ...(c.shared ? [route(OTHER, OTHER)] : [])];
  k.ogmIntervalMs = 1000;
  const neighbours = (lastSeenMs: number): Neighbour[] => [
    { neighbour: N, hardIfname: ifname, hardIfindex: 3, lastSeenMs },
    ...(c.shared ? [{ neighbour: OTHER, hardIfname: ifname, hardIfindex: 3, lastSeenMs: 300 }] : []),
  ];
  // 60 s of a clean link: heard every second, traffic flowing; the fault (OGM and traffic gone)
  // just after a reading. The monitor reads once a second, every 250 ms once the OGM is overdue.
  const fault = 60_050;
  const end = fault + c.ogmSilentS * 1000;
  let rx = 0;
  let tx = 0;
  for (let t = 0; t <= end; t += 50) {
    const broken = t > fault;
    const lastSeen = broken ? t - fault : t % 1000;
    if (c.reset && t === fault) rx = 0;
    if (!broken || c.rxMoves) rx += c.rxPerS / 20;
    if (!broken || c.txMoves !== false) tx += 0.15; // our OGMs and those we forward, 3/s
    if (t % (lastSeen >= 1200 ? 250 : 1000) !== 0 && t !== end) continue;
    k.mesh = { interfaces, neighbours: neighbours(lastSeen), originators, gateways: [], settings: null };
    k.recordLinks([{ neighbour: N, hardIfname: ifname, kind: 'tq', value: 250 }]);
    k.recordLiveness(t, [{ key: linkKey(ifname, N), live: lastSeen < 2500 }]);
    k.recordLateness(t, [{ key: linkKey(ifname, N), late: lastSeen >= 1500 }]);
    k.recordCounters(t, ifname, { rxPackets: Math.floor(rx), txPackets: Math.floor(tx) }, true);
  }
  return new Analyzer(k, null).run(end).findings.find((f) => f.kind === 'link-dead' && f.subject.neighbour === N) ?? null;
}

test('traffic and OGM stop together: dead at 1.25 OGM intervals, with the stopped stream as evidence', () => {
  const dead = analyze({ rxPerS: 11, ogmSilentS: 1.25 });
  assert.ok(dead, 'link-dead');
  assert.is(dead.evidence.liveOnInterface, 0);
  assert.ok(Math.abs(Number(dead.evidence.rxRateBefore) - 11) < 0.5, String(dead.evidence.rxRateBefore));
  // Counted from where the packets of the reading after the fault ran out (50 ms after the
  // reading before), not from that reading (one second later).
  assert.ok(Math.abs(Number(dead.evidence.rxSilentMs) - 1250) <= 100, String(dead.evidence.rxSilentMs));
  assert.match(dead.message, /silent for 1\.3 s, and the 11 packets\/s it received stopped 1\.\d s ago/);
});

test('the OGM not yet overdue: no finding, however busy the stream was', () => {
  assert.is(analyze({ rxPerS: 40, ogmSilentS: 1.0 }), null);
});

test('traffic still arriving: a late OGM alone is not death before two intervals', () => {
  assert.is(analyze({ rxPerS: 11, ogmSilentS: 1.75, rxMoves: true }), null);
});

test('a stream too thin to tell (OGMs alone, 2/s): silence decides, at two intervals', () => {
  assert.is(analyze({ rxPerS: 2, ogmSilentS: 1.75 }), null);
  const dead = analyze({ rxPerS: 2, ogmSilentS: 2.0 });
  assert.ok(dead, 'dead at 2.0 s of silence');
  assert.is(dead.evidence.rxSilentMs, undefined, 'by silence, not by traffic');
});

test('another neighbour heard on the interface: its traffic would not stop, so only silence decides', () => {
  assert.is(analyze({ rxPerS: 11, ogmSilentS: 1.25, shared: true }), null);
  const dead = analyze({ rxPerS: 11, ogmSilentS: 2.0, shared: true });
  assert.ok(dead);
  assert.is(dead.evidence.liveOnInterface, 1, 'the other neighbour, not the silent one');
});

test('counters that went back at the fault: no rate to judge by, silence decides', () => {
  assert.is(analyze({ rxPerS: 11, ogmSilentS: 1.25, reset: true }), null);
});

test('nothing sent either: the interface, not the link (interface-stuck decides)', () => {
  assert.is(analyze({ rxPerS: 11, ogmSilentS: 1.25, txMoves: false }), null);
});

test('at two intervals of silence the silent neighbour does not count itself as live on its interface', () => {
  const dead = analyze({ rxPerS: 0, ogmSilentS: 2.0 });
  assert.ok(dead);
  assert.is(dead.evidence.liveOnInterface, 0);
});

test.run();
