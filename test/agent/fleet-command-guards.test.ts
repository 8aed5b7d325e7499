// Operator commands obey the healing loop's safety rules: a whole agent on a simulated mesh
// (virtual time, the SPLIT_DIAMOND of the healing tests), telemetry to a real mosquitto, commands
// signed with an operator certificate. Each rule is met by a real signed `run-action`: dry run,
// healing.allow_reboot, one disruptive action at a time, cool-downs, the hourly limit; and the
// targeted forms KIND/IFNAME[/NEIGHBOUR]. What ran is read from the simulated host's command log.
// The loop's own plan is held back by the boot grace (uptime 0), which an operator's command does
// not wait for, so every action here is the operator's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signCommand } from '../../src/telemetry/command-envelope.ts';
import type { ReplyPayload } from '../../src/telemetry/payloads.ts';
import { simAgent } from '../mapek/sim-agent.ts';
import { Mosquitto } from '../telemetry/mosquitto.ts';
import { TestPki } from '../telemetry/pki.ts';
import { exitIfStuck, Subscriber, until } from '../telemetry/subscriber.ts';

const dir = mkdtempSync(join(tmpdir(), 'x0-cmd-guards-'));
const pki = new TestPki(dir);
const ca = pki.issue('fleet-ca', { ca: true });
const ops = pki.issue('ops', { issuer: ca, keyType: 'ed25519', san: 'URI:spiffe://lab.x0tta6bl4/operator/ops' });
copyFileSync(ca.certFile, join(dir, 'fleet-ca.pem'));

let broker: Mosquitto;
let sub: Subscriber;
let s: Awaited<ReturnType<typeof simAgent>>;

test.before(async () => {
  broker = await Mosquitto.start();
  sub = await Subscriber.connect(broker.url, ['x0tta6bl4/lab/n1/cmd/+/reply', 'x0tta6bl4/lab/n1/state']);
  s = await simAgent({
    uptimeMs: () => 0,
    configure: (c) => {
      c.agent.fleet = 'lab';
      c.agent.stateDir = dir;
      c.healing.bootGraceS = 3600;
      c.healing.maxDisruptivePerHour = 3;
      c.healing.cooldownS = 20;
      c.healing.allowReboot = false;
      c.telemetry = { ...c.telemetry, enabled: true, broker: broker.url, intervalS: 5 };
    },
  });
  await until(() => s.agent.healthBoard.get('telemetry')?.state === 'ok', 'telemetry ok');
  await until(() => sub.on('x0tta6bl4/lab/n1/state').length > 0, 'online state (command subscription in place)');
});

test.after(async () => {
  await s?.agent.stop().catch(() => {});
  sub?.client.end(true);
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
  exitIfStuck('fleet-command-guards.test.ts');
});

async function send(cmd: string, args: string[] = []): Promise<ReplyPayload> {
  const topic = `x0tta6bl4/lab/n1/cmd/${cmd}/reply`;
  const before = sub.on(topic).length;
  const env = signCommand({ fleet: 'lab', node: 'n1', cmd, args, key: ops.keyPem, cert: ops.certPem });
  await sub.client.publishAsync(`x0tta6bl4/lab/n1/cmd/${cmd}`, JSON.stringify(env), { qos: 1 });
  await until(() => sub.on(topic).length > before, `a reply to ${cmd} ${args.join(' ')}`);
  const r = sub.json<ReplyPayload>(topic)[before]!;
  assert.is(r.nonce, env.nonce);
  return r;
}
const ran = (what: string) => s.host.log.filter((argv) => argv.join(' ').includes(what)).length;
const action = (spec: string) => send('run-action', [spec]);

test('dry run: the action is planned and reported, nothing runs', async () => {
  assert.ok((await send('dry-run', ['on'])).ok);
  const r = await action('restart-interface/mesh0');
  assert.ok(r.ok, r.error);
  assert.equal((r.result as { dryRun: boolean; target: unknown }).dryRun, true);
  assert.equal((r.result as { target: unknown }).target, { ifname: 'mesh0' });
  const reboot = await action('reboot');
  assert.is(reboot.code, 'disabled', 'a dry run still says what would be refused');
  assert.equal(s.host.log, [], 'no host command ran');
  assert.is(s.journal().at(-1)!.state, 'dry-run');
  assert.ok(s.events().some((e) => e.message.startsWith('dry run: would restart interface mesh0')));
  assert.ok((await send('dry-run', ['off'])).ok);
});

