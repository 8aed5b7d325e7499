// Opens the batman-adv MeshDriver over two netlink bridges: one generic (batadv family) and
// one rtnetlink (to find the mesh interface by name). A missing batman-adv module does not
// fail the open: the driver reports NO_MODULE per call until the module appears.
import { BatadvClient } from '../../netlink/batadv-client.ts';
import { BATADV_FAMILY } from '../../netlink/batadv-protocol.ts';
import { openBridge, type BridgeTransport } from '../../netlink/bridge-transport.ts';
import { NetlinkRequester, type RequesterOptions } from '../../netlink/requester.ts';
import { RtnetlinkClient } from '../../netlink/rtnetlink.ts';
import type { MeshError } from '../driver.ts';
import { BatmanDriver } from './batman-driver.ts';

export interface OpenBatmanDriverOptions {
  /** The batadv mesh interface, e.g. "bat0". */
  meshIfname: string;
  /** Run the bridges in this network namespace (tests, multi-mesh hosts). */
  netns?: string;
  bridgePath?: string;
  /** Per-request deadline, ms (default 5000; give a TCG-emulated guest more). */
  timeoutMs?: number;
  onBackgroundError?: (err: MeshError) => void;
}

export async function openBatmanDriver(opts: OpenBatmanDriverOptions): Promise<BatmanDriver> {
  const common = { ...(opts.netns ? { netns: opts.netns } : {}), ...(opts.bridgePath ? { bridgePath: opts.bridgePath } : {}) };
  const timeout: RequesterOptions = opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {};
  const portOf = (t: BridgeTransport) => () => {
    try {
      return t.ready.portId;
    } catch {
      return undefined; // not (re)started yet: match by sequence number alone
    }
  };
  const genl = await openBridge({ protocol: 'generic', families: [BATADV_FAMILY], ...common });
  let route: BridgeTransport;
  try {
    route = await openBridge({ protocol: 'route', ...common });
  } catch (e) {
    await genl.close();
    throw e;
  }
  return new BatmanDriver({
    meshIfname: opts.meshIfname,
    batadv: () => BatadvClient.open(genl, { ...timeout, portId: portOf(genl) }),
    links: new RtnetlinkClient(new NetlinkRequester(route, { ...timeout, portId: portOf(route) })),
    closeTransports: async () => {
      await Promise.allSettled([genl.close(), route.close()]);
    },
    ...(opts.onBackgroundError ? { onBackgroundError: opts.onBackgroundError } : {}),
  });
}
