// Peer exchange through the signed fleet registry, on 127.0.0.1 with mDNS off: A knows only B,
// C knows only B. With peer exchange on, A and C learn each other's addresses from the registry
// entries B relays and connect; with it off they learn the same entries and never dial.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TestFleet, until } from './fleet-harness.ts';
import { startFederationWith } from '../../src/federation/federation.ts';
import type { Federation } from '../../src/federation/types.ts';

const fleet = new TestFleet('px');
const running: Federation[] = [];

async function trio(prefix: string, peerExchange: boolean): Promise<[Federation, Federation, Federation]> {
  const start = async (name: string, peers: string[]) => {
    const f = await startFederationWith({ ...(await fleet.prepare(`${prefix}${name}`)).settings, peers, peerExchange });
    running.push(f);
    return f;
  };
  const b = await start('b', []);
  const [a, c] = await Promise.all([start('a', b.addresses()), start('c', b.addresses())]);
  return [a, b, c];
}

const knows = (f: Federation, g: Federation) => f.fleet.nodes().some((n) => n.peerId === g.peerId);
const connected = (f: Federation, g: Federation) => f.peers().some((p) => p.peerId === g.peerId);

test.after(async () => {
  await Promise.all(running.map((f) => f.stop()));
});

test('peer exchange on: A and C, introduced only through B, connect and admit each other', async () => {
  const [a, b, c] = await trio('on-', true);
  await until('B admitted A and C', () => connected(b, a) && connected(b, c));
  await until('A and C connected', () => connected(a, c) && connected(c, a));
  assert.ok(a.metrics().peerExchangeDials + c.metrics().peerExchangeDials >= 1);
  // What A had to dial with: the listen address C put in its signed registry entry.
  const entry = a.fleet.nodes().find((n) => n.peerId === c.peerId)!;
  assert.ok(c.addresses().some((x) => entry.addrs.includes(x)), `${entry.addrs} vs ${c.addresses()}`);
});

test('peer exchange off: A and C learn each other from the registry but never dial', async () => {
  const [a, b, c] = await trio('off-', false);
  await until('B admitted A and C', () => connected(b, a) && connected(b, c));
  // The moment a registry entry arrives is the moment peer exchange would dial (synchronously).
  await until('A and C know each other from the registry', () => knows(a, c) && knows(c, a));
  assert.is(a.metrics().peerExchangeDials, 0);
  assert.is(c.metrics().peerExchangeDials, 0);
  assert.not.ok(connected(a, c) || connected(c, a), 'A and C connected without peer exchange');
});

test.run();
