// restart-interface on a Wi-Fi hard interface (src/mapek/actions/restart-interface.ts): never
// taken down — it would leave its 802.11s mesh, which only the system's own tools join again
// (bench:heal --substrate wifi saw every node's radio leave the mesh that way). A non-primary one
// is only taken out of bat0 and put back; the primary one is refused. The driver and the command
// runner are stand-ins recording what would run (the real commands run in the VM tests:
// test/guest/heal-restart.guest.ts for veth).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { restartInterface } from '../../src/mapek/actions/restart-interface.ts';
import { ActionError } from '../../src/mapek/actions/action.ts';
import { standInContext } from './action-stand-in.ts';

const context = (wireless: boolean | null) => standInContext({
  hardifs: [{ ifname: 'wlan0', active: true, hopPenalty: 0 }, { ifname: 'wlan1', active: true, hopPenalty: 10 }],
  ...(wireless === null ? {} : { wireless }),
});

test('a non-primary Wi-Fi interface: out of bat0 and back in, never down', async () => {
  const { ctx, ran } = context(true);
  const state = await restartInterface.prepare(ctx, { ifname: 'wlan1' });
  assert.equal(state?.master, 'bat0');
  await restartInterface.apply(ctx, { ifname: 'wlan1' });
  assert.equal(ran, ['ip link set dev wlan1 nomaster', 'ip link set dev wlan1 master bat0']);
});

test('the primary Wi-Fi interface: refused, nothing run', async () => {
  const { ctx, ran } = context(true);
  try {
    await restartInterface.prepare(ctx, { ifname: 'wlan0' });
    assert.unreachable('prepare should refuse');
  } catch (e) {
    assert.instance(e, ActionError);
    assert.match((e as Error).message, /Wi-Fi interface and the mesh's primary one/);
  }
  assert.equal(ran, []);
});

test('a wired (or unknown) interface: down and up as before', async () => {
  for (const wireless of [false, null]) {
    const { ctx, ran } = context(wireless);
    await restartInterface.apply(ctx, { ifname: 'wlan1' });
    assert.equal(ran, ['ip link set dev wlan1 nomaster', 'ip link set dev wlan1 down', 'ip link set dev wlan1 up', 'ip link set dev wlan1 master bat0'], String(wireless));
  }
});

test.run();
