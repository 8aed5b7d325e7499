// mDNS discovery bound to the mesh interface, with real sockets in network namespaces (root).
//
//        ns A                       ns H (bridge br0, the "mesh")           ns B
//   mesh0 10.77.0.1/24  ──veth──  ha ─ br0 ─ hb  ──veth──  mesh0 10.77.0.2/24
//   other0 10.88.0.1/24 ──veth──  lan0 10.88.0.3/24  (ns C, a node whose mesh is that link)
//
// A and B have no static peers: they must find each other by mDNS on mesh0 and be admitted.
// C runs discovery on the A–C link, and a umdns stand-in in A has joined the mDNS group on
// other0, so C's packets do reach A's socket: A must drop them unparsed (counted as foreign)
// and never find C; a listener on C's side must never hear A (A sends only on mesh0).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TestFleet } from './fleet-harness.ts';
import { missingForNetns, Namespaces, NsNode, sh, Sniffer, waitFor, type NodeReport } from './ns-harness.ts';
import { decodePacket, encodeResponse } from '../../src/federation/mdns-packet.ts';
import { serviceName } from '../../src/federation/mesh-discovery.ts';

const missing = missingForNetns();
if (missing.length && process.env.CI === 'true') throw new Error(`mdns-netns needs ${missing.join(', ')} in CI`);

const nss = new Namespaces(`x0m${process.pid % 100000}`);
const fleet = new TestFleet('mdns');
let a: NsNode, b: NsNode, c: NsNode;
let sniffA: Sniffer, sniffB: Sniffer, sniffC: Sniffer;
const found = (r: NodeReport, id: string) => r.discovery?.peers.some((p) => p.peerId === id) ?? false;

async function startNode(short: string, ifname: string) {
  const p = await fleet.prepare(short);
  return NsNode.start(nss, short, {
    ...p.settings,
    nodeName: short,
    // 0.0.0.0: the node has addresses on every interface, and only the mesh ones may be announced.
    listen: ['/ip4/0.0.0.0/tcp/4001'],
    peers: [],
    mdns: true,
    mdnsInterface: ifname,
    mdnsIntervalMs: 1000,
    inboundPerHostPerSecond: 5,
  });
}

