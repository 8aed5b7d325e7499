// `x0tta6bl4 mesh` end to end over the stand-in kernel (fake-batadv-kernel.ts; the host has no
// batman-adv): the command, the driver, the client and the codec together. Expected rows are
// written out in batctl's formats by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError, UserError, type CliContext } from '../../src/cli/command.ts';
import { createMeshCommand } from '../../src/cli/commands/mesh.ts';
import { BatadvClient } from '../../src/netlink/batadv-client.ts';
import { NetlinkRequester } from '../../src/netlink/requester.ts';
import { RtnetlinkClient } from '../../src/netlink/rtnetlink.ts';
import { BatmanDriver } from '../../src/mesh/batman/batman-driver.ts';
import { parseBandwidthPair, parseBool, parseKbps, SettingSyntaxError } from '../../src/mesh/batman/batctl-settings.ts';
import { FakeBatadvKernel } from './fake-batadv-kernel.ts';

function setup(kernel = new FakeBatadvKernel()) {
  const opened: string[] = [];
  const cmd = createMeshCommand(async (meshIfname) => {
    opened.push(meshIfname);
    return new BatmanDriver({
      meshIfname,
      batadv: await BatadvClient.open(kernel.genl, { timeoutMs: 500 }),
      links: new RtnetlinkClient(new NetlinkRequester(kernel.route, { timeoutMs: 500 })),
    });
  });
  const run = async (positionals: string[], flags: CliContext['flags'] = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await cmd.run({ flags: { meshif: 'bat0', ...flags }, positionals, io: { out: (t) => out.push(t), err: (t) => err.push(t) }, stopSignal: new Promise(() => {}) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  return { kernel, cmd, run, opened };
}

async function throwsAs(p: Promise<unknown>, cls: new (...a: never[]) => Error, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof cls, `${String(e)} is not a ${cls.name}`);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable('expected an error');
}

test('originators (BATMAN_IV) in batctl o format, with info and header lines; -H drops them', async () => {
  const { kernel, run } = setup();
  kernel.originators = [
    { orig: '02:00:00:00:00:03', neigh: '02:00:00:00:00:0a', ifindex: 2, ifname: 'eth0', lastSeen: 1230, best: true, metric: 225 },
    { orig: '02:00:00:00:00:03', neigh: '02:00:00:00:00:0b', ifindex: 2, ifname: 'eth0', lastSeen: 45, metric: 99 },
  ];
  const r = await run(['originators']);
  assert.is(r.code, 0);
  assert.equal(r.out.split('\n'), [
    '[B.A.T.M.A.N. adv 2022.3, MainIF: eth0 (bat0/02:00:00:00:00:05 BATMAN_IV)]',
    '   Originator        last-seen (#/255) Nexthop           [outgoingIF]',
    ' * 02:00:00:00:00:03    1.230s   (225) 02:00:00:00:00:0a [      eth0]',
    '   02:00:00:00:00:03    0.045s   ( 99) 02:00:00:00:00:0b [      eth0]',
  ]);
  const h = await run(['o'], { header: false });
  assert.is(h.out.split('\n').length, 2);
  assert.ok(h.out.startsWith(' * 02:00:00:00:00:03'));
});

test('BATMAN_V: neighbours and gateways show throughput as batctl does (Mbit/s, one decimal)', async () => {
  const { kernel, run } = setup();
  kernel.algo = 'BATMAN_V';
  kernel.neighbours = [{ neigh: '02:00:00:00:00:0a', ifindex: 2, lastSeen: 310, throughput: 54_321 }];
  kernel.gateways = [{ orig: '02:00:00:00:00:03', router: '02:00:00:00:00:0a', ifname: 'eth0', ifindex: 2, best: true, down: 100, up: 20, metric: 543 }];
  const n = await run(['n'], { header: false });
  assert.is(n.out, '02:00:00:00:00:0a    0.310s (       54.3) [      eth0]');
  const g = await run(['gwl']);
  assert.equal(g.out.split('\n').slice(1), [
    '  Router            ( throughput) Next Hop          [outgoingIf]  Bandwidth',
    '* 02:00:00:00:00:03 (       54.3) 02:00:00:00:00:0a [      eth0]: 10.0/2.0 MBit',
  ]);
});

test('interfaces like batctl if; --json prints the model objects', async () => {
  const { run } = setup();
  assert.is((await run(['if'])).out, 'eth0: active');
  const j = JSON.parse((await run(['interfaces'], { json: true })).out);
  assert.equal(j, [{ ifname: 'eth0', ifindex: 2, address: '02:00:00:00:00:02', active: true, hopPenalty: 0 }]);
});

test('settings by batctl names', async () => {
  const { run } = setup();
  const lines = (await run(['settings'])).out.split('\n');
  assert.ok(lines.includes('aggregation            enabled'));
  assert.ok(lines.includes('gw_bandwidth           10000/2000 kbit/s (10.0/2.0 MBit)'));
  assert.ok(lines.includes('isolation_mark         0x00000000/0x00000000'));
  assert.ok(lines.includes('orig_interval          1000'));
  assert.is(lines.length, 15);
});

test('mesh set writes, prints the read-back; batctl value forms work', async () => {
  const { kernel, run } = setup();
  let r = await run(['set', 'hop_penalty', '60']);
  assert.equal([r.code, r.out], [0, 'hop_penalty: 60']);
  r = await run(['set', 'gw_mode', 'server', '50mbit/10mbit']);
  assert.equal([r.code, r.out], [0, 'gw_mode: server']);
  assert.equal([kernel.settings.get(51), kernel.settings.get(49), kernel.settings.get(50)], [2, 500, 100]);
  r = await run(['set', 'gw_bandwidth', '20000']);
  assert.is(r.out, 'gw_bandwidth: 20000/4000 kbit/s (20.0/4.0 MBit)');
  r = await run(['set', 'bl', 'disable']);
  assert.is(r.out, 'bridge_loop_avoidance: disabled');
  r = await run(['set', 'hop_penalty', '15'], { hardif: 'eth0' });
  assert.equal([r.code, r.out], [0, 'eth0 hop_penalty: 15']);
});

test('mesh set: when the kernel keeps another value, exit 1 and say so', async () => {
  const { kernel, run } = setup();
  // A kernel that ignores GW_SEL_CLASS (as batman-adv does when the value is out of range).
  const respond = kernel.genl.respond;
  kernel.genl.respond = (r) => {
    if (r.type === 0x1c && r.payload[0] === 15) kernel.settings.set(52, 20);
    const out = respond(r);
    kernel.settings.set(52, 20);
    return out;
  };
  const r = await run(['set', 'gw_sel_class', '300']);
  assert.is(r.code, 1);
  assert.is(r.out, 'gw_sel_class: 20');
  assert.match(r.err, /kernel kept gwSelClass = 20, not 300/);
});

test('usage errors (exit 2) before any netlink traffic; kernel refusals as user errors (exit 1)', async () => {
  const { kernel, run, opened } = setup();
  await throwsAs(run([]), UsageError, /needs what to show/);
  await throwsAs(run(['routes']), UsageError, /unknown mesh table 'routes'/);
  await throwsAs(run(['set', 'hop_penalty']), UsageError, /needs a value/);
  await throwsAs(run(['set', 'hop_penalty', '256']), UsageError, /0 to 255/);
  await throwsAs(run(['set', 'bonding', 'maybe']), UsageError, /enable or disable/);
  await throwsAs(run(['set', 'warp_speed', '9']), UsageError, /unknown mesh setting 'warp_speed'/);
  await throwsAs(run(['set', 'elp_interval', '100']), UsageError, /unknown mesh setting/);
  await throwsAs(run(['o', 'extra']), UsageError, /takes no arguments/);
  await throwsAs(run(['o'], { meshif: 'bad name' }), UsageError, /not an interface name/);
  assert.equal(opened, [], 'nothing was opened for a usage error');
  // Validation in the driver (a bandwidth not in 100 kbit/s steps) and the kernel's own refusals.
  await throwsAs(run(['set', 'gw_bandwidth', '10050']), UserError, /multiple of 100 kbit\/s/);
  kernel.primaryActive = false;
  await throwsAs(run(['originators']), UserError, /no active primary interface \(ENOENT in NLMSG_DONE\)/);
  await throwsAs(run(['n'], { meshif: 'bat7' }), UserError, /bat7: no such interface/);
  kernel.refuse.set(15, 1);
  await throwsAs(run(['set', 'bonding', '1']), UserError, /permission denied/);
  assert.equal(kernel.genl.listenerCount, 0, 'every driver was closed');
});

test('value parsers: units, pairs, booleans', () => {
  assert.is(parseKbps('10mbit', 'k'), 10_000);
  assert.is(parseKbps('1.5Mbit/s', 'k'), 1_500);
  assert.is(parseKbps('500', 'k'), 500);
  assert.is(parseKbps('1gbit', 'k'), 1_000_000);
  assert.equal(parseBandwidthPair('10mbit', 'k'), { down: 10_000, up: 2_000 });
  assert.equal(parseBandwidthPair('100000/5000', 'k'), { down: 100_000, up: 5_000 });
  assert.ok(parseBool('Enabled', 'k'));
  assert.not.ok(parseBool('0', 'k'));
  assert.throws(() => parseKbps('fast', 'k'), (e: unknown) => e instanceof SettingSyntaxError);
  assert.throws(() => parseBandwidthPair('1/2/3', 'k'), (e: unknown) => e instanceof SettingSyntaxError);
});

test.run();
