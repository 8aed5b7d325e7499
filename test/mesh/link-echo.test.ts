// The link echo (src/mesh/link-echo.ts) over real UDP sockets on the loopback: two agents'
// echoes on two ports stand for two neighbours (link-local addresses need a real link: the
// kernel run is bench:heal's, where every agent asks its neighbours over the VM's links).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { answersFrom, LinkEcho, linkLocalOf, macOfLinkLocal, MEASURE_BURST, REPLIES_PER_S } from '../../src/mesh/link-echo.ts';

const base = 36_000 + Math.floor(Math.random() * 2000) * 2;
const loopback = () => '::1';

async function pair(): Promise<{ me: LinkEcho; peer: LinkEcho }> {
  const me = new LinkEcho({ port: base, peerPort: base + 1, addressOf: loopback });
  const peer = new LinkEcho({ port: base + 1, peerPort: base, addressOf: loopback });
  await me.start();
  await peer.start();
  return { me, peer };
}

test('modified EUI-64 link-local addresses, as Linux forms them', () => {
  // The U/L bit (0x02 of the first byte) flips and ff:fe goes in the middle (RFC 4291 A).
  assert.is(linkLocalOf('02:00:00:00:02:01'), 'fe80::ff:fe00:201');
  assert.is(linkLocalOf('00:11:22:33:44:55'), 'fe80::211:22ff:fe33:4455');
  assert.is(linkLocalOf('AA:BB:CC:DD:EE:FF'), 'fe80::a8bb:ccff:fedd:eeff');
  for (const bad of ['', '02:00:00:00:02', '02:00:00:00:02:01:03', 'zz:00:00:00:02:01', '02-00-00-00-02-01']) assert.is(linkLocalOf(bad), null, bad);
});

test('the MAC and interface of a neighbour\'s link-local address, the way back from linkLocalOf', () => {
  for (const mac of ['02:00:00:00:01:03', '00:11:22:33:44:55', 'aa:bb:cc:dd:ee:ff', '02:00:00:00:00:00']) {
    assert.equal(macOfLinkLocal(`${linkLocalOf(mac)}%v3-1`), { ifname: 'v3-1', mac }, mac);
  }
  // Not EUI-64 (no ff:fe), no scope, not link-local, a hostile scope: nothing.
  for (const a of ['fe80::1%v3-1', 'fe80::ff:fe00:103', 'fd00::ff:fe00:103%v3-1', 'fe80::ff:fe00:103%../../x', 'fe80::1:2:3:4:5%v3-1', '::1']) assert.is(macOfLinkLocal(a), null, a);
});

test('a burst of requests (a measurement) is reported once; a probe is not', async () => {
  const asked: string[] = [];
  const me = new LinkEcho({ port: base + 5, peerPort: base + 6, addressOf: () => '::1' });
  const peer = new LinkEcho({ port: base + 6, peerPort: base + 5, addressOf: () => '::1', onMeasured: (a) => asked.push(a) });
  await me.start();
  await peer.start();
  try {
    assert.is(await me.probe('v1-2', '02:00:00:00:02:01', { count: 4, spacingMs: 10, waitMs: 100 }), true);
    assert.is(await me.probe('v1-2', '02:00:00:00:02:01', { count: 4, spacingMs: 10, waitMs: 100 }), true);
    assert.equal(asked, [], 'probes (one answered request each) are no measurement');
    assert.is(await me.measure('v1-2', '02:00:00:00:02:01'), 1);
    assert.equal(asked, ['::1'], `one report for ${MEASURE_BURST}+ requests in a burst`);
  } finally {
    me.stop();
    peer.stop();
  }
});

test('a neighbour that answers: true; one that is gone: false; one that cannot be asked: null', async () => {
  const { me, peer } = await pair();
  try {
    assert.is(await me.probe('v1-2', '02:00:00:00:02:01'), true);
    assert.is(peer.stats.answered >= 1, true);
    peer.stop();
    const t0 = Date.now();
    assert.is(await me.probe('v1-2', '02:00:00:00:02:01'), false);
    // Four tries 40 ms apart, then 150 ms: a dead link is known within about a quarter second.
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    // Hostile interface names and MACs are refused before anything is sent.
    assert.is(await me.probe('v1-2; rm -rf /', '02:00:00:00:02:01'), null);
    assert.is(await me.probe('../../etc', '02:00:00:00:02:01'), null);
    const bySelf = new LinkEcho({ port: base + 2 });
    await bySelf.start();
    assert.is(await bySelf.probe('v1-2', 'not-a-mac'), null);
    bySelf.stop();
    me.stop();
    assert.is(await me.probe('v1-2', '02:00:00:00:02:01'), null, 'stopped: cannot ask');
  } finally {
    me.stop();
    peer.stop();
  }
});

