// The seam between the netlink codec/clients and whatever carries datagrams to the kernel.
// The real implementation is the bridge process (bridge-transport.ts, native/README.md);
// tests may supply their own. Datagrams are raw netlink bytes in host order, never parsed here.

export interface NetlinkTransport {
  /** Send one datagram holding one or more complete netlink messages. */
  send(datagram: Uint8Array): void;
  /** Every datagram received from the kernel, in order. Returns an unsubscribe. */
  onDatagram(listener: (datagram: Uint8Array) => void): () => void;
  /** The bridge died or was restarted: in-flight requests must fail (MeshError 'TRANSPORT'). */
  onReset(listener: (reason: Error) => void): () => void;
  joinGroup(groupId: number): Promise<void>;
  close(): Promise<void>;
}

export interface BridgeOptions {
  protocol: 'generic' | 'route';
  /** Generic netlink family names the bridge lets through (1..4), e.g. ['batadv']. */
  families?: string[];
  /** Run the bridge inside this network namespace (`ip netns exec`), for tests. */
  netns?: string;
  /** An explicit bridge binary; otherwise see bridge-path.ts. */
  bridgePath?: string;
  /** How long a (re)started bridge may take to report READY. Default 10 s. */
  readyTimeoutMs?: number;
  /** How long a JOIN may take to be answered. Default 5 s. */
  joinTimeoutMs?: number;
  /** Restart backoff after the bridge dies: doubles from min to max. Default 100 ms .. 5 s. */
  restartMinMs?: number;
  restartMaxMs?: number;
}

/** What the bridge reported when it (last) started. */
export interface BridgeReady {
  version: number;
  /** The netlink port id of the bridge's socket: nlmsg_pid of unicast replies. */
  portId: number;
  protocol: 'generic' | 'route';
  families: Map<string, BridgeFamily>;
}

export interface BridgeFamily {
  name: string;
  /** 0 when the family could not be resolved at start (see errno). */
  id: number;
  /** 0, or the positive errno of the failed resolution (2 = ENOENT: module not loaded). */
  errno: number;
  /** Multicast group name -> id. */
  groups: Map<string, number>;
}
