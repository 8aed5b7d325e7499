// Boots Debian's kernel under QEMU once, builds the meshes below in network namespaces, runs
// the guest tests (test/guest/*.guest.ts) inside against the real batman-adv, and reports each
// guest script as a test here. Fails when the VM does not boot or any guest test fails. Without
// qemu or the kernel it skips loudly, except with CI=true, where that is a failure.
import { test } from 'uvu';
import type { VmStep } from '../../scripts/vm/job.ts';
import { chain, diamond, triangle } from '../../scripts/vm/topology.ts';
import { vmSuite } from './vm-suite.ts';

const STEPS: VmStep[] = [
  // First, while batman-adv is not loaded (and cannot be autoloaded).
  { name: 'no-module', modprobe: false, scripts: [{ path: 'test/guest/no-module.guest.ts' }] },
  {
    name: 'iv-triangle',
    topology: triangle(),
    mesh: { algo: 'BATMAN_IV', gatewayServers: [3] },
    scripts: [{ path: 'test/guest/tables.guest.ts' }, { path: 'test/guest/errors.guest.ts' }, { path: 'test/guest/settings.guest.ts' }],
  },
  {
    name: 'v-diamond',
    topology: diamond(),
    mesh: { algo: 'BATMAN_V', gatewayServers: [4] },
    scripts: [{ path: 'test/guest/tables.guest.ts' }, { path: 'test/guest/settings.guest.ts' }, { path: 'test/guest/cli.guest.ts' }],
  },
  {
    // Multi-hop: five hops end to end. Only the route tables, to keep the VM run short.
    name: 'iv-chain6',
    topology: chain(6),
    mesh: { algo: 'BATMAN_IV' },
    scripts: [{ path: 'test/guest/tables.guest.ts', env: { X0VM_TABLES: 'originators,neighbours' } }, { path: 'test/guest/bridge.guest.ts' }],
  },
  // batman-adv over real mac80211 radios (mac80211_hwsim): the nl80211 station reader. It builds its own namespaces.
  { name: 'wifi-hwsim', scripts: [{ path: 'test/guest/wifi-stations.guest.ts' }] },
];

vmSuite(STEPS, { label: 'test/vm', timeoutMs: 12 * 60_000 });

test.run();
