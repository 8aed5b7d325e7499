// The optional reachability probe of the selected gateway: batctl ping's output read right, the
// command line built only from a MAC and an interface name, and in the loop (simulator): a
// gateway whose OGMs still arrive but which stops answering becomes "gateway lost", with the
// probe as evidence, and the gateway is re-elected.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { batctlPingProbe, parseBatctlPing, type ProbeResult } from '../../src/mapek/gateway-probe.ts';
import { Healer } from '../../src/mapek/healer.ts';
import { Knowledge } from '../../src/mapek/knowledge.ts';
import { Monitor } from '../../src/mapek/monitor.ts';
import { HealthBoard } from '../../src/agent/health.ts';
import { silentLogger } from '../../src/agent/logger.ts';
import { IDEAL_LINK_MODEL, SimulatedMesh } from '../../src/mesh/simulator/index.ts';
import { simulatedHost } from '../../src/mapek/sim-host.ts';
import { SPLIT_DIAMOND } from './sim-agent.ts';

const OK = 'PING 02:00:00:00:04:02 (02:00:00:00:04:02) 20(48) bytes of data\n20 bytes from 02:00:00:00:04:02 icmp_seq=1 ttl=49 time=0.52 ms\n20 bytes from 02:00:00:00:04:02 icmp_seq=2 ttl=49 time=0.48 ms\n--- 02:00:00:00:04:02 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss\nrtt min/avg/max/mdev = 0.480/0.500/0.520/0.020 ms\n';
const LOST = 'PING 02:00:00:00:04:02 (02:00:00:00:04:02) 20(48) bytes of data\nReply from host 02:00:00:00:04:02 timed out\nReply from host 02:00:00:00:04:02 timed out\n--- 02:00:00:00:04:02 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss\n';

test('batctl ping output: replies, losses, errors', () => {
  assert.equal(parseBatctlPing(OK, '', 0), { ok: true, rttMs: 0.5, detail: '2/2 replies' });
  assert.equal(parseBatctlPing(LOST, '', 1), { ok: false, rttMs: null, detail: '0/2 replies' });
  assert.equal(parseBatctlPing('', 'Error - mesh has not been enabled yet\n', 1), { ok: false, rttMs: null, detail: 'batctl ping exited 1: Error - mesh has not been enabled yet' });
});

test('the command line holds only a MAC and an interface name', async () => {
  const seen: string[][] = [];
  const probe = batctlPingProbe(async (argv) => (seen.push(argv), { code: 0, stdout: OK, stderr: '' }), 'bat0');
  assert.is((await probe('02:00:00:00:04:02')).ok, true);
  assert.equal(seen[0], ['batctl', 'meshif', 'bat0', 'ping', '-c', '2', '-t', '1', '02:00:00:00:04:02']);
  assert.match((await probe('02:00:00:00:04:02; reboot')).detail, 'not a MAC address');
  assert.match((await batctlPingProbe(async () => ({ code: 0, stdout: OK, stderr: '' }), 'bat0 -x')('02:00:00:00:04:02')).detail, 'not an interface name');
  assert.is(seen.length, 1);
});

test('a gateway that stops answering the probe (its OGMs still arriving) is lost; re-elected', async () => {
  const world = new SimulatedMesh({ seed: 3, topology: SPLIT_DIAMOND, linkModel: IDEAL_LINK_MODEL, nodeNames: ['n1', 'n2', 'n3', 'n4'], settings: (n) => ({ gwMode: n === 3 ? 'server' : 'client' }) });
  world.step(90_000);
  const knowledge = new Knowledge();
  const host = simulatedHost(world, 0);
  let answering = true;
  const probed: string[] = [];
  const healer = new Healer({
    driver: world.driver(0), run: host.run, sleep: host.sleep, knowledge, log: silentLogger, now: () => world.nowMs,
    uptimeMs: () => 3_600_000, random: () => 0, score: null, journalPath: null,
    plan: { dryRun: false, bootGraceMs: 0, startupJitterMs: 0, maxDisruptivePerHour: 3, allowReboot: false, cooldownMs: {}, defaultCooldownMs: 120_000 },
    execute: { verifyWindowMs: 10_000, holdMs: 60_000, quarantineMs: 60_000 },
    gatewayProbe: { everyMs: 5000, probe: async (o): Promise<ProbeResult> => (probed.push(o), answering ? { ok: true, rttMs: 1, detail: '2/2 replies' } : { ok: false, rttMs: null, detail: '0/2 replies' }) },
  });
  const monitor = new Monitor(world.driver(0), knowledge, new HealthBoard('n1'), silentLogger, { intervalMs: 1000, now: () => world.nowMs, afterPoll: () => healer.step() });
  await healer.start();
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 1000) {
      world.step(1000);
      await monitor.pollOnce();
      await new Promise((r) => setImmediate(r)); // let a probe finish
    }
  };
  await run(12_000);
  const gw = world.macOf(3, world.ifnames[world.engine.primary[3]! % world.ifnames.length]!);
  assert.ok(probed.length >= 2 && probed.every((o) => o === gw), JSON.stringify(probed));
  assert.is(healer.status().gatewayProbe!.ok, true);
  assert.is(healer.connectivity!.gateway, 'ok');
  answering = false;
  await run(12_000);
  const lost = healer.findings.find((f) => f.kind === 'gateway-lost');
  assert.ok(lost, JSON.stringify(healer.findings));
  assert.match(lost.message, 'does not answer probes (0/2 replies)');
  assert.ok(Number(lost.evidence.probeFailures) >= 2);
  assert.is(healer.connectivity!.gateway, 'lost');
  await run(12_000);
  assert.ok(healer.journal.all().some((e) => e.action === 'gateway-reselect' && e.finding === 'gateway-lost'), JSON.stringify(healer.journal.all().map((e) => [e.action, e.finding])));
  answering = true;
  await run(12_000);
  assert.is(healer.connectivity!.gateway, 'ok', 'answers again: no longer lost');
  await healer.stop();
});

test.run();
