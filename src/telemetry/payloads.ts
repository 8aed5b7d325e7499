// The JSON documents of the topic contract (README, "Fleet telemetry over MQTT"), version 1. Every payload carries `v`;
// readers ignore fields they do not know, writers only add fields within a version.
import type { ComponentState, EventKind, HealthReport } from '../status/types.ts';
import type { RejectCode } from './command-envelope.ts';

/** x0tta6bl4/<fleet>/<node>/state — retained, QoS 1; the offline one is the Last Will. */
export interface StatePayload {
  v: 1;
  fleet: string;
  node: string;
  state: 'online' | 'offline';
  /** online: 'connected'; offline: 'stopped' (clean shutdown) or 'lost' (Last Will, sent by the broker). */
  reason: 'connected' | 'stopped' | 'lost';
  /** When this connection was made (for 'lost': the time of the connection that was lost). */
  since: string;
  /** Random per agent start: tells a restart from a reconnect, and scopes event `seq`. */
  boot: string;
  version: string;
}

/** x0tta6bl4/<fleet>/<node>/events — QoS 1, not retained, sent in order of `seq`. */
export interface EventPayload {
  v: 1;
  fleet: string;
  node: string;
  boot: string;
  /** 1, 2, 3, ... per boot: a subscriber drops duplicates (QoS 1 is at-least-once) and sees gaps. */
  seq: number;
  ts: string;
  kind: EventKind | string;
  message: string;
}

export interface TelemetryLink {
  neighbour: string;
  iface: string;
  kind: 'tq' | 'throughput';
  /** TQ 0..255 or kbit/s; null while the link has no current sample. */
  metric: number | null;
}

/** x0tta6bl4/<fleet>/<node>/telemetry — QoS 0, retained, every interval; at most MAX_TELEMETRY_BYTES. */
export interface TelemetryPayload {
  v: 1;
  fleet: string;
  node: string;
  ts: string;
  boot: string;
  seq: number;
  agent: { version: string; uptimeS: number; driver: string; dryRun: boolean; core: string | null };
  mesh: {
    iface: string;
    algo: string | null;
    address: string | null;
    interfaces: number;
    neighbours: number;
    originators: number;
    gateways: number;
    gwMode: string | null;
  };
  /** The gateway batman-adv selected, or null. */
  gateway: { originator: string; router: string; iface: string; tq?: number; throughputKbps?: number; downKbps: number; upKbps: number } | null;
  links: TelemetryLink[];
  health: { overall: HealthReport['overall']; problems: { name: string; state: ComponentState; reason: string }[] };
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  memory: { totalKb: number; freeKb: number; agentRssKb: number; agentHeapKb: number };
  learning: Record<string, unknown> | null;
  telemetry: { queued: number; dropped: number; reconnects: number };
  /**
   * Only with the federation on (added within v1: optional, old consumers ignore it). certNotAfter:
   * when this node's fleet certificate expires (ISO time, null if unreadable); quarantinedPeers:
   * peers quarantined fleet-wide by a quorum of votes.
   */
  federation?: { certNotAfter: string | null; quarantinedPeers: number };
  /** Present when something was left out to stay within the size bound. */
  truncated?: { links?: number; problems?: number; learning?: boolean };
}

/** x0tta6bl4/<fleet>/<node>/cmd/<name>/reply — QoS 1, not retained. */
export interface ReplyPayload {
  v: 1;
  fleet: string;
  node: string;
  cmd: string;
  /** The command's nonce, when it could be read: how a sender matches the reply. */
  nonce: string | null;
  ok: boolean;
  code?: RejectCode;
  error?: string;
  result?: unknown;
  signer?: string;
  ts: string;
}