test('healing.allow_reboot 0: run-action reboot is refused as disabled, and nothing reboots', async () => {
  const r = await action('reboot');
  assert.is(r.ok, false);
  assert.is(r.code, 'disabled');
  assert.match(r.error ?? '', 'reboot is off (healing.allow_reboot)');
  assert.is(s.host.reboots, 0);
});

test('one disruptive action at a time, cool-downs per target, and the hourly limit of 3', async () => {
  const first = await action('restart-interface/mesh0');
  assert.ok(first.ok, first.error);
  assert.is((first.result as { state: string }).state, 'verifying', 'the dry run before it does not count as its cool-down');
  assert.is(ran('ip link set dev mesh0 down'), 1);

  const meanwhile = await action('restart-interface/mesh1');
  assert.is(meanwhile.code, 'busy');
  assert.match(meanwhile.error ?? '', 'another disruptive action is in progress');

  await s.run(11_000); // the first is verified
  const again = await action('restart-interface/mesh0');
  assert.is(again.code, 'busy');
  assert.match(again.error ?? '', /^cool-down: restart-interface ran 1\d s ago \(cool-down 20 s\)/);

  const second = await action('restart-interface/mesh1');
  assert.ok(second.ok, second.error);
  await s.run(11_000);
  const third = await action('restart-interface/mesh0'); // 22 s after the first: past its cool-down
  assert.ok(third.ok, third.error);
  await s.run(11_000);
  const fourth = await action('restart-interface/mesh1');
  assert.is(fourth.ok, false);
  assert.is(fourth.code, 'busy');
  assert.match(fourth.error ?? '', 'hourly limit of 3 disruptive actions reached');
  assert.is(ran('ip link set dev mesh1 down'), 1, 'the fourth did not run');
  assert.is(ran('ip link set dev mesh0 down'), 2);
  const forced = s.journal().filter((e) => e.reason === 'operator command over MQTT' && e.state !== 'dry-run');
  assert.equal(forced.map((e) => [e.action, e.target.ifname]), [['restart-interface', 'mesh0'], ['restart-interface', 'mesh1'], ['restart-interface', 'mesh0']]);
});

test('targeted forms: KIND/IFNAME/NEIGHBOUR runs on that neighbour; wrong or missing targets are bad-args', async () => {
  const mac = s.world.macOf(1, 'mesh0');
  const q = await action(`quarantine/mesh0/${mac.toUpperCase()}`);
  assert.ok(q.ok, q.error);
  assert.equal((q.result as { target: unknown }).target, { ifname: 'mesh0', neighbour: mac });
  assert.ok(ran('nft') > 0, 'the quarantine ran');

  const cases: [string, RegExp | string][] = [
    ['quarantine/mesh0', 'quarantine takes a target: quarantine/IFNAME/NEIGHBOUR'],
    ['restart-interface', 'restart-interface takes a target: restart-interface/IFNAME'],
    ['orig-interval/mesh0', 'orig-interval takes no target'],
    ['restart-interface/bat0\u200b', "interface 'bat0\\u{200B}': contains a control or format character"],
    ['restart-interface/\u202eeth0', "interface '\\u{202E}eth0'"],
    ['restart-interface/..', "'..' is not allowed"],
    ['restart-interface/a-very-long-name0', '17 bytes'],
    ['quarantine/mesh0/ff:ff:ff:ff:ff:ff', 'not a unicast MAC'],
    ['quarantine/mesh0/02:00:00:00:00', 'not a unicast MAC'],
    ['quarantine/mesh0/02-00-00-00-00-01', 'not a unicast MAC'],
    ['quarantine/mesh0/02:00:00:00:00:01/x', 'has 4 parts'],
    ['format-flash/mesh0', "unknown action 'format-flash'"],
  ];
  const before = s.host.log.length;
  for (const [spec, why] of cases) {
    const r = await action(spec);
    assert.is(r.code, 'bad-args', `${spec}: ${r.error}`);
    assert.match(r.error ?? '', why);
  }
  assert.is(s.host.log.length, before, 'none of them ran anything');
});

test.run();
