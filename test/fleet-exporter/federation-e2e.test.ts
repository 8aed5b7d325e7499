// End to end for the federation half of the fleet alerts: two whole agents with the federation
// and telemetry on (UCI terms, certificates from a test fleet CA, libp2p on loopback, simulated
// meshes: no batman-adv kernel here) publish snapshots to a real mosquitto; the exporter turns
// their `federation` field into x0tta6bl4_certificate_expiry_timestamp_seconds and
// x0tta6bl4_federation_quarantined_peers, which CertificateExpiring and PeerQuarantined read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '../../src/agent/agent.ts';
import { createAgent } from '../../src/agent/create-agent.ts';
import { defaultConfig } from '../../src/config/index.ts';
import { FleetExporter } from '../../src/fleet-exporter/exporter.ts';
import { SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import type { TelemetryPayload } from '../../src/telemetry/payloads.ts';
import { FLEET, TestFleet } from '../federation/fleet-harness.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { exitIfStuck, Subscriber } from '../telemetry/subscriber.ts';
import { parseProm, valueOf, type PromSample } from './prom-text.ts';

const DAY_S = 86_400;

test('a real agent\'s snapshot carries federation.certNotAfter and quarantinedPeers, and the exporter shows them', async () => {
  const broker = await Mosquitto.start();
  const exporter = new FleetExporter({ connect: { broker: broker.url }, fleet: FLEET, host: '127.0.0.1', port: 0, limits: { maxLinks: 32, staleS: 300, ttlS: 3600, maxNodes: 100 }, log: () => {} });
  const fleet = new TestFleet('fedexp');
  const world = new SimulatedMesh({ seed: 5, nodes: 2, topology: 'chain' });
  world.step(10_000);
  const agents: Agent[] = [];
  let sub: Subscriber | null = null;
  try {
    const url = await exporter.start();
    sub = await Subscriber.connect(broker.url, [`x0tta6bl4/${FLEET}/+/telemetry`]);
    // a's certificate expires in 10 days (CertificateExpiring: < 14), b's in 30.
    const a = await fleet.prepare('a', { days: 10 });
    await fleet.prepare('b', { days: 30 });
    const make = (name: string, i: number, peers: string[]) => {
      const c = defaultConfig();
      c.agent.nodeName = name;
      c.agent.fleet = FLEET;
      c.agent.stateDir = join(fleet.root, name);
      c.healing.enabled = false;
      c.status.socket = join(fleet.root, name, 'status.sock');
      c.federation.enabled = true;
      c.federation.listen = ['/ip4/127.0.0.1/tcp/0'];
      c.federation.peers = peers;
      c.federation.mdns = false;
      c.telemetry.enabled = true;
      c.telemetry.broker = broker.url;
      c.telemetry.intervalS = 5;
      return createAgent({ config: c, driver: world.driver(i) });
    };
    agents.push(make('a', 0, []));
    await agents[0]!.start();
    const addrA = ((agents[0]!.status().federation as { addresses?: string[] } | null)?.addresses ?? []).find((x) => x.includes('/tcp/'));
    assert.ok(addrA, 'a listens');
    agents.push(make('b', 1, [addrA!]));
    await agents[1]!.start();

    let s: PromSample[] = [];
    const deadline = Date.now() + 90_000;
    const have = (node: string) => valueOf(s, 'x0tta6bl4_certificate_expiry_timestamp_seconds', { node }) !== undefined && valueOf(s, 'x0tta6bl4_federation_quarantined_peers', { node }) !== undefined;
    while (!(have('a') && have('b'))) {
      if (Date.now() > deadline) throw new Error(`no federation series from both agents within 90 s:\n${s.filter((x) => x.name.includes('certificate') || x.name.includes('quarantined')).map((x) => JSON.stringify(x)).join('\n')}`);
      await new Promise((r) => setTimeout(r, 500));
      s = parseProm(await (await fetch(url)).text());
    }
    const now = Date.now() / 1000;
    const expiryA = valueOf(s, 'x0tta6bl4_certificate_expiry_timestamp_seconds', { fleet: FLEET, node: 'a' })!;
    const expiryB = valueOf(s, 'x0tta6bl4_certificate_expiry_timestamp_seconds', { fleet: FLEET, node: 'b' })!;
    assert.ok(Math.abs(expiryA - (now + 10 * DAY_S)) < DAY_S, `a expires ${(expiryA - now) / DAY_S} days from now, issued for 10`);
    assert.ok(Math.abs(expiryB - (now + 30 * DAY_S)) < DAY_S, `b expires ${(expiryB - now) / DAY_S} days from now, issued for 30`);
    assert.ok(expiryA - now < 14 * DAY_S && expiryB - now > 14 * DAY_S, 'CertificateExpiring (< 14 days) would hold for a only');
    assert.is(valueOf(s, 'x0tta6bl4_federation_quarantined_peers', { node: 'a' }), 0);
    assert.is(valueOf(s, 'x0tta6bl4_federation_quarantined_peers', { node: 'b' }), 0);

    // The wire document itself: the optional field, next to everything v1 already had.
    const snap = sub.json<TelemetryPayload>(`x0tta6bl4/${FLEET}/a/telemetry`).at(-1)!;
    assert.is(snap.v, 1);
    assert.type(snap.federation?.certNotAfter, 'string');
    assert.is(Date.parse(snap.federation!.certNotAfter!) / 1000, expiryA);
    assert.is(snap.federation?.quarantinedPeers, 0);
    assert.ok(snap.agent && snap.mesh && snap.health && snap.telemetry, 'the v1 fields are all still there');
    assert.is(a.settings.certFile, join(fleet.root, 'a', 'node-cert.pem'), 'the agent read the certificate the harness wrote');
  } finally {
    for (const x of agents) await x.stop().catch(() => {});
    await sub?.close();
    await exporter.stop();
    await broker.stop();
    rmSync(fleet.root, { recursive: true, force: true });
  }
});

test.after(() => exitIfStuck('test/fleet-exporter/federation-e2e.test.ts'));

test.run();