test('only link-local (and loopback) sources are answered', () => {
  for (const a of ['fe80::ff:fe00:201%v1-2', 'FE80::1', 'febf::1%wlan0', '::1']) assert.ok(answersFrom(a), a);
  for (const a of ['fd00::2', '2001:db8::1', 'fec0::1', '::ffff:10.0.0.1', '10.0.0.1', '', 'fe80', '::']) assert.not.ok(answersFrom(a), a);
});

test('requests from beyond the link (not link-local) get no answer', async () => {
  // A global address of this host stands for the far side of a WAN: the echo must not answer it.
  const global = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv6' && !a.internal && !a.address.startsWith('fe80'))?.address;
  const peer = new LinkEcho({ port: base + 3 });
  await peer.start();
  const probe = new LinkEcho({ port: base + 4, peerPort: base + 3, addressOf: () => global ?? '::ffff:127.0.0.1' });
  await probe.start();
  try {
    assert.is(await probe.probe('v1-2', '02:00:00:00:02:01'), global ? false : null, `asked ${global ?? 'an IPv4-mapped address'}`);
    if (global) assert.is(peer.stats.ignored, 4);
  } finally {
    probe.stop();
    peer.stop();
  }
});

test('"I hear nothing from you": taken from a neighbour (once a second per address), ignored from beyond the link', async () => {
  const heard: string[] = [];
  const me = new LinkEcho({ port: base + 5, onDeaf: (a) => heard.push(a) });
  const teller = new LinkEcho({ port: base + 6, peerPort: base + 5, addressOf: loopback });
  const global = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv6' && !a.internal && !a.address.startsWith('fe80'))?.address;
  const far = new LinkEcho({ port: base + 7, peerPort: base + 5, addressOf: () => global ?? '::ffff:127.0.0.1' });
  await me.start();
  await teller.start();
  await far.start();
  try {
    teller.tellDeaf('v1-2', '02:00:00:00:02:01');
    teller.tellDeaf('v1-2', '02:00:00:00:02:01');
    if (global) far.tellDeaf('v1-2', '02:00:00:00:02:01');
    teller.tellDeaf('bad name!', '02:00:00:00:02:01'); // not sent at all
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(heard, ['::1'], 'six copies from one neighbour: one call');
    if (global) assert.is(me.stats.ignored, 3, `the three from ${global}`);
    await new Promise((r) => setTimeout(r, 1000));
    teller.tellDeaf('v1-2', '02:00:00:00:02:01');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(heard, ['::1', '::1'], 'a second later: heard again');
  } finally {
    me.stop();
    teller.stop();
    far.stop();
  }
});

test('a port already taken: start() says so and leaves nothing open', async () => {
  const { me, peer } = await pair();
  try {
    const second = new LinkEcho({ port: base });
    const err = await second.start().then(() => null, (e: Error) => e);
    assert.ok(err, 'start() must fail');
    assert.match(err.message, new RegExp(`cannot bind UDP port ${base}`));
    assert.is(await second.probe('v1-2', '02:00:00:00:02:01'), null);
  } finally {
    me.stop();
    peer.stop();
  }
});

test('hostile datagrams are ignored; floods get at most REPLIES_PER_S answers a second', async () => {
  const { me, peer } = await pair();
  const attacker = dgram.createSocket('udp6');
  let replies = 0;
  attacker.on('message', () => replies++);
  try {
    await new Promise<void>((r) => attacker.bind(0, '::1', () => r()));
    const send = (b: Buffer) => new Promise<void>((r) => attacker.send(b, base + 1, '::1', () => r()));
    const bad = [Buffer.alloc(0), Buffer.from('X0E'), Buffer.alloc(16), Buffer.alloc(17, 1), Buffer.concat([Buffer.from('X0E'), Buffer.from([9]), Buffer.alloc(12)]), Buffer.alloc(65_000, 0x41)];
    for (const b of bad) await send(b);
    const request = Buffer.concat([Buffer.from('X0E'), Buffer.from([1]), Buffer.alloc(12, 7)]);
    for (let i = 0; i < 3 * REPLIES_PER_S; i++) await send(request);
    await new Promise((r) => setTimeout(r, 300));
    assert.is(peer.stats.ignored, bad.length);
    assert.ok(replies >= 1, 'answers a well-formed request');
    // The burst came within well under a second: the bucket (REPLIES_PER_S) plus what refilled meanwhile.
    assert.ok(replies < 2 * REPLIES_PER_S, `${replies} replies to ${3 * REPLIES_PER_S} requests`);
    assert.ok(peer.stats.limited > 0, 'some were withheld');
    // Still answers a neighbour after the flood, once the bucket refilled.
    await new Promise((r) => setTimeout(r, 1100));
    assert.is(await me.probe('v1-2', '02:00:00:00:02:01'), true);
  } finally {
    attacker.close();
    me.stop();
    peer.stop();
  }
});

test.run();
