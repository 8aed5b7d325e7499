// The fair limiter's rules, one by one. The connections here are stand-ins (a real multiaddr, a
// timeline object and an abort that records the call): the limiter only reads those three, and
// several of these cases (an IPv6 /64, IPv4-mapped addresses, a connection upgraded but not yet
// admitted at a chosen moment) cannot be produced on demand with real sockets on loopback.
// flood-fairness.test.ts runs it inside a real node against real sockets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { multiaddr } from '@multiformats/multiaddr';
import type { MultiaddrConnectionTimeline } from '@libp2p/interface';
import { InboundPending, sourceOf } from '../../src/federation/inbound-pending.ts';

interface Fake {
  remoteAddr: ReturnType<typeof multiaddr>;
  timeline: MultiaddrConnectionTimeline;
  aborted?: string;
  abort(e: Error): void;
}

function conn(addr: string): Fake {
  const c: Fake = {
    remoteAddr: multiaddr(addr),
    timeline: { open: Date.now() },
    abort: (e) => {
      c.aborted = e.message;
      c.timeline.close = Date.now();
    },
  };
  return c;
}

const v4 = (ip: string) => conn(`/ip4/${ip}/tcp/40000`);

test('a source gets at most its share; the newest beyond it is refused, others still get in', () => {
  const p = new InboundPending({ total: 8, perSource: 4 });
  const flood = Array.from({ length: 10 }, () => v4('10.0.0.3'));
  assert.equal(flood.map((c) => p.refuse(c)), [false, false, false, false, true, true, true, true, true, true]);
  assert.not.ok(p.refuse(v4('10.0.0.1')));
  assert.is(p.counts().get('10.0.0.3'), 4);
  assert.is(p.refused, 6);
  assert.ok(flood.every((c) => c.aborted === undefined), 'the refused ones are closed by libp2p, the held ones kept');
});

test('a closed connection frees its slot', () => {
  const p = new InboundPending({ total: 8, perSource: 2 });
  const [a, b] = [v4('10.0.0.3'), v4('10.0.0.3')];
  assert.not.ok(p.refuse(a));
  assert.not.ok(p.refuse(b));
  assert.ok(p.refuse(v4('10.0.0.3')));
  a.timeline.close = Date.now();
  assert.not.ok(p.refuse(v4('10.0.0.3')));
});

test('all slots taken: a newcomer displaces the oldest connection of the biggest holder', () => {
  const p = new InboundPending({ total: 8, perSource: 4 });
  const a = Array.from({ length: 4 }, () => v4('10.0.0.3'));
  const b = Array.from({ length: 4 }, () => v4('10.0.0.4'));
  for (const c of [a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!, a[3]!, b[3]!]) assert.not.ok(p.refuse(c));
  assert.not.ok(p.refuse(v4('10.0.0.1')));
  assert.match(a[0]!.aborted ?? '', /displaced/);
  assert.ok([...a.slice(1), ...b].every((c) => c.aborted === undefined));
  assert.is(p.displaced, 1);
  assert.equal(p.counts(), new Map([['10.0.0.3', 3], ['10.0.0.4', 4], ['10.0.0.1', 1]]));
  // The next newcomer takes from 10.0.0.4, now the biggest holder.
  assert.not.ok(p.refuse(v4('10.0.0.5')));
  assert.match(b[0]!.aborted ?? '', /displaced/);
});

test('no displacement between sources one apart (they would take turns), nor among equals', () => {
  const p = new InboundPending({ total: 4, perSource: 4 });
  const all = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.3'].map(v4);
  for (const c of all) assert.not.ok(p.refuse(c));
  assert.ok(p.refuse(v4('10.0.0.1')), '10.0.0.1 holds 1, 10.0.0.3 holds 2: refused');
  assert.ok(p.refuse(v4('10.0.0.3')));
  assert.ok(all.every((c) => c.aborted === undefined));
  const q = new InboundPending({ total: 2, perSource: 4 });
  assert.not.ok(q.refuse(v4('10.0.0.1')));
  assert.not.ok(q.refuse(v4('10.0.0.2')));
  assert.ok(q.refuse(v4('10.0.0.3')), 'every holder has one: the newcomer waits');
});

test('an upgraded connection stays pending until its peer is admitted', () => {
  const admitted = new Set<string>();
  const p = new InboundPending({ total: 8, perSource: 1, admitted: (id) => admitted.has(id) });
  const c = v4('10.0.0.3');
  assert.not.ok(p.refuse(c));
  p.identified({ timeline: c.timeline }, 'peerA');
  c.timeline.upgraded = Date.now();
  assert.ok(p.refuse(v4('10.0.0.3')), 'handshake done, certificate not yet: still pending');
  admitted.add('peerA');
  assert.not.ok(p.refuse(v4('10.0.0.3')));
  // Without an admission check (a bare node), the upgrade ends pending.
  const bare = new InboundPending({ total: 8, perSource: 1 });
  const d = v4('10.0.0.3');
  assert.not.ok(bare.refuse(d));
  d.timeline.upgraded = Date.now();
  assert.not.ok(bare.refuse(v4('10.0.0.3')));
});

test('sources: IPv4 address, IPv6 /64, IPv4-mapped IPv6 as IPv4', () => {
  assert.is(sourceOf(v4('192.168.1.7')), '192.168.1.7');
  assert.is(sourceOf(conn('/ip6/2001:db8:0:1:aaaa::1/tcp/1')), '2001:db8:0:1::/64');
  assert.is(sourceOf(conn('/ip6/2001:db8:0:1:bbbb:1:2:3/tcp/1')), '2001:db8:0:1::/64');
  assert.is(sourceOf(conn('/ip6/2001:db8:0:2::1/tcp/1')), '2001:db8:0:2::/64');
  assert.is(sourceOf(conn('/ip6/fe80::1/tcp/1')), 'fe80:0:0:0::/64');
  assert.is(sourceOf(conn('/ip6/::1/tcp/1')), '0:0:0:0::/64');
  assert.is(sourceOf(conn('/ip6/::ffff:10.0.0.3/tcp/1')), '10.0.0.3');
  assert.is(sourceOf(conn('/ip6/::ffff:c0a8:107/tcp/1')), '192.168.1.7');
  assert.is(sourceOf({ remoteAddr: { nodeAddress: () => ({ family: 6, address: '::ffff:10.1.2.3', port: 1 }) } } as never), '10.1.2.3');
  const p = new InboundPending({ total: 8, perSource: 2 });
  assert.not.ok(p.refuse(conn('/ip6/2001:db8::1/tcp/1')));
  assert.not.ok(p.refuse(conn('/ip6/2001:db8::2/tcp/1')));
  assert.ok(p.refuse(conn('/ip6/2001:db8::3/tcp/1')), 'one /64 is one source');
  assert.not.ok(p.refuse(conn('/ip6/2001:db8:0:1::3/tcp/1')));
});

test.run();
