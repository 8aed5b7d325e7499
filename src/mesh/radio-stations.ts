// What a Wi-Fi hard interface's radio knows about each neighbour (nl80211 station statistics),
// read through a netlink bridge of its own, started the first time a wireless interface is asked
// about: a router with only wired mesh links never starts it. A non-wireless interface, or a
// kernel without nl80211, answers null; the radio watch then has nothing to judge.
import { readFile, stat } from 'node:fs/promises';
import { openBridge, type BridgeTransport } from '../netlink/bridge-transport.ts';
import { Nl80211Client, type StationStats } from '../netlink/nl80211-client.ts';
import { NL80211_FAMILY } from '../netlink/nl80211-protocol.ts';

export type { StationStats };

export interface StationReader {
  /** The stations of a wireless interface; null when it is not one, or they cannot be read. */
  stations(ifname: string): Promise<StationStats[] | null>;
  /** Why the last read failed (for /health), or null. */
  readonly problem: string | null;
  close(): Promise<void>;
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const WIRELESS_KEPT_MS = 30_000;

/** A cfg80211 (Wi-Fi) interface has /sys/class/net/<if>/phy80211. */
export async function isWireless(ifname: string): Promise<boolean> {
  if (!IFNAME.test(ifname)) return false;
  return stat(`/sys/class/net/${ifname}/phy80211`).then(() => true, () => false);
}

export function openStationReader(opts: { bridgePath?: string; timeoutMs?: number } = {}): StationReader {
  let bridge: BridgeTransport | null = null;
  let client: Promise<Nl80211Client> | null = null;
  let problem: string | null = null;
  let closed = false;
  // Asked four times a second for every interface with a next hop: whether it is wireless, and
  // its ifindex, do not change while it exists, so both are kept for WIRELESS_KEPT_MS (null: not
  // Wi-Fi) instead of two sysfs reads per call; a re-created interface is seen within that, and
  // a failed dump forgets the entry at once.
  const known = new Map<string, { ifindex: number | null; atMs: number }>();
  const wifiIndex = async (ifname: string): Promise<number | null> => {
    const now = Date.now();
    const k = known.get(ifname);
    if (k && now - k.atMs < WIRELESS_KEPT_MS) return k.ifindex;
    let ifindex: number | null = null;
    if (await isWireless(ifname)) {
      const n = Number((await readFile(`/sys/class/net/${ifname}/ifindex`, 'utf8').catch(() => '')).trim());
      ifindex = Number.isInteger(n) && n > 0 ? n : null;
    }
    if (known.size >= 64) known.clear();
    known.set(ifname, { ifindex, atMs: now });
    return ifindex;
  };
  const connect = (): Promise<Nl80211Client> => {
    client ??= (async () => {
      bridge = await openBridge({ protocol: 'generic', families: [NL80211_FAMILY], ...(opts.bridgePath ? { bridgePath: opts.bridgePath } : {}) });
      const b = bridge;
      return Nl80211Client.open(b, { timeoutMs: opts.timeoutMs ?? 2000, portId: () => b.ready.portId });
    })();
    return client;
  };
  return {
    get problem() {
      return problem;
    },
    async stations(ifname) {
      if (closed) return null;
      const ifindex = await wifiIndex(ifname);
      if (ifindex === null) return null;
      try {
        const stations = await (await connect()).stations(ifindex);
        problem = null;
        return stations;
      } catch (e) {
        // A bridge or family that could not be opened stays so (the rejected promise is kept); a
        // dump that failed is tried again at the next read, the interface looked up afresh.
        known.delete(ifname);
        problem = `${ifname}: ${(e as Error).message}`;
        return null;
      }
    },
    async close() {
      closed = true;
      await client?.then((c) => c.close(), () => {});
      await (bridge as BridgeTransport | null)?.close();
    },
  };
}
