// The status API's documents (schema 1). The LuCI page, the CLI and telemetry read these
// shapes: change them only by adding fields, or bump `schema`.
import type { RoutingAlgo } from '../mesh/driver.ts';
import type { HealingStatus } from '../mapek/healing-status.ts';
import type { EventKind, LinkStatus, MeshSnapshot, StatusEvent } from '../mapek/knowledge.ts';

// The knowledge's shapes are part of these documents; they live with the knowledge, which the
// status room reads (and must not be read by: no import cycle).
export type { EventKind, LinkStatus, MeshSnapshot, StatusEvent };

export type ComponentState = 'ok' | 'degraded' | 'down' | 'disabled';

export interface ComponentHealth {
  name: string;
  state: ComponentState;
  reason: string;
}

export interface HealthReport {
  schema: 1;
  node: string;
  overall: 'ok' | 'degraded' | 'down';
  components: ComponentHealth[];
}

export interface NodeStatus {
  name: string;
  fleet: string;
  version: string;
  uptimeS: number;
  driver: 'simulator' | 'batman-adv';
  meshIf: string;
  algo: RoutingAlgo | null;
  address: string | null;
  dryRun: boolean;
  core: 'wasm' | 'js' | null;
}

export interface StatusReport {
  schema: 1;
  node: NodeStatus;
  health: HealthReport;
  mesh: MeshSnapshot;
  links: LinkStatus[];
  events: StatusEvent[];
  learning: Record<string, unknown> | null;
  federation: Record<string, unknown> | null;
  telemetry: Record<string, unknown> | null;
  /** The self-healing loop (absent from agents older than it, null when healing is off). */
  healing?: HealingStatus | null;
  /** MAC → node name where the agent knows it (src/status/node-names.ts); absent or {} otherwise. */
  names?: Record<string, string>;
}

/** What the status server asks the agent for on each request. */
export interface StatusSource {
  health(): HealthReport;
  status(): StatusReport;
  metrics(): string;
}