if (missing.length) {
  test(`mDNS in network namespaces (skipped outside CI: no ${missing.join(', ')})`, () => {});
} else {
  test.before(async () => {
    for (const n of ['H', 'A', 'B', 'C', 'D']) nss.add(n);
    nss.bridge('H');
    nss.link('A', 'mesh0', '10.77.0.1/24', 'H', 'ha', null, 'br0');
    nss.link('B', 'mesh0', '10.77.0.2/24', 'H', 'hb', null, 'br0');
    nss.link('A', 'other0', '10.88.0.1/24', 'C', 'lan0', '10.88.0.3/24');
    nss.link('D', 'mesh0', null, 'H', 'hd', null, 'br0'); // D's mesh interface gets its address later
    sniffA = await Sniffer.start(nss, 'A', '10.88.0.1'); // the umdns stand-in on A's other link
    sniffB = await Sniffer.start(nss, 'B', '10.77.0.2'); // what goes over the mesh
    sniffC = await Sniffer.start(nss, 'C', '10.88.0.3');
    [a, b, c] = await Promise.all([startNode('A', 'mesh0'), startNode('B', 'mesh0'), startNode('C', 'lan0')]);
  });

  test.after(async () => {
    await nss.cleanup();
  });

  test('A and B find each other by mDNS on the mesh link alone, and admit each other', async () => {
    assert.is(a.first.discovery?.ifname, 'mesh0');
    await waitFor('A admitted B', () => a.report(), (r) => r.peers.includes(b.first.peerId));
    await waitFor('B admitted A', () => b.report(), (r) => r.peers.includes(a.first.peerId));
    const ra = await waitFor('A found B by mDNS', () => a.report(), (r) => found(r, b.first.peerId));
    const rb = await waitFor('B found A by mDNS', () => b.report(), (r) => found(r, a.first.peerId));
    assert.is(ra.discovery!.state, 'running');
    assert.is(ra.discovery!.address, '10.77.0.1');
    assert.equal(ra.discovery!.announcing, [`/ip4/10.77.0.1/tcp/4001/p2p/${a.first.peerId}`]);
    // A listens on every address (10.77.0.1, 10.88.0.1, 127.0.0.1); it announced the mesh one only.
    assert.ok(a.first.addresses.some((x) => x.startsWith('/ip4/10.88.0.1/')), `A listens on other0 too: ${a.first.addresses}`);
    assert.ok(rb.discovery!.peers.find((p) => p.peerId === a.first.peerId)!.addrs.length > 0);
    // What A put on the wire (B would drop off-link addresses anyway, so look at the packets).
    const answers = sniffB.packets.filter((p) => p.from === '10.77.0.1').map((p) => decodePacket(p.data)).filter((p) => p.response);
    assert.ok(answers.length > 0, 'no answer from A seen on the mesh');
    for (const ans of answers)
      for (const r of ans.records)
        for (const t of Array.isArray(r.data) ? r.data : []) assert.match(t, /^dnsaddr=\/ip4\/10\.77\.0\.1\/tcp\/4001\/p2p\//);
  });

  test('one query per period on the link: a node that just heard another ask stays quiet', async () => {
    const quiet = async () => {
      const [ra, rb] = await Promise.all([a.report(), b.report()]);
      return { a: ra.discovery!, b: rb.discovery! };
    };
    const r = await waitFor('queries suppressed', quiet, (x) => x.a.queriesSuppressed + x.b.queriesSuppressed >= 3);
    // Whoever asks, the other still answers, so both keep finding each other.
    assert.ok(r.a.answersSent > 0 && r.b.answersSent > 0);
  });

  test('a node on another interface is neither heard nor answered: A ignores C, C never hears A', async () => {
    // C's packets reach ns A (the stand-in joined the group on other0, so A's socket gets them too) ...
    await waitFor('C heard in ns A', async () => sniffA.count('10.88.0.3'), (n) => n >= 3);
    const ra = await a.report();
    assert.ok((ra.discovery!.ignored.foreign ?? 0) >= 1, `A did not drop C's packets as foreign: ${JSON.stringify(ra.discovery!.ignored)}`);
    // ... and by the time A has put three more packets on the mesh, none of its packets left on other0.
    const onWire = (r: NodeReport) => r.discovery!.queriesSent + r.discovery!.answersSent;
    const sent = onWire(ra);
    const later = await waitFor('A sent three more packets on the mesh', () => a.report(), (r) => onWire(r) >= sent + 3);
    assert.ok(sniffC.count('10.88.0.3') > 0, 'the listener on C hears C (it works)');
    assert.is(sniffC.count('10.88.0.1'), 0, 'A sent mDNS out of other0');
    const rc = await c.report();
    assert.is(rc.discovery!.state, 'running');
    assert.not.ok(found(later, c.first.peerId), 'A discovered C');
    assert.not.ok(later.peers.includes(c.first.peerId));
    assert.equal(rc.discovery!.peers, [], 'C discovered someone');
    assert.equal(rc.peers, []);
    assert.is(rc.discovery!.ignored.no_address ?? 0, 0, 'C received an answer from A');
  });

  test('malformed, oversize and off-link answers on the mesh are ignored without harm', async () => {
    const before = (await a.report()).discovery!;
    const svc = serviceName('test');
    // An answer for a made-up peer whose addresses are off the mesh: must not be dialled.
    const fake = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
    const offLink = encodeResponse(svc, `${fake}.${svc}`, [`dnsaddr=/ip4/8.8.8.8/tcp/4001/p2p/${fake}`, `dnsaddr=/ip4/10.88.0.3/tcp/4001/p2p/${fake}`]);
    const send = (hex: string) =>
      `const s=require('dgram').createSocket('udp4');s.bind(()=>{s.setMulticastInterface('10.77.0.2');s.send(Buffer.from('${hex}','hex'),5353,'224.0.0.251',()=>s.close())});`;
    nss.nodeEval('B', send('00000000000100'.padEnd(40, 'f'))); // header says one question, then garbage
    nss.nodeEval('B', send(Buffer.alloc(5000, 1).toString('hex')));
    nss.nodeEval('B', send(offLink.toString('hex')));
    const after = await waitFor(
      'A counted the bad packets',
      () => a.report(),
      (r) => (r.discovery!.ignored.malformed ?? 0) > (before.ignored.malformed ?? 0) && (r.discovery!.ignored.oversize ?? 0) > (before.ignored.oversize ?? 0) && (r.discovery!.ignored.no_address ?? 0) > (before.ignored.no_address ?? 0),
    );
    assert.not.ok(found(after, fake));
    // Still working: B is still found (its answers keep coming).
    const seen = after.discovery!.peers.find((p) => p.peerId === b.first.peerId)!.lastSeen;
    await waitFor('A hears B again', () => a.report(), (r) => r.discovery!.peers.find((p) => p.peerId === b.first.peerId)!.lastSeen > seen);
  });

  test('a mesh interface without an IPv4 address: waiting, then running once it has one', async () => {
    const d = await startNode('D', 'mesh0');
    assert.is(d.first.discovery!.state, 'waiting');
    assert.match(d.first.discovery!.reason, /no IPv4 address/);
    assert.match(d.first.health.reason, /mDNS waiting: mesh0 has no IPv4 address/);
    sh(['ip', '-n', nss.name('D'), 'addr', 'add', '10.77.0.4/24', 'dev', 'mesh0']);
    const r = await waitFor('D admitted by A and B via mDNS', () => d.report(), (x) => x.peers.includes(a.first.peerId) && x.peers.includes(b.first.peerId));
    assert.is(r.discovery!.state, 'running');
    assert.is(r.discovery!.address, '10.77.0.4');
  });
}

test.run();
